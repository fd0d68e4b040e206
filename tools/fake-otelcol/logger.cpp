#include "logger.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <mutex>
#include <sstream>

namespace opsup::fakeotelcol {
namespace {

LogSettings g_settings;
std::mutex g_mutex;

const char *level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

std::string quoted(const std::string &text) {
  return boost::json::serialize(boost::json::string(text));
}

std::string timestamp() {
  auto now = std::chrono::system_clock::now();
  std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[64];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &utc);
  char result[80];
  std::snprintf(result, sizeof result, "%s.%03lldZ", buffer, static_cast<long long>(millis));
  return result;
}

}  // namespace

void configure_logging(const LogSettings &settings) {
  std::lock_guard lock(g_mutex);
  g_settings = settings;
}

void log(LogLevel level, const std::string &caller, const std::string &message,
         const LogFields &fields) {
  std::lock_guard lock(g_mutex);
  if (level < g_settings.level)
    return;
  std::ostringstream line;
  if (g_settings.json) {
    line << "{\"level\":\"" << level_name(level) << "\",\"ts\":\"" << timestamp()
         << "\",\"caller\":" << quoted(caller) << ",\"msg\":" << quoted(message);
    for (const auto &[key, value] : fields)
      line << "," << quoted(key) << ":" << quoted(value);
    line << "}";
  } else {
    line << timestamp() << "\t" << level_name(level) << "\t" << caller << "\t" << message;
    if (!fields.empty()) {
      line << "\t{";
      for (size_t i = 0; i < fields.size(); ++i) {
        if (i > 0)
          line << ", ";
        line << quoted(fields[i].first) << ": " << quoted(fields[i].second);
      }
      line << "}";
    }
  }
  std::cerr << line.str() << std::endl;
}

}  // namespace opsup::fakeotelcol
