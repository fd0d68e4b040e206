// A logging sink that turns each of the process's log records into an OTLP log record
// and hands it to the logs exporter. Detached before the exporter goes away; a record
// logged after that is ignored.
#pragma once

#include <spdlog/sinks/base_sink.h>

#include <functional>
#include <mutex>

#include "telemetry/internal/signal_data.hpp"

namespace opsup::telemetry::internal {

class LogRecordSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit LogRecordSink(std::function<void(LogRecord)> deliver) : deliver_(std::move(deliver)) {}

  void detach();

 protected:
  void sink_it_(const spdlog::details::log_msg &message) override;
  void flush_() override {}

 private:
  std::function<void(LogRecord)> deliver_;  // guarded by base_sink's mutex
};

// OTLP SeverityNumber and text for a spdlog level.
int severity_number(spdlog::level::level_enum level);
const char *severity_text(spdlog::level::level_enum level);

}  // namespace opsup::telemetry::internal
