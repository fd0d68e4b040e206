#include "duration.hpp"

#include <cctype>
#include <cstdlib>

namespace opsup::fakeotelcol {

std::optional<std::chrono::milliseconds> parse_duration(const std::string &text) {
  if (text.empty())
    return std::nullopt;
  if (text == "0")
    return std::chrono::milliseconds(0);
  double total_ms = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t number_end = pos;
    while (
        number_end < text.size() &&
        (std::isdigit(static_cast<unsigned char>(text[number_end])) || text[number_end] == '.')) {
      ++number_end;
    }
    if (number_end == pos)
      return std::nullopt;
    double value = std::strtod(text.substr(pos, number_end - pos).c_str(), nullptr);
    size_t unit_end = number_end;
    while (unit_end < text.size() && std::isalpha(static_cast<unsigned char>(text[unit_end]))) {
      ++unit_end;
    }
    std::string unit = text.substr(number_end, unit_end - number_end);
    double scale = 0;
    if (unit == "ns") {
      scale = 1e-6;
    } else if (unit == "us" || unit == "µs") {
      scale = 1e-3;
    } else if (unit == "ms") {
      scale = 1;
    } else if (unit == "s") {
      scale = 1e3;
    } else if (unit == "m") {
      scale = 60e3;
    } else if (unit == "h") {
      scale = 3600e3;
    } else {
      return std::nullopt;
    }
    total_ms += value * scale;
    pos = unit_end;
  }
  return std::chrono::milliseconds(static_cast<long long>(total_ms));
}

}  // namespace opsup::fakeotelcol
