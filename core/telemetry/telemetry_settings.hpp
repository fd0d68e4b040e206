// What the supervisor's own telemetry exports and where, read from the upstream
// `telemetry` keys (the OpenTelemetry configuration schema, otelconf v0.3, that the config
// loader keeps as YAML): logs and traces through `processors[].batch|simple.exporter.otlp`,
// metrics through `readers[].periodic.exporter.otlp`, and the resource. No Asio, no
// protobuf here.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "transport/transport_types.hpp"

namespace opsup::config {
struct TelemetryConfig;
}

namespace opsup::telemetry {

using AttributeValue = std::variant<std::string, bool, int64_t, double>;

struct Attribute {
  std::string key;
  AttributeValue value;
};
using Attributes = std::vector<Attribute>;

// One OTLP/HTTP exporter (`exporter.otlp`).
struct OtlpTarget {
  std::string url;  // the whole URL POSTed to, e.g. http://127.0.0.1:4318/v1/traces
  transport::HeaderList headers;
  transport::ClientTlsSettings tls;  // `certificate`, `client_certificate`, `client_key`
  std::chrono::milliseconds timeout{10000};
  bool gzip = false;  // `compression: gzip`
};

// A batch (or simple) processor in front of an exporter: logs and spans wait in a bounded
// queue and leave in batches; what does not fit is dropped and counted.
struct BatchSettings {
  std::chrono::milliseconds schedule_delay{5000};  // logs: 1000
  std::size_t max_queue_size = 2048;
  std::size_t max_export_batch_size = 512;
};

struct SignalSettings {
  OtlpTarget target;
  BatchSettings batch;
};

// A periodic reader: every `interval` the cumulative state of every metric is exported.
struct MetricsSettings {
  OtlpTarget target;
  std::chrono::milliseconds interval{60000};
};

struct TelemetrySettings {
  std::optional<SignalSettings> logs;
  std::optional<SignalSettings> traces;
  std::optional<MetricsSettings> metrics;
  Attributes resource;  // the configured attributes, in file order
  std::string schema_url;
  // Parts of the config that are valid upstream but not exported here (a console
  // exporter, a pull reader), to be logged as warnings.
  std::vector<std::string> notes;

  bool any() const { return logs || traces || metrics; }
};

// Reads the settings. Throws std::invalid_argument naming the file, line and key for a
// value this supervisor cannot honour: an OTLP exporter with protocol grpc or http/json, an
// endpoint that is not an http(s) URL, a negative size or an unknown compression.
TelemetrySettings read_telemetry_settings(const config::TelemetryConfig &config,
                                          const std::string &source_name);

}  // namespace opsup::telemetry
