#include "modules/wire_scan.hpp"

#include <gtest/gtest.h>

#include "opamp.pb.h"

namespace opsup::modules {
namespace {

TEST(WireScan, ListsTopLevelFieldsOfARealMessage) {
  opamp::proto::v1::ServerToAgent message;
  message.set_instance_uid("0123456789abcdef");
  message.set_flags(1);
  message.set_capabilities(3);
  message.mutable_custom_message()->set_capability("com.example");
  message.mutable_remote_config()->set_config_hash("h");
  const std::string bytes = message.SerializeAsString();

  EXPECT_EQ(top_level_field_numbers(bytes), (std::vector<uint32_t>{1, 3, 6, 7, 11}));
  const auto fields = scan_wire_fields(bytes);
  ASSERT_TRUE(fields);
  for (const WireField &field : *fields) {
    if (field.number == 1) {
      EXPECT_TRUE(field.length_delimited);
      EXPECT_EQ(field.bytes, "0123456789abcdef");
    }
    if (field.number == 6) {
      EXPECT_FALSE(field.length_delimited);
    }
  }
}

TEST(WireScan, EncodedSpansTileTheMessage) {
  opamp::proto::v1::ComponentHealth health;  // varint, fixed64 and length-delimited fields
  health.set_healthy(true);
  health.set_start_time_unix_nano(123);
  health.set_last_error("e");
  health.set_status("ok");
  const std::string bytes = health.SerializeAsString();
  const auto fields = scan_wire_fields(bytes);
  ASSERT_TRUE(fields);
  std::string joined;
  for (const WireField &field : *fields)
    joined.append(field.encoded);
  EXPECT_EQ(joined, bytes);
  EXPECT_EQ(fields->at(1).encoded.size(), 9u) << "one tag byte and eight fixed64 bytes";
}

TEST(WireScan, EmptyMessageHasNoFields) {
  EXPECT_EQ(top_level_field_numbers(""), std::vector<uint32_t>{});
}

TEST(WireScan, FixedWidthFieldsAreSkipped) {
  opamp::proto::v1::ComponentHealth health;  // start_time_unix_nano is fixed64
  health.set_start_time_unix_nano(123);
  health.set_healthy(true);
  health.set_last_error("e");
  EXPECT_EQ(top_level_field_numbers(health.SerializeAsString()), (std::vector<uint32_t>{1, 2, 3}));
}

TEST(WireScan, MalformedBytesAreRejected) {
  EXPECT_EQ(top_level_field_numbers(std::string("\x0a\x05"
                                                "abc",
                                                5)),
            std::nullopt);                                                       // short
  EXPECT_EQ(top_level_field_numbers(std::string("\x08", 1)), std::nullopt);      // missing varint
  EXPECT_EQ(top_level_field_numbers(std::string("\x00\x01", 2)), std::nullopt);  // field 0
  EXPECT_EQ(top_level_field_numbers(std::string("\x0c", 1)), std::nullopt);      // stray end-group
  EXPECT_EQ(top_level_field_numbers(std::string("\x0a\xff\xff\xff\xff\x0f", 6)), std::nullopt);
}

}  // namespace
}  // namespace opsup::modules
