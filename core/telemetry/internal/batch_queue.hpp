// The bounded queue in front of an exporter: records wait here until a batch is full or
// the schedule delay passes; a record that finds the queue full is dropped and counted.
// Thread-safe: log records arrive from any thread that logs.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

namespace opsup::telemetry::internal {

template <class T>
class BatchQueue {
 public:
  enum class Pushed {
    kQueued,      // behind others; a timer or a batch is already on its way
    kFirst,       // the queue was empty: start the schedule delay
    kBatchReady,  // a full batch waits: export now
    kDropped,     // the queue was full
  };

  BatchQueue(std::size_t max_queue_size, std::size_t max_batch_size)
      : max_queue_size_(std::max<std::size_t>(max_queue_size, 1)),
        max_batch_size_(std::clamp<std::size_t>(max_batch_size, 1, max_queue_size_)) {}

  Pushed push(T item) {
    std::lock_guard lock(mutex_);
    if (items_.size() >= max_queue_size_) {
      ++dropped_;
      return Pushed::kDropped;
    }
    items_.push_back(std::move(item));
    if (items_.size() == max_batch_size_)
      return Pushed::kBatchReady;
    return items_.size() == 1 ? Pushed::kFirst : Pushed::kQueued;
  }

  // Up to max_batch_size records, oldest first.
  std::vector<T> take_batch() { return take(max_batch_size_); }
  // Everything queued (the last export at shutdown).
  std::vector<T> take_all() { return take(max_queue_size_); }

  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return items_.size();
  }
  bool batch_ready() const {
    std::lock_guard lock(mutex_);
    return items_.size() >= max_batch_size_;
  }
  // Records refused because the queue was full, since the start.
  uint64_t dropped() const {
    std::lock_guard lock(mutex_);
    return dropped_;
  }

 private:
  std::vector<T> take(std::size_t limit) {
    std::lock_guard lock(mutex_);
    const std::size_t count = std::min(limit, items_.size());
    std::vector<T> batch;
    batch.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
      batch.push_back(std::move(items_.front()));
      items_.pop_front();
    }
    return batch;
  }

  mutable std::mutex mutex_;
  const std::size_t max_queue_size_;
  const std::size_t max_batch_size_;
  std::deque<T> items_;
  uint64_t dropped_ = 0;
};

}  // namespace opsup::telemetry::internal
