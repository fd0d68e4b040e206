// Collector-like log lines on stderr: zap "console" (tab-separated, fields as JSON) or "json"
// encoding, chosen by service.telemetry.logs.encoding.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace opsup::fakeotelcol {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
using LogFields = std::vector<std::pair<std::string, std::string>>;

struct LogSettings {
  LogLevel level = LogLevel::kInfo;
  bool json = false;
};

void configure_logging(const LogSettings &settings);
void log(LogLevel level, const std::string &caller, const std::string &message,
         const LogFields &fields = {});

inline void log_debug(const std::string &caller, const std::string &message,
                      const LogFields &fields = {}) {
  log(LogLevel::kDebug, caller, message, fields);
}
inline void log_info(const std::string &caller, const std::string &message,
                     const LogFields &fields = {}) {
  log(LogLevel::kInfo, caller, message, fields);
}
inline void log_warn(const std::string &caller, const std::string &message,
                     const LogFields &fields = {}) {
  log(LogLevel::kWarn, caller, message, fields);
}
inline void log_error(const std::string &caller, const std::string &message,
                      const LogFields &fields = {}) {
  log(LogLevel::kError, caller, message, fields);
}

}  // namespace opsup::fakeotelcol
