// The memory all request bodies of one listener may hold at once: each session reserves a
// body's bytes before reading it and gives them back when the body has been handed on.
#pragma once

#include <atomic>
#include <cstddef>

namespace opsup::transport::internal {

class BodyBudget {
 public:
  explicit BodyBudget(std::size_t limit_bytes) : limit_bytes_(limit_bytes) {}

  // Takes `bytes` from the budget; false (and nothing taken) when they do not fit.
  bool try_reserve(std::size_t bytes) {
    std::size_t used = used_bytes_.load(std::memory_order_relaxed);
    do {
      if (bytes > limit_bytes_ - used)
        return false;
    } while (!used_bytes_.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed));
    return true;
  }
  void release(std::size_t bytes) { used_bytes_.fetch_sub(bytes, std::memory_order_relaxed); }

  std::size_t limit_bytes() const { return limit_bytes_; }
  std::size_t used_bytes() const { return used_bytes_.load(std::memory_order_relaxed); }

 private:
  const std::size_t limit_bytes_;
  std::atomic<std::size_t> used_bytes_{0};
};

}  // namespace opsup::transport::internal
