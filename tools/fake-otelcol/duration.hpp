// Go-style durations ("250ms", "5s", "1m30s") as used in Collector configs.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace opsup::fakeotelcol {

// nullopt when `text` is not a valid Go duration.
std::optional<std::chrono::milliseconds> parse_duration(const std::string &text);

}  // namespace opsup::fakeotelcol
