#include "session/reconnect_backoff.hpp"

#include <gtest/gtest.h>

namespace opsup::session {
namespace {

using std::chrono::milliseconds;

TEST(ReconnectBackoff, CapDoublesUpToTheMaximum) {
  ReconnectBackoff backoff(milliseconds(100), milliseconds(1000), 0.0);
  std::vector<int64_t> delays;
  for (int i = 0; i < 7; ++i)
    delays.push_back(backoff.next_delay().count());
  EXPECT_EQ(delays, (std::vector<int64_t>{100, 200, 400, 800, 1000, 1000, 1000}));
}

TEST(ReconnectBackoff, ResetStartsOver) {
  ReconnectBackoff backoff(milliseconds(100), milliseconds(1000), 0.0);
  backoff.next_delay();
  backoff.next_delay();
  EXPECT_EQ(backoff.attempts(), 2u);
  backoff.reset();
  EXPECT_EQ(backoff.next_delay(), milliseconds(100));
}

TEST(ReconnectBackoff, FullJitterDrawsBetweenZeroAndTheCap) {
  double next_random = 0.0;
  ReconnectBackoff backoff(milliseconds(100), milliseconds(1000), 1.0,
                           [&next_random] { return next_random; });
  next_random = 0.0;
  EXPECT_EQ(backoff.next_delay(), milliseconds(0));
  next_random = 0.5;
  EXPECT_EQ(backoff.next_delay(), milliseconds(100));  // cap 200
  next_random = 0.999;
  EXPECT_EQ(backoff.next_delay(), milliseconds(399));  // cap 400
}

TEST(ReconnectBackoff, PartialJitterKeepsTheLowerPart) {
  double next_random = 0.0;
  ReconnectBackoff backoff(milliseconds(1000), milliseconds(8000), 0.25,
                           [&next_random] { return next_random; });
  EXPECT_EQ(backoff.next_delay(), milliseconds(750));
  next_random = 0.999;
  EXPECT_EQ(backoff.next_delay(), milliseconds(1999));
}

TEST(ReconnectBackoff, RealRandomDelaysStayWithinTheCapAndSpread) {
  ReconnectBackoff backoff(milliseconds(1000), milliseconds(1000), 1.0);
  int64_t low = 1000;
  int64_t high = 0;
  for (int i = 0; i < 200; ++i) {
    const int64_t delay = backoff.next_delay().count();
    ASSERT_GE(delay, 0);
    ASSERT_LE(delay, 1000);
    low = std::min(low, delay);
    high = std::max(high, delay);
  }
  EXPECT_LT(low, 250);  // 200 uniform draws: missing [0, 250) has probability 0.75^200
  EXPECT_GT(high, 750);
}

TEST(ReconnectBackoff, LargeAttemptCountsDoNotOverflow) {
  ReconnectBackoff backoff(milliseconds(500), milliseconds(60000), 0.0);
  for (int i = 0; i < 200; ++i)
    backoff.next_delay();
  EXPECT_EQ(backoff.next_delay(), milliseconds(60000));
}

}  // namespace
}  // namespace opsup::session
