#include <gtest/gtest.h>

#include <string>

#include "modules/wire_scan.hpp"
#include "opamp.pb.h"

namespace opsup::modules {
namespace {

using namespace std::string_literals;

std::string problem_of(const std::string &bytes, int max_depth = 100) {
  return find_wire_problem(bytes, max_depth).value_or("(none)");
}

TEST(WireProblem, AWellFormedMessageHasNone) {
  opamp::proto::v1::ServerToAgent message;
  message.set_instance_uid("0123456789abcdef");
  message.set_flags(1);
  message.mutable_remote_config()->mutable_config()->mutable_config_map()->insert(
      {"a.yaml", opamp::proto::v1::AgentConfigObject()});
  message.mutable_custom_message()->set_data("text that is not a message");
  EXPECT_EQ(find_wire_problem(message.SerializeAsString()), std::nullopt);
  EXPECT_EQ(find_wire_problem(""), std::nullopt);
}

TEST(WireProblem, NamesTheProblemAndWhereItIs) {
  EXPECT_EQ(problem_of("\x08"s), "truncated varint in field 1 at byte 0");
  EXPECT_EQ(problem_of("\x08\x01\x30\xff"s), "truncated varint in field 6 at byte 2");
  EXPECT_EQ(problem_of("\x80"s), "truncated tag at byte 0");
  EXPECT_EQ(problem_of("\x00\x01"s), "field number 0 at byte 0");
  EXPECT_EQ(problem_of("\x0e"s), "invalid wire type 6 (field 1) at byte 0");
  EXPECT_EQ(problem_of("\x0f"s), "invalid wire type 7 (field 1) at byte 0");
  EXPECT_EQ(problem_of("\x09\x01\x02"s), "truncated fixed64 field 1 at byte 0");
  EXPECT_EQ(problem_of("\x0d\x01"s), "truncated fixed32 field 1 at byte 0");
  EXPECT_EQ(problem_of("\x0a\x05"
                       "abc"s),
            "field 1 needs 5 bytes, only 3 left at byte 0");
  EXPECT_EQ(problem_of("\x0a"s), "truncated length of field 1 at byte 0");
  EXPECT_EQ(problem_of("\x0c"s), "end of group 1 without its start at byte 0");
  EXPECT_EQ(problem_of("\x0b"s), "group 1 not closed at byte 1");
  EXPECT_EQ(problem_of("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"s),
            "varint longer than 10 bytes in field 1 at byte 0");
}

// `levels` messages nested in field 1 of each other, innermost holding a varint.
std::string nested(int levels) {
  std::string bytes = "\x08\x01"s;
  for (int i = 0; i < levels; ++i) {
    std::string outer = "\x0a"s;
    outer.push_back(static_cast<char>(bytes.size() < 128 ? bytes.size() : 0));
    if (bytes.size() >= 128) {
      outer.pop_back();
      std::size_t size = bytes.size();
      while (size >= 0x80) {
        outer.push_back(static_cast<char>(0x80 | (size & 0x7f)));
        size >>= 7;
      }
      outer.push_back(static_cast<char>(size));
    }
    bytes = outer + bytes;
  }
  return bytes;
}

TEST(WireProblem, FindsNestingDeeperThanTheLimit) {
  EXPECT_EQ(find_wire_problem(nested(100)), std::nullopt);
  EXPECT_EQ(problem_of(nested(101)),
            "messages nested deeper than 100 levels (the field at byte 0 starts the chain)");
  EXPECT_EQ(find_wire_problem(nested(3), 3), std::nullopt);
  EXPECT_NE(problem_of(nested(4), 3).find("nested deeper than 3"), std::string::npos);
}

TEST(WireProblem, AStringThatIsNotAMessageIsNotLookedInto) {
  // "\xff" inside field 1 would be a truncated tag if it were a message; as bytes it is fine.
  EXPECT_EQ(find_wire_problem("\x0a\x01\xff"s), std::nullopt);
}

}  // namespace
}  // namespace opsup::modules
