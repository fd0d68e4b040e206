// Exponential reconnect backoff with jitter: the cap doubles from `initial` up to `max`
// with each failed attempt; each delay is drawn uniformly from the top `jitter` fraction
// of the cap (jitter 1.0 is "full jitter": anywhere in [0, cap]).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace opsup::session {

class ReconnectBackoff {
 public:
  // `random_unit` returns values in [0, 1); the default draws from a seeded PRNG.
  ReconnectBackoff(std::chrono::milliseconds initial, std::chrono::milliseconds max, double jitter,
                   std::function<double()> random_unit = {});

  std::chrono::milliseconds next_delay();
  // The cap the next delay is drawn under.
  std::chrono::milliseconds current_cap() const;
  void reset() { attempts_ = 0; }
  uint32_t attempts() const { return attempts_; }

 private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds max_;
  double jitter_;
  std::function<double()> random_unit_;
  uint32_t attempts_ = 0;
};

}  // namespace opsup::session
