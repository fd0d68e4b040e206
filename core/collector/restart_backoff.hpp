// How long to wait before restarting a Collector that exited on its own: doubling from
// `initial` up to `max` with each exit, and back to `initial` once a run has lasted
// `stable_after` (a crash loop backs off; an occasional crash restarts quickly). The Go
// supervisor waits a fixed 5 s, crash loop or not.
#pragma once

#include <chrono>
#include <cstdint>

namespace opsup::collector {

class RestartBackoff {
 public:
  RestartBackoff(std::chrono::milliseconds initial, std::chrono::milliseconds max,
                 std::chrono::milliseconds stable_after);

  // The delay before the next start, given how long the run that just ended lasted.
  std::chrono::milliseconds after_exit(std::chrono::milliseconds run_time);
  std::uint32_t consecutive_exits() const { return consecutive_exits_; }

 private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds max_;
  std::chrono::milliseconds stable_after_;
  std::uint32_t consecutive_exits_ = 0;
};

}  // namespace opsup::collector
