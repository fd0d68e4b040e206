#include "session/reconnect_policy.hpp"

#include <algorithm>

namespace opsup::session {

using std::chrono::milliseconds;

ServerDelay clamp_server_delay(milliseconds requested, milliseconds max_delay) {
  const milliseconds ceiling = std::max(max_delay, milliseconds(0));
  const milliseconds wanted = std::max(requested, milliseconds(0));
  if (wanted > ceiling)
    return ServerDelay{ceiling, true};
  return ServerDelay{wanted, false};
}

ServerDelay clamp_server_delay_ns(uint64_t requested_ns, milliseconds max_delay) {
  constexpr uint64_t kNanosPerMilli = 1000000;
  // Rounded up without overflow: at most ceil((2^64-1) / 10^6), well inside int64.
  const uint64_t millis = requested_ns / kNanosPerMilli + (requested_ns % kNanosPerMilli != 0);
  const auto ceiling = static_cast<uint64_t>(std::max(max_delay, milliseconds(0)).count());
  if (millis > ceiling)
    return ServerDelay{milliseconds(static_cast<int64_t>(ceiling)), true};
  return ServerDelay{milliseconds(static_cast<int64_t>(millis)), false};
}

bool connection_was_healthy(bool healthy_message_received, milliseconds connected_for,
                            milliseconds healthy_after) {
  return healthy_message_received || connected_for >= healthy_after;
}

}  // namespace opsup::session
