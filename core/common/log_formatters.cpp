#include "common/log_formatters.hpp"

#include <chrono>
#include <ctime>

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

namespace opsup::common {
namespace {

void append(spdlog::memory_buf_t &dest, std::string_view text) {
  dest.append(text.data(), text.data() + text.size());
}

std::string_view view(spdlog::string_view_t text) {
  return {text.data(), text.size()};
}

// A JSON string literal, quoted and escaped by Boost.JSON.
void append_json_string(spdlog::memory_buf_t &dest, std::string_view text) {
  append(dest, boost::json::serialize(boost::json::string(text)));
}

// "2024-05-01T12:00:00.123+0200", zap's ISO8601TimeEncoder layout.
std::string iso8601_local(spdlog::log_clock::time_point time) {
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count() % 1000;
  const std::time_t seconds = spdlog::log_clock::to_time_t(time);
  std::tm local{};
  localtime_r(&seconds, &local);
  char date[32];
  char zone[8];
  std::strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &local);
  std::strftime(zone, sizeof(zone), "%z", &local);
  return fmt::format("{}.{:03}{}", date, millis, zone);
}

}  // namespace

std::string_view zap_level_name(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::warn:
      return "warn";
    case spdlog::level::err:
      return "error";
    case spdlog::level::critical:
      return "fatal";
    default:
      return "info";
  }
}

void JsonLogFormatter::format(const spdlog::details::log_msg &msg, spdlog::memory_buf_t &dest) {
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(msg.time.time_since_epoch()).count();
  append(dest, "{\"level\":\"");
  append(dest, zap_level_name(msg.level));
  append(dest, "\",\"ts\":");
  append(dest, fmt::format("{}.{:06}", micros / 1000000, micros % 1000000));
  if (msg.logger_name.size() > 0) {
    append(dest, ",\"logger\":");
    append_json_string(dest, view(msg.logger_name));
  }
  append(dest, ",\"msg\":");
  append_json_string(dest, view(msg.payload));
  append(dest, "}\n");
}

std::unique_ptr<spdlog::formatter> JsonLogFormatter::clone() const {
  return std::make_unique<JsonLogFormatter>();
}

void ConsoleLogFormatter::format(const spdlog::details::log_msg &msg, spdlog::memory_buf_t &dest) {
  append(dest, iso8601_local(msg.time));
  append(dest, "\t");
  append(dest, zap_level_name(msg.level));
  if (msg.logger_name.size() > 0) {
    append(dest, "\t");
    append(dest, view(msg.logger_name));
  }
  append(dest, "\t");
  append(dest, view(msg.payload));
  append(dest, "\n");
}

std::unique_ptr<spdlog::formatter> ConsoleLogFormatter::clone() const {
  return std::make_unique<ConsoleLogFormatter>();
}

}  // namespace opsup::common
