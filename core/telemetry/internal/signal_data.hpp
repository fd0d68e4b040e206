// The supervisor's telemetry as plain values, before encoding: a finished span, a log
// record, and a snapshot of one metric. No protobuf here.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "telemetry/telemetry_settings.hpp"

namespace opsup::telemetry::internal {

using TraceId = std::array<uint8_t, 16>;
using SpanId = std::array<uint8_t, 8>;

enum class SpanStatus { kUnset, kOk, kError };

struct SpanRecord {
  TraceId trace_id{};
  SpanId span_id{};
  SpanId parent_span_id{};  // all zero: a root span
  std::string name;
  uint64_t start_unix_nano = 0;
  uint64_t end_unix_nano = 0;
  SpanStatus status = SpanStatus::kUnset;
  std::string status_message;
  Attributes attributes;
};

struct LogRecord {
  uint64_t time_unix_nano = 0;
  int severity_number = 9;  // OTLP SeverityNumber: 5 debug, 9 info, 13 warn, 17 error, 21 fatal
  std::string severity_text;
  std::string body;
  Attributes attributes;  // the logger's name as "logger"
};

enum class MetricKind {
  kCounter,        // monotonic cumulative sum
  kUpDownCounter,  // non-monotonic cumulative sum
  kHistogram,      // cumulative explicit-bucket histogram
};

struct MetricPoint {
  Attributes attributes;
  int64_t value = 0;  // sums
  // histograms
  uint64_t count = 0;
  double sum = 0;
  double min = 0;
  double max = 0;
  std::vector<uint64_t> bucket_counts;  // bounds.size() + 1
};

struct MetricSnapshot {
  std::string name;
  std::string description;
  std::string unit;
  MetricKind kind = MetricKind::kCounter;
  std::vector<double> bounds;  // histograms
  std::vector<MetricPoint> points;
};

// Who emits: the resource and the instrumentation scope of every request.
struct Origin {
  Attributes resource;
  std::string schema_url;
  std::string scope_name;
  std::string scope_version;
};

}  // namespace opsup::telemetry::internal
