// Retry-After header values: delay-seconds or an HTTP-date (RFC 9110 section 10.2.3).
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace opsup::transport::internal {

// The delay the value asks for, counted from `now`; a date in the past gives 0.
// nullopt when the value is neither form.
std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now);

}  // namespace opsup::transport::internal
