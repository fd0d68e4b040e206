#include "collector/collector_log_line.hpp"

#include <array>
#include <utility>

namespace opsup::collector {
namespace {

// zap's level names; dpanic, panic and fatal count as errors.
bool level_from_name(std::string_view name, CollectorLogLevel &level) {
  static constexpr std::array<std::pair<std::string_view, CollectorLogLevel>, 8> kLevels = {{
      {"debug", CollectorLogLevel::kDebug},
      {"info", CollectorLogLevel::kInfo},
      {"warn", CollectorLogLevel::kWarn},
      {"warning", CollectorLogLevel::kWarn},
      {"error", CollectorLogLevel::kError},
      {"dpanic", CollectorLogLevel::kError},
      {"panic", CollectorLogLevel::kError},
      {"fatal", CollectorLogLevel::kError},
  }};
  for (const auto &[known, value] : kLevels) {
    if (name == known) {
      level = value;
      return true;
    }
  }
  return false;
}

// The value of "level" in a JSON log line, without parsing the whole object: zap writes it
// as a plain string.
bool json_level(std::string_view line, CollectorLogLevel &level) {
  constexpr std::string_view kKey = "\"level\":\"";
  const auto at = line.find(kKey);
  if (at == std::string_view::npos)
    return false;
  const auto start = at + kKey.size();
  const auto end = line.find('"', start);
  return end != std::string_view::npos && level_from_name(line.substr(start, end - start), level);
}

}  // namespace

CollectorLogLine parse_collector_log_line(std::string_view line) {
  CollectorLogLine parsed;
  if (!line.empty() && line.front() == '{' && json_level(line, parsed.level)) {
    parsed.text = std::string(line);
    return parsed;
  }
  const auto first_tab = line.find('\t');
  if (first_tab != std::string_view::npos) {
    const auto second_tab = line.find('\t', first_tab + 1);
    const auto name = line.substr(first_tab + 1, second_tab == std::string_view::npos
                                                     ? std::string_view::npos
                                                     : second_tab - first_tab - 1);
    if (second_tab != std::string_view::npos && level_from_name(name, parsed.level)) {
      parsed.text = std::string(line.substr(second_tab + 1));
      return parsed;
    }
  }
  parsed.text = std::string(line);
  parsed.level =
      line.starts_with("panic:") || line.starts_with("fatal error:") || line.starts_with("Error: ")
          ? CollectorLogLevel::kError
          : CollectorLogLevel::kInfo;
  return parsed;
}

}  // namespace opsup::collector
