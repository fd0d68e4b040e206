#include "config/duration.hpp"

#include <cstdint>
#include <utility>

namespace opsup::config {
namespace {

constexpr uint64_t kMaxNanos = uint64_t{1} << 63;  // Go allows |d| up to this (negative only)

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

uint64_t unit_nanos(std::string_view unit) {
  if (unit == "ns")
    return 1;
  if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs")
    return 1'000;  // µ (U+00B5, U+03BC)
  if (unit == "ms")
    return 1'000'000;
  if (unit == "s")
    return 1'000'000'000;
  if (unit == "m")
    return 60'000'000'000;
  if (unit == "h")
    return 3'600'000'000'000;
  return 0;
}

// ".25" for value=250 with precision 3 (trailing zeros dropped); "" when no fraction.
std::string fraction_text(uint64_t value, int precision) {
  std::string digits(static_cast<std::size_t>(precision), '0');
  for (int i = precision - 1; i >= 0; --i) {
    digits[static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  while (!digits.empty() && digits.back() == '0')
    digits.pop_back();
  return digits.empty() ? std::string() : "." + digits;
}

uint64_t power_of_ten(int exponent) {
  uint64_t value = 1;
  for (int i = 0; i < exponent; ++i)
    value *= 10;
  return value;
}

}  // namespace

std::variant<Duration, std::string> parse_go_duration(std::string_view text) {
  std::string quoted = "\"";
  quoted.append(text).append("\"");
  std::string_view rest = text;
  bool negative = false;
  if (!rest.empty() && (rest.front() == '-' || rest.front() == '+')) {
    negative = rest.front() == '-';
    rest.remove_prefix(1);
  }
  if (rest == "0")
    return Duration{0};
  if (rest.empty())
    return "invalid duration " + quoted;

  uint64_t total = 0;
  while (!rest.empty()) {
    if (!(rest.front() == '.' || is_digit(rest.front())))
      return "invalid duration " + quoted;
    uint64_t whole = 0;
    bool has_whole = false;
    while (!rest.empty() && is_digit(rest.front())) {
      const uint64_t digit = static_cast<uint64_t>(rest.front() - '0');
      if (whole > (kMaxNanos - digit) / 10)
        return "invalid duration " + quoted + " (overflow)";
      whole = whole * 10 + digit;
      has_whole = true;
      rest.remove_prefix(1);
    }
    uint64_t fraction = 0;
    double scale = 1.0;
    bool has_fraction = false;
    if (!rest.empty() && rest.front() == '.') {
      rest.remove_prefix(1);
      bool overflowed = false;
      while (!rest.empty() && is_digit(rest.front())) {
        has_fraction = true;
        const uint64_t digit = static_cast<uint64_t>(rest.front() - '0');
        if (!overflowed && fraction <= (kMaxNanos - 1 - digit) / 10) {
          fraction = fraction * 10 + digit;
          scale *= 10;
        } else {
          overflowed = true;  // further digits are below nanosecond precision
        }
        rest.remove_prefix(1);
      }
    }
    if (!has_whole && !has_fraction)
      return "invalid duration " + quoted;

    std::size_t unit_length = 0;
    while (unit_length < rest.size() && rest[unit_length] != '.' && !is_digit(rest[unit_length])) {
      ++unit_length;
    }
    if (unit_length == 0)
      return "missing unit in duration " + quoted;
    const std::string_view unit = rest.substr(0, unit_length);
    rest.remove_prefix(unit_length);
    const uint64_t nanos_per_unit = unit_nanos(unit);
    if (nanos_per_unit == 0) {
      return "unknown unit \"" + std::string(unit) + "\" in duration " + quoted +
             " (use ns, us, ms, s, m or h)";
    }
    if (whole > kMaxNanos / nanos_per_unit)
      return "invalid duration " + quoted + " (overflow)";
    uint64_t value = whole * nanos_per_unit;
    if (fraction > 0) {
      value += static_cast<uint64_t>(static_cast<double>(fraction) *
                                     (static_cast<double>(nanos_per_unit) / scale));
      if (value > kMaxNanos)
        return "invalid duration " + quoted + " (overflow)";
    }
    total += value;
    if (total > kMaxNanos)
      return "invalid duration " + quoted + " (overflow)";
  }
  if (negative)
    return Duration{static_cast<int64_t>(-static_cast<__int128>(total))};
  if (total > kMaxNanos - 1)
    return "invalid duration " + quoted + " (overflow)";
  return Duration{static_cast<int64_t>(total)};
}

std::string format_go_duration(Duration duration) {
  const int64_t count = duration.count();
  if (count == 0)
    return "0s";
  const bool negative = count < 0;
  const uint64_t value =
      negative ? uint64_t{0} - static_cast<uint64_t>(count) : static_cast<uint64_t>(count);
  std::string out = negative ? "-" : "";
  if (value < 1'000'000'000) {
    int precision = 6;
    std::string_view unit = "ms";
    if (value < 1'000) {
      precision = 0;
      unit = "ns";
    } else if (value < 1'000'000) {
      precision = 3;
      unit = "us";
    }
    const uint64_t scale = power_of_ten(precision);
    out.append(std::to_string(value / scale));
    out.append(fraction_text(value % scale, precision));
    out.append(unit);
    return out;
  }
  const uint64_t seconds = value / 1'000'000'000;
  const uint64_t hours = seconds / 3600;
  const uint64_t minutes = seconds / 60 % 60;
  if (hours > 0)
    out.append(std::to_string(hours)).append("h");
  if (hours > 0 || minutes > 0)
    out.append(std::to_string(minutes)).append("m");
  out.append(std::to_string(seconds % 60));
  out.append(fraction_text(value % 1'000'000'000, 9));
  out.append("s");
  return out;
}

}  // namespace opsup::config
