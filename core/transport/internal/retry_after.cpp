#include "transport/internal/retry_after.hpp"

#include <charconv>
#include <ctime>
#include <string>

namespace opsup::transport::internal {

namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

// IMF-fixdate first, then the two obsolete forms HTTP still asks recipients to accept.
std::optional<std::time_t> parse_http_date(std::string_view text) {
  static constexpr const char *kFormats[] = {
      "%a, %d %b %Y %H:%M:%S GMT",  // Sun, 06 Nov 1994 08:49:37 GMT
      "%A, %d-%b-%y %H:%M:%S GMT",  // Sunday, 06-Nov-94 08:49:37 GMT
      "%a %b %e %H:%M:%S %Y",       // Sun Nov  6 08:49:37 1994
  };
  const std::string copy(text);
  for (const char *format : kFormats) {
    std::tm parts{};
    const char *end = strptime(copy.c_str(), format, &parts);
    if (end != nullptr && *end == '\0')
      return timegm(&parts);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now) {
  value = trim(value);
  if (value.empty())
    return std::nullopt;
  if (value.front() >= '0' && value.front() <= '9') {
    uint64_t seconds = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc() || end != value.data() + value.size())
      return std::nullopt;
    constexpr uint64_t kMaxSeconds = 100ULL * 365 * 24 * 3600;  // avoid overflow
    return std::chrono::seconds(std::min(seconds, kMaxSeconds));
  }
  auto date = parse_http_date(value);
  if (!date)
    return std::nullopt;
  auto delay = std::chrono::system_clock::from_time_t(*date) - now;
  if (delay < std::chrono::milliseconds(0))
    return std::chrono::milliseconds(0);
  return std::chrono::duration_cast<std::chrono::milliseconds>(delay);
}

}  // namespace opsup::transport::internal
