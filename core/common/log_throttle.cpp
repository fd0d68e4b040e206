#include "common/log_throttle.hpp"

namespace opsup::common {

bool LogThrottle::admit(uint64_t &suppressed) {
  std::lock_guard lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (now - window_start_ >= interval_) {
    window_start_ = now;
    logged_in_window_ = 0;
  }
  if (logged_in_window_ >= burst_) {
    ++suppressed_;
    return false;
  }
  ++logged_in_window_;
  suppressed = suppressed_;
  suppressed_ = 0;
  return true;
}

}  // namespace opsup::common
