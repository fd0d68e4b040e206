// Go time.Duration text ("5s", "1m30s", "250ms", "1.5h", "-2us"), as upstream configs write it.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <variant>

namespace opsup::config {

using Duration = std::chrono::nanoseconds;

// Parses like Go's time.ParseDuration: a signed sequence of decimal numbers, each with an
// optional fraction and a unit (ns, us, µs, ms, s, m, h); "0" needs no unit. On failure
// the result holds a message saying why (no location).
std::variant<Duration, std::string> parse_go_duration(std::string_view text);

// Formats like Go's Duration.String(): "0s", "250ms", "1.5s", "1m30s", "1h0m0s".
std::string format_go_duration(Duration duration);

}  // namespace opsup::config
