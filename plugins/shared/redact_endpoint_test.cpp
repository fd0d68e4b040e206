// Endpoints in log lines: the userinfo goes, the rest stays.
#include <gtest/gtest.h>

#include "shared/redact_endpoint.hpp"

namespace opsup::plugins {
namespace {

TEST(RedactEndpoint, HidesTheUserinfoOnly) {
  EXPECT_EQ(redact_endpoint("https://user:pw@host:1/v1"), "https://***@host:1/v1");
  EXPECT_EQ(redact_endpoint("user:pw@host:1"), "***@host:1");
  EXPECT_EQ(redact_endpoint("https://host:1/v1?to=a@b"), "https://host:1/v1?to=a@b");
  EXPECT_EQ(redact_endpoint("http://host"), "http://host");
}

}  // namespace
}  // namespace opsup::plugins
