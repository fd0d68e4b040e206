#include "collector/restart_backoff.hpp"

#include <gtest/gtest.h>

namespace opsup::collector {
namespace {

using std::chrono::milliseconds;

TEST(RestartBackoff, DoublesUpToTheMaximumWhileRunsAreShort) {
  RestartBackoff backoff(milliseconds(100), milliseconds(1000), milliseconds(60000));
  std::vector<long> delays;
  for (int i = 0; i < 6; ++i)
    delays.push_back(backoff.after_exit(milliseconds(50)).count());
  EXPECT_EQ(delays, (std::vector<long>{100, 200, 400, 800, 1000, 1000}));
  EXPECT_EQ(backoff.consecutive_exits(), 6u);
}

TEST(RestartBackoff, AStableRunStartsOverFromTheInitialDelay) {
  RestartBackoff backoff(milliseconds(100), milliseconds(1000), milliseconds(60000));
  backoff.after_exit(milliseconds(10));
  backoff.after_exit(milliseconds(10));
  EXPECT_EQ(backoff.after_exit(milliseconds(10)).count(), 400);
  EXPECT_EQ(backoff.after_exit(milliseconds(60000)).count(), 100);
  EXPECT_EQ(backoff.after_exit(milliseconds(10)).count(), 200);
}

}  // namespace
}  // namespace opsup::collector
