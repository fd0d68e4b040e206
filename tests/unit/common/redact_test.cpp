#include "common/redact.hpp"

#include <gtest/gtest.h>

namespace opsup::common {
namespace {

TEST(UrlForLogs, UserinfoIsRedactedAndTheRestKept) {
  EXPECT_EQ(url_for_logs("wss://user:s3cret@opamp.example.com:4320/v1/opamp?x=1"),
            "wss://[REDACTED]@opamp.example.com:4320/v1/opamp?x=1");
  EXPECT_EQ(url_for_logs("http://token@[::1]:80/"), "http://[REDACTED]@[::1]:80/");
}

TEST(UrlForLogs, AnAtSignOutsideTheAuthorityIsNotUserinfo) {
  EXPECT_EQ(url_for_logs("ws://127.0.0.1:4320/v1/opamp?owner=a@b"),
            "ws://127.0.0.1:4320/v1/opamp?owner=a@b");
  EXPECT_EQ(url_for_logs("ws://host/path@x"), "ws://host/path@x");
}

TEST(UrlForLogs, AUrlWithoutUserinfoIsUnchanged) {
  EXPECT_EQ(url_for_logs("ws://127.0.0.1:4320/v1/opamp"), "ws://127.0.0.1:4320/v1/opamp");
  EXPECT_EQ(url_for_logs(""), "");
}

TEST(RedactHeaderValue, OnlyHeadersKnownToBePublicAreShown) {
  EXPECT_EQ(redact_header_value("content-type", "application/x-protobuf"),
            "application/x-protobuf");
  EXPECT_EQ(redact_header_value("Authorization", "Bearer abc"), kRedacted);
  EXPECT_EQ(redact_header_value("X-Api-Key", "abc"), kRedacted);
  EXPECT_EQ(redact_header_value("X-Api-Key", ""), "");
}

}  // namespace
}  // namespace opsup::common
