#include "stored_status.hpp"

#include <gtest/gtest.h>

namespace opsup::connection_settings {
namespace {

TEST(ConnectionSettingsStoredStatus, RoundTripsThroughYaml) {
  const StoredStatus status{3, std::string("\x01\xff", 2), "refused: \"quoted\"\nsecond line"};
  const auto parsed = parse_status_yaml(status_yaml(status));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->status, 3);
  EXPECT_EQ(parsed->hash, status.hash);
  EXPECT_EQ(parsed->error_message, status.error_message);
}

TEST(ConnectionSettingsStoredStatus, UnusableValuesAreNotRead) {
  EXPECT_FALSE(parse_status_yaml("[1, 2]"));
  EXPECT_FALSE(parse_status_yaml("{status: 9}"));
  EXPECT_FALSE(parse_status_yaml("{status: 1, last_connection_settings_hash: xyz}"));
}

}  // namespace
}  // namespace opsup::connection_settings
