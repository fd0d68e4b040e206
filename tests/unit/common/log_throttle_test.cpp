// LogThrottle: a burst goes through, the rest is held back and counted, and the first line
// of a new window reports how many were held back.
#include <gtest/gtest.h>

#include "common/log_throttle.hpp"
#include "support/eventually.hpp"

namespace opsup::common {
namespace {

using namespace std::chrono_literals;

TEST(LogThrottleTest, LetsABurstThroughAndCountsWhatItHoldsBack) {
  LogThrottle throttle(std::chrono::hours(1), 3);
  uint64_t suppressed = 99;
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(throttle.admit(suppressed));
    EXPECT_EQ(suppressed, 0u);
  }
  for (int i = 0; i < 10; ++i)
    EXPECT_FALSE(throttle.admit(suppressed));
}

TEST(LogThrottleTest, ANewWindowReportsTheLinesHeldBack) {
  LogThrottle throttle(50ms, 1);
  uint64_t suppressed = 0;
  ASSERT_TRUE(throttle.admit(suppressed));
  std::size_t held_back = 0;
  uint64_t reported = 0;
  // The window ends after 50 ms; a generous deadline for a loaded machine.
  EXPECT_TRUE(opsup::testing::eventually(
      [&] {
        if (!throttle.admit(suppressed)) {
          ++held_back;
          return false;
        }
        reported = suppressed;
        return true;
      },
      30s, 10ms));
  EXPECT_EQ(reported, held_back);
}

}  // namespace
}  // namespace opsup::common
