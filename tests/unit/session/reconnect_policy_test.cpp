#include "session/reconnect_policy.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace opsup::session {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kHour{3600000};

TEST(ClampServerDelay, KeepsADelayUnderTheMaximum) {
  const ServerDelay result = clamp_server_delay(milliseconds(1500), kHour);
  EXPECT_EQ(result.delay, milliseconds(1500));
  EXPECT_FALSE(result.clamped);
}

TEST(ClampServerDelay, ClampsADelayOverTheMaximum) {
  // Retry-After: 99999999999 (seconds), as the transport caps it (100 years).
  const ServerDelay result = clamp_server_delay(milliseconds(3153600000000), kHour);
  EXPECT_EQ(result.delay, kHour);
  EXPECT_TRUE(result.clamped);
}

TEST(ClampServerDelay, TheMaximumItselfIsNotClamped) {
  const ServerDelay result = clamp_server_delay(kHour, kHour);
  EXPECT_EQ(result.delay, kHour);
  EXPECT_FALSE(result.clamped);
}

TEST(ClampServerDelay, NegativeCountsAsZero) {
  EXPECT_EQ(clamp_server_delay(milliseconds(-5), kHour).delay, milliseconds(0));
}

TEST(ClampServerDelayNs, RoundsUpToWholeMilliseconds) {
  EXPECT_EQ(clamp_server_delay_ns(0, kHour).delay, milliseconds(0));
  EXPECT_EQ(clamp_server_delay_ns(1, kHour).delay, milliseconds(1));
  EXPECT_EQ(clamp_server_delay_ns(1000000, kHour).delay, milliseconds(1));
  EXPECT_EQ(clamp_server_delay_ns(1000001, kHour).delay, milliseconds(2));
  EXPECT_FALSE(clamp_server_delay_ns(1000001, kHour).clamped);
}

TEST(ClampServerDelayNs, TheLargestValuesDoNotOverflow) {
  // 2^64-1 and INT64_MAX ns once became about 9.2e12 ms, which overflowed the timer and
  // reconnected at once.
  for (const uint64_t ns :
       {std::numeric_limits<uint64_t>::max(),
        static_cast<uint64_t>(std::numeric_limits<int64_t>::max()), uint64_t{1} << 62}) {
    const ServerDelay result = clamp_server_delay_ns(ns, kHour);
    EXPECT_EQ(result.delay, kHour) << ns;
    EXPECT_TRUE(result.clamped) << ns;
  }
}

TEST(ClampServerDelayNs, ExactlyTheMaximumIsNotClamped) {
  const ServerDelay result = clamp_server_delay_ns(uint64_t{3600000} * 1000000, kHour);
  EXPECT_EQ(result.delay, kHour);
  EXPECT_FALSE(result.clamped);
}

TEST(ConnectionWasHealthy, AnUpgradeAloneIsNotHealthy) {
  EXPECT_FALSE(connection_was_healthy(false, milliseconds(0)));
  EXPECT_FALSE(connection_was_healthy(false, kHealthyConnectionAfter - milliseconds(1)));
}

TEST(ConnectionWasHealthy, AGoodMessageIsHealthy) {
  EXPECT_TRUE(connection_was_healthy(true, milliseconds(0)));
}

TEST(ConnectionWasHealthy, StayingUpLongEnoughIsHealthy) {
  EXPECT_TRUE(connection_was_healthy(false, kHealthyConnectionAfter));
  EXPECT_TRUE(connection_was_healthy(false, milliseconds(5), milliseconds(5)));
  EXPECT_FALSE(connection_was_healthy(false, milliseconds(4), milliseconds(5)));
}

}  // namespace
}  // namespace opsup::session
