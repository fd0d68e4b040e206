// Rate limiting for log lines a remote peer can trigger at will (bad requests, refused
// bodies, timeouts): at most `burst` lines per `interval`, and the next line let through
// says how many were held back.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>

namespace opsup::common {

class LogThrottle {
 public:
  explicit LogThrottle(std::chrono::milliseconds interval = std::chrono::seconds(10),
                       uint32_t burst = 5)
      : interval_(interval), burst_(burst) {}

  // True when this occurrence should be logged; `suppressed` is then the number of
  // occurrences held back since the last one logged.
  bool admit(uint64_t &suppressed);

 private:
  std::mutex mutex_;
  const std::chrono::milliseconds interval_;
  const uint32_t burst_;
  std::chrono::steady_clock::time_point window_start_{};
  uint32_t logged_in_window_ = 0;
  uint64_t suppressed_ = 0;
};

}  // namespace opsup::common
