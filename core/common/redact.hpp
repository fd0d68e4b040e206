// Secrets (header values, tokens, keys, passwords) never reach a log line as is.
#pragma once

#include <string>
#include <string_view>

namespace opsup::common {

inline constexpr std::string_view kRedacted = "[REDACTED]";

// "[REDACTED]" for a non-empty secret, "" for an empty one (so "unset" stays visible).
std::string redact(std::string_view secret);

// For a header: the value redacted unless the header name is known to carry no secret
// (Content-Type, User-Agent, Accept...). Names compare case-insensitively.
std::string redact_header_value(std::string_view header_name, std::string_view value);

// A URL fit for logs: userinfo ("user:password@") becomes "[REDACTED]@"; the rest is kept.
std::string url_for_logs(std::string_view url);

}  // namespace opsup::common
