#include "collector/restart_backoff.hpp"

#include <algorithm>

namespace opsup::collector {

RestartBackoff::RestartBackoff(std::chrono::milliseconds initial, std::chrono::milliseconds max,
                               std::chrono::milliseconds stable_after)
    : initial_(initial), max_(std::max(initial, max)), stable_after_(stable_after) {}

std::chrono::milliseconds RestartBackoff::after_exit(std::chrono::milliseconds run_time) {
  if (run_time >= stable_after_)
    consecutive_exits_ = 0;
  std::chrono::milliseconds delay = initial_;
  for (std::uint32_t i = 0; i < consecutive_exits_ && delay < max_; ++i)
    delay *= 2;
  ++consecutive_exits_;
  return std::min(delay, max_);
}

}  // namespace opsup::collector
