// The Collector config layer of the own_telemetry module: the server's own_metrics,
// own_logs and own_traces offers (TelemetryConnectionSettings) as OTLP/HTTP exporters in
// `service::telemetry`, the shape of the Go supervisor's owntelemetry.yaml template:
//
//   metrics -> service.telemetry.metrics.readers[periodic].exporter.otlp
//   logs    -> service.telemetry.logs.processors[batch].exporter.otlp
//   traces  -> service.telemetry.traces.processors[batch].exporter.otlp
//
// each with protocol http/protobuf, the endpoint and the headers, plus what the Go
// supervisor drops: the offered TLS material, as PEM files the layer names by path. The
// Collector v0.149.0 reads its internal telemetry with otelconf's v0.3.0 schema, whose OTLP
// exporter takes `certificate` (the CA to trust), `client_certificate` and `client_key`
// (files) and nothing else about TLS; the rest of an offer is reported as not applied.
// Pure functions: no host, no files.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "opamp.pb.h"

namespace opsup::own_telemetry {

namespace proto = ::opamp::proto::v1;

enum class Signal { kMetrics, kLogs, kTraces };
inline constexpr std::array<Signal, 3> kSignals{Signal::kMetrics, Signal::kLogs, Signal::kTraces};

// "metrics", "logs", "traces".
std::string_view signal_name(Signal signal);

// The signal's part of a ConnectionSettingsOffers: own_metrics, own_logs, own_traces.
bool has_part(const proto::ConnectionSettingsOffers &offers, Signal signal);
const proto::TelemetryConnectionSettings &part(const proto::ConnectionSettingsOffers &offers,
                                               Signal signal);
proto::TelemetryConnectionSettings *mutable_part(proto::ConnectionSettingsOffers &offers,
                                                 Signal signal);
void clear_part(proto::ConnectionSettingsOffers &offers, Signal signal);

struct LayerOptions {
  // Where the PEM files go (absolute); empty when unknown, which drops TLS material.
  std::string storage_directory;
  // The periodic metric reader's interval in ms; nullopt keeps the Collector's default.
  std::optional<uint64_t> metrics_interval_ms;
  // Read when an offer sets tls.include_system_ca_certs_pool beside its own CA: the
  // system's CA bundle (PEM), nullopt when the system has none.
  std::optional<std::string> system_ca_bundle;
};

struct Layer {
  std::string yaml;  // "" when no signal is exported: the layer is removed
  // Files the layer names, by plain file name in the storage directory: PEM contents.
  std::map<std::string, std::string> files;
  // What the layer could not carry over from the offers, one line each.
  std::vector<std::string> problems;
};

// The layer for the signals in `offers` that `enabled` allows (indexed by Signal).
Layer render_layer(const proto::ConnectionSettingsOffers &offers,
                   const std::array<bool, 3> &enabled, const LayerOptions &options);

// `text` as a YAML double-quoted scalar.
std::string yaml_quoted(std::string_view text);

}  // namespace opsup::own_telemetry
