// OTLP/HTTP request bodies (binary protobuf, the generated lite code of the vendored
// opentelemetry-proto files): ExportTraceServiceRequest, ExportLogsServiceRequest and
// ExportMetricsServiceRequest, one resource and one scope each.
#pragma once

#include <span>
#include <string>

#include "telemetry/internal/signal_data.hpp"

namespace opsup::telemetry::internal {

std::string encode_spans(const Origin &origin, std::span<const SpanRecord> spans);
std::string encode_logs(const Origin &origin, std::span<const LogRecord> logs);
// Cumulative points from `start_unix_nano` (the process start) to `time_unix_nano`.
std::string encode_metrics(const Origin &origin, std::span<const MetricSnapshot> metrics,
                           uint64_t start_unix_nano, uint64_t time_unix_nano);

}  // namespace opsup::telemetry::internal
