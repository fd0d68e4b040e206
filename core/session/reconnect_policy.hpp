// The rules that keep a broken or hostile server from flooding or silencing the
// supervisor: server-given delays are clamped to a configured maximum, and the reconnect
// backoff starts over only after a connection proved healthy.
#pragma once

#include <chrono>
#include <cstdint>

namespace opsup::session {

// A delay the server asked for (Retry-After, retry_after_nanoseconds), after clamping.
struct ServerDelay {
  std::chrono::milliseconds delay{0};
  bool clamped = false;  // the server asked for more than the maximum
};

// `requested`, but never more than `max_delay` (negative counts as 0).
ServerDelay clamp_server_delay(std::chrono::milliseconds requested,
                               std::chrono::milliseconds max_delay);

// retry_after_nanoseconds rounded up to whole milliseconds, clamped to `max_delay`; any
// uint64 value is safe (2^64-1 ns is about 584 years, far beyond the steady clock).
ServerDelay clamp_server_delay_ns(uint64_t requested_ns, std::chrono::milliseconds max_delay);

// A connection that stays up this long counts as healthy even if the server sent nothing.
inline constexpr std::chrono::milliseconds kHealthyConnectionAfter{30000};

// Whether a connection that ended should reset the backoff: it carried at least one
// ServerToAgent that decoded and was not an error response, or it stayed up for
// `healthy_after`. An upgrade or HTTP 2xx alone is not enough, so a server that accepts
// and then sends garbage is retried with a growing delay.
bool connection_was_healthy(bool healthy_message_received, std::chrono::milliseconds connected_for,
                            std::chrono::milliseconds healthy_after = kHealthyConnectionAfter);

}  // namespace opsup::session
