#include "telemetry/internal/log_record_sink.hpp"

#include <chrono>

namespace opsup::telemetry::internal {

int severity_number(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return 1;
    case spdlog::level::debug:
      return 5;
    case spdlog::level::info:
      return 9;
    case spdlog::level::warn:
      return 13;
    case spdlog::level::err:
      return 17;
    case spdlog::level::critical:
      return 21;
    default:
      return 0;
  }
}

const char *severity_text(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return "TRACE";
    case spdlog::level::debug:
      return "DEBUG";
    case spdlog::level::info:
      return "INFO";
    case spdlog::level::warn:
      return "WARN";
    case spdlog::level::err:
      return "ERROR";
    case spdlog::level::critical:
      return "FATAL";
    default:
      return "";
  }
}

void LogRecordSink::detach() {
  std::lock_guard lock(mutex_);
  deliver_ = nullptr;
}

void LogRecordSink::sink_it_(const spdlog::details::log_msg &message) {
  if (!deliver_)
    return;
  LogRecord record;
  record.time_unix_nano = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(message.time.time_since_epoch())
          .count());
  record.severity_number = severity_number(message.level);
  record.severity_text = severity_text(message.level);
  record.body.assign(message.payload.data(), message.payload.size());
  if (message.logger_name.size() > 0)
    record.attributes.push_back(
        {"logger", std::string(message.logger_name.data(), message.logger_name.size())});
  deliver_(std::move(record));
}

}  // namespace opsup::telemetry::internal
