// The supervisor's own telemetry (upstream `telemetry` keys): its metrics, spans and log
// records exported over OTLP/HTTP with the resource service.name=opamp-supervisor,
// service.instance.id=<instance UID> and the configured attributes.
//
// A narrow instrumentation interface: no protobuf, no Asio beyond a forward declaration.
// With nothing configured every call is a cheap no-op and nothing is scheduled, so an idle
// supervisor stays asleep. Export never blocks the loop: bounded queues, one request in
// flight per signal, drops counted (supervisor.telemetry.dropped) and logged (throttled).
//
// Threading: construct, call and destroy on the io_context thread; log records may come
// from any thread through the logging sink it installs.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "telemetry/telemetry_settings.hpp"

namespace boost::asio {
class io_context;
}

namespace opsup::telemetry {

// The metrics (README "Own telemetry" lists their names, kinds and attributes).
enum class Metric {
  kHealthStatus,           // supervisor.agent.health_status, up-down 1/0 (upstream)
  kFallbackStatus,         // supervisor.agent.fallback_status, up-down 1/0 (upstream)
  kCollectorRestarts,      // supervisor.collector.restarts
  kCollectorCrashes,       // supervisor.collector.crashes
  kConfigApplies,          // supervisor.config.applies {outcome}
  kConfigApplyDuration,    // supervisor.config.apply.duration (s, histogram) {outcome}
  kServerConnection,       // supervisor.opamp.connection.status, up-down 1/0
  kServerReconnects,       // supervisor.opamp.reconnects
  kServerConnectFailures,  // supervisor.opamp.connection.failures
  kMessages,               // supervisor.opamp.messages {direction}
  kModuleLoadFailures,     // supervisor.modules.load_failures
};

// A started span; end it with end_span. Plain data, copyable.
struct SpanHandle {
  std::array<uint8_t, 16> trace_id{};
  std::array<uint8_t, 8> span_id{};
  std::array<uint8_t, 8> parent_span_id{};
  std::string name;
  uint64_t start_unix_nano = 0;
  bool active = false;  // false: telemetry off, or already ended
};

struct ResourceDefaults {
  std::string instance_uid;  // service.instance.id
  std::string version;       // service.version
};

class SupervisorTelemetry {
 public:
  // Starts the configured exporters and, with telemetry.logs processors, tees every log
  // record of the process into the logs exporter.
  SupervisorTelemetry(boost::asio::io_context &io, TelemetrySettings settings,
                      const ResourceDefaults &defaults);
  ~SupervisorTelemetry();
  SupervisorTelemetry(const SupervisorTelemetry &) = delete;
  SupervisorTelemetry &operator=(const SupervisorTelemetry &) = delete;

  // One attribute at most; enough for outcome / direction.
  void add(Metric metric, int64_t delta = 1, std::string_view attribute_key = {},
           std::string_view attribute_value = {});
  void set(Metric metric, int64_t value);
  void record(Metric metric, double value, std::string_view attribute_key = {},
              std::string_view attribute_value = {});

  SpanHandle start_span(std::string_view name, const SpanHandle *parent = nullptr);
  // Ends the span with status Ok, or Error with `error` when it is not empty.
  void end_span(SpanHandle &span, std::string_view error = {});
  // Ends it with status Unset (nothing to say about success).
  void end_span_unset(SpanHandle &span);

  bool traces_enabled() const;

  // Exports what waits (spans, log records, a last metrics snapshot), then calls `done`;
  // `done` comes after `within` at the latest, whatever the receivers do.
  void shutdown(std::chrono::milliseconds within, std::function<void()> done);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace opsup::telemetry
