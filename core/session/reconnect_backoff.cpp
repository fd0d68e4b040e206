#include "session/reconnect_backoff.hpp"

#include <algorithm>
#include <memory>
#include <random>

namespace opsup::session {

ReconnectBackoff::ReconnectBackoff(std::chrono::milliseconds initial, std::chrono::milliseconds max,
                                   double jitter, std::function<double()> random_unit)
    : initial_(std::max(initial, std::chrono::milliseconds(1))),
      max_(std::max(max, initial_)),
      jitter_(std::clamp(jitter, 0.0, 1.0)),
      random_unit_(std::move(random_unit)) {
  if (!random_unit_) {
    auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
    random_unit_ = [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
  }
}

std::chrono::milliseconds ReconnectBackoff::current_cap() const {
  // Doubling stops once the cap reaches max, so this never overflows.
  int64_t cap = initial_.count();
  for (uint32_t i = 0; i < attempts_ && cap < max_.count(); ++i)
    cap *= 2;
  return std::chrono::milliseconds(std::min(cap, static_cast<int64_t>(max_.count())));
}

std::chrono::milliseconds ReconnectBackoff::next_delay() {
  const double cap = static_cast<double>(current_cap().count());
  ++attempts_;
  const double delay = cap * (1.0 - jitter_) + cap * jitter_ * random_unit_();
  return std::chrono::milliseconds(static_cast<int64_t>(delay));
}

}  // namespace opsup::session
