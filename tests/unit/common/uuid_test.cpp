#include "common/uuid.hpp"

#include <chrono>
#include <set>

#include <gtest/gtest.h>

namespace opsup::common {
namespace {

TEST(Uuid, GeneratedV7HasVersionVariantAndCurrentTimestamp) {
  const auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const Uuid uuid = generate_uuid_v7();
  const auto after = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  EXPECT_EQ(uuid[6] >> 4, 7);
  EXPECT_EQ(uuid[8] >> 6, 2);
  int64_t millis = 0;
  for (int i = 0; i < 6; ++i)
    millis = millis << 8 | uuid[i];
  EXPECT_GE(millis, before);
  EXPECT_LE(millis, after);
}

TEST(Uuid, GeneratedValuesDiffer) {
  std::set<Uuid> seen;
  for (int i = 0; i < 1000; ++i)
    seen.insert(generate_uuid_v7());
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(Uuid, FormatAndParseRoundTrip) {
  const Uuid uuid = generate_uuid_v7();
  const std::string text = format_uuid(uuid);
  ASSERT_EQ(text.size(), 36u);
  EXPECT_EQ(text[8], '-');
  EXPECT_EQ(text[23], '-');
  EXPECT_EQ(parse_uuid(text), uuid);
}

TEST(Uuid, ParsesTheFormsGoAccepts) {
  const Uuid expected = {0x01, 0x90, 0xf1, 0xa8, 0x6b, 0x1c, 0x7c, 0x3e,
                         0x9d, 0x1f, 0x2b, 0x5c, 0x4e, 0x6a, 0x7f, 0x80};
  EXPECT_EQ(parse_uuid("0190f1a8-6b1c-7c3e-9d1f-2b5c4e6a7f80"), expected);
  EXPECT_EQ(parse_uuid("0190F1A8-6B1C-7C3E-9D1F-2B5C4E6A7F80"), expected);
  EXPECT_EQ(parse_uuid("urn:uuid:0190f1a8-6b1c-7c3e-9d1f-2b5c4e6a7f80"), expected);
  EXPECT_EQ(parse_uuid("{0190f1a8-6b1c-7c3e-9d1f-2b5c4e6a7f80}"), expected);
  EXPECT_EQ(parse_uuid("0190f1a86b1c7c3e9d1f2b5c4e6a7f80"), expected);
  EXPECT_EQ(format_uuid(expected), "0190f1a8-6b1c-7c3e-9d1f-2b5c4e6a7f80");
}

TEST(Uuid, RejectsMalformedText) {
  EXPECT_EQ(parse_uuid(""), std::nullopt);
  EXPECT_EQ(parse_uuid("not-a-uuid"), std::nullopt);
  EXPECT_EQ(parse_uuid("0190f1a8-6b1c-7c3e-9d1f-2b5c4e6a7f8"), std::nullopt);
  EXPECT_EQ(parse_uuid("0190f1a8-6b1c-7c3e-9d1f-2b5c4e6a7f8g"), std::nullopt);
  EXPECT_EQ(parse_uuid("0190f1a86-b1c-7c3e-9d1f-2b5c4e6a7f80"), std::nullopt);
}

TEST(Uuid, ParsesUlidsWrittenByOlderSupervisors) {
  // Decoded independently (Crockford base32, 128 bits big-endian).
  const auto parsed = parse_instance_id("01HW3GS9NWD840C5C2BZS3KYPW");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(to_hex(std::string_view(reinterpret_cast<const char *>(parsed->data()), 16)),
            "018f070ca6bc6a080615825ff239fadc");
  EXPECT_EQ(parse_ulid("81HW3GS9NWD840C5C2BZS3KYPW"), std::nullopt);  // > 128 bits
  EXPECT_EQ(parse_ulid("01HW3GS9NWD840C5C2BZS3KYP!"), std::nullopt);
  EXPECT_EQ(parse_ulid("01HW3GS9NWD840C5C2BZS3KYP"), std::nullopt);
}

TEST(Uuid, HexRoundTrip) {
  EXPECT_EQ(to_hex(std::string("\x00\xff\x10", 3)), "00ff10");
  EXPECT_EQ(from_hex("00FF10"), std::string("\x00\xff\x10", 3));
  EXPECT_EQ(from_hex(""), std::string());
  EXPECT_EQ(from_hex("abc"), std::nullopt);
  EXPECT_EQ(from_hex("zz"), std::nullopt);
}

}  // namespace
}  // namespace opsup::common
