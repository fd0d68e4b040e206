#include "telemetry/internal/otlp_encoding.hpp"

#include <type_traits>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace opsup::telemetry::internal {
namespace {

namespace common = opentelemetry::proto::common::v1;
namespace resource = opentelemetry::proto::resource::v1;
namespace trace = opentelemetry::proto::trace::v1;
namespace logs = opentelemetry::proto::logs::v1;
namespace metrics = opentelemetry::proto::metrics::v1;

void set_value(common::AnyValue &out, const AttributeValue &value) {
  std::visit(
      [&out](const auto &v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          out.set_string_value(v);
        } else if constexpr (std::is_same_v<T, bool>) {
          out.set_bool_value(v);
        } else if constexpr (std::is_same_v<T, int64_t>) {
          out.set_int_value(v);
        } else {
          out.set_double_value(v);
        }
      },
      value);
}

template <class Repeated>
void add_attributes(Repeated &out, const Attributes &attributes) {
  for (const Attribute &attribute : attributes) {
    common::KeyValue *kv = out.Add();
    kv->set_key(attribute.key);
    set_value(*kv->mutable_value(), attribute.value);
  }
}

template <class ResourceX>
void set_origin(ResourceX &out, const Origin &origin, common::InstrumentationScope &scope) {
  add_attributes(*out.mutable_resource()->mutable_attributes(), origin.resource);
  out.set_schema_url(origin.schema_url);
  scope.set_name(origin.scope_name);
  scope.set_version(origin.scope_version);
}

template <std::size_t N>
std::string bytes(const std::array<uint8_t, N> &id) {
  return std::string(reinterpret_cast<const char *>(id.data()), N);
}

template <std::size_t N>
bool all_zero(const std::array<uint8_t, N> &id) {
  for (uint8_t b : id) {
    if (b != 0)
      return false;
  }
  return true;
}

}  // namespace

std::string encode_spans(const Origin &origin, std::span<const SpanRecord> spans) {
  opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest request;
  trace::ResourceSpans *resource_spans = request.add_resource_spans();
  trace::ScopeSpans *scope_spans = resource_spans->add_scope_spans();
  set_origin(*resource_spans, origin, *scope_spans->mutable_scope());
  for (const SpanRecord &record : spans) {
    trace::Span *span = scope_spans->add_spans();
    span->set_trace_id(bytes(record.trace_id));
    span->set_span_id(bytes(record.span_id));
    if (!all_zero(record.parent_span_id))
      span->set_parent_span_id(bytes(record.parent_span_id));
    span->set_name(record.name);
    span->set_kind(trace::Span_SpanKind_SPAN_KIND_INTERNAL);
    span->set_start_time_unix_nano(record.start_unix_nano);
    span->set_end_time_unix_nano(record.end_unix_nano);
    add_attributes(*span->mutable_attributes(), record.attributes);
    switch (record.status) {
      case SpanStatus::kOk:
        span->mutable_status()->set_code(trace::Status_StatusCode_STATUS_CODE_OK);
        break;
      case SpanStatus::kError:
        span->mutable_status()->set_code(trace::Status_StatusCode_STATUS_CODE_ERROR);
        span->mutable_status()->set_message(record.status_message);
        break;
      case SpanStatus::kUnset:
        break;
    }
  }
  return request.SerializeAsString();
}

std::string encode_logs(const Origin &origin, std::span<const LogRecord> records) {
  opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest request;
  logs::ResourceLogs *resource_logs = request.add_resource_logs();
  logs::ScopeLogs *scope_logs = resource_logs->add_scope_logs();
  set_origin(*resource_logs, origin, *scope_logs->mutable_scope());
  for (const LogRecord &record : records) {
    logs::LogRecord *log = scope_logs->add_log_records();
    log->set_time_unix_nano(record.time_unix_nano);
    log->set_observed_time_unix_nano(record.time_unix_nano);
    log->set_severity_number(static_cast<logs::SeverityNumber>(record.severity_number));
    log->set_severity_text(record.severity_text);
    log->mutable_body()->set_string_value(record.body);
    add_attributes(*log->mutable_attributes(), record.attributes);
  }
  return request.SerializeAsString();
}

std::string encode_metrics(const Origin &origin, std::span<const MetricSnapshot> snapshots,
                           uint64_t start_unix_nano, uint64_t time_unix_nano) {
  opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest request;
  metrics::ResourceMetrics *resource_metrics = request.add_resource_metrics();
  metrics::ScopeMetrics *scope_metrics = resource_metrics->add_scope_metrics();
  set_origin(*resource_metrics, origin, *scope_metrics->mutable_scope());
  for (const MetricSnapshot &snapshot : snapshots) {
    metrics::Metric *metric = scope_metrics->add_metrics();
    metric->set_name(snapshot.name);
    metric->set_description(snapshot.description);
    metric->set_unit(snapshot.unit);
    if (snapshot.kind == MetricKind::kHistogram) {
      metrics::Histogram *histogram = metric->mutable_histogram();
      histogram->set_aggregation_temporality(
          metrics::AggregationTemporality::AGGREGATION_TEMPORALITY_CUMULATIVE);
      for (const MetricPoint &point : snapshot.points) {
        metrics::HistogramDataPoint *out = histogram->add_data_points();
        add_attributes(*out->mutable_attributes(), point.attributes);
        out->set_start_time_unix_nano(start_unix_nano);
        out->set_time_unix_nano(time_unix_nano);
        out->set_count(point.count);
        out->set_sum(point.sum);
        if (point.count > 0) {
          out->set_min(point.min);
          out->set_max(point.max);
        }
        for (uint64_t bucket : point.bucket_counts)
          out->add_bucket_counts(bucket);
        for (double bound : snapshot.bounds)
          out->add_explicit_bounds(bound);
      }
      continue;
    }
    metrics::Sum *sum = metric->mutable_sum();
    sum->set_aggregation_temporality(
        metrics::AggregationTemporality::AGGREGATION_TEMPORALITY_CUMULATIVE);
    sum->set_is_monotonic(snapshot.kind == MetricKind::kCounter);
    for (const MetricPoint &point : snapshot.points) {
      metrics::NumberDataPoint *out = sum->add_data_points();
      add_attributes(*out->mutable_attributes(), point.attributes);
      out->set_start_time_unix_nano(start_unix_nano);
      out->set_time_unix_nano(time_unix_nano);
      out->set_as_int(point.value);
    }
  }
  return request.SerializeAsString();
}

}  // namespace opsup::telemetry::internal
