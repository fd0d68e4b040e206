#include "telemetry/internal/batch_queue.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>

namespace opsup::telemetry::internal {
namespace {

using Pushed = BatchQueue<int>::Pushed;

TEST(BatchQueue, TheFirstRecordStartsTheDelayAndAFullBatchAsksForAnExport) {
  BatchQueue<int> queue(10, 3);
  EXPECT_EQ(queue.push(1), Pushed::kFirst);
  EXPECT_EQ(queue.push(2), Pushed::kQueued);
  EXPECT_FALSE(queue.batch_ready());
  EXPECT_EQ(queue.push(3), Pushed::kBatchReady);
  EXPECT_TRUE(queue.batch_ready());
}

TEST(BatchQueue, BatchesLeaveOldestFirstAndNoLargerThanTheBatchSize) {
  BatchQueue<int> queue(10, 3);
  for (int i = 0; i < 7; ++i)
    queue.push(i);
  EXPECT_EQ(queue.take_batch(), (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(queue.take_batch(), (std::vector<int>{3, 4, 5}));
  EXPECT_EQ(queue.take_batch(), (std::vector<int>{6}));
  EXPECT_TRUE(queue.take_batch().empty());
  EXPECT_EQ(queue.push(9), Pushed::kFirst);  // empty again: a new delay starts
}

TEST(BatchQueue, AFullQueueDropsAndCountsWhatDoesNotFit) {
  BatchQueue<int> queue(4, 2);
  for (int i = 0; i < 4; ++i)
    EXPECT_NE(queue.push(i), Pushed::kDropped);
  EXPECT_EQ(queue.push(4), Pushed::kDropped);
  EXPECT_EQ(queue.push(5), Pushed::kDropped);
  EXPECT_EQ(queue.dropped(), 2u);
  EXPECT_EQ(queue.size(), 4u);
  EXPECT_EQ(queue.take_all(), (std::vector<int>{0, 1, 2, 3}));  // the first ones are kept
  EXPECT_NE(queue.push(6), Pushed::kDropped);
  EXPECT_EQ(queue.dropped(), 2u);
}

TEST(BatchQueue, ABatchSizeAboveTheQueueSizeIsTheQueueSize) {
  BatchQueue<int> queue(2, 100);
  queue.push(1);
  EXPECT_EQ(queue.push(2), Pushed::kBatchReady);
}

TEST(BatchQueue, RecordsFromManyThreadsAreQueuedOrCountedNeverLost) {
  BatchQueue<std::string> queue(1000, 100);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&queue] {
      for (int i = 0; i < 500; ++i)
        queue.push("record");
    });
  }
  for (auto &thread : threads)
    thread.join();
  EXPECT_EQ(queue.size(), 1000u);
  EXPECT_EQ(queue.dropped(), 1000u);
}

}  // namespace
}  // namespace opsup::telemetry::internal
