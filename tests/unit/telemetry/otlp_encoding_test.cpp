// The request bodies read back with the generated code of the vendored OTLP protos.
#include "telemetry/internal/otlp_encoding.hpp"

#include <gtest/gtest.h>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace opsup::telemetry::internal {
namespace {

namespace otlp = opentelemetry::proto;

Origin origin() {
  return {{{"service.name", std::string("opamp-supervisor")},
           {"service.instance.id", std::string("0190-uid")},
           {"debug", true},
           {"shard", int64_t{3}},
           {"ratio", 0.5}},
          "https://opentelemetry.io/schemas/1.26.0",
          "opamp-supervisor",
          "1.2.3"};
}

void expect_resource(const otlp::resource::v1::Resource &resource) {
  ASSERT_EQ(resource.attributes_size(), 5);
  EXPECT_EQ(resource.attributes(0).key(), "service.name");
  EXPECT_EQ(resource.attributes(0).value().string_value(), "opamp-supervisor");
  EXPECT_EQ(resource.attributes(1).value().string_value(), "0190-uid");
  EXPECT_TRUE(resource.attributes(2).value().bool_value());
  EXPECT_EQ(resource.attributes(3).value().int_value(), 3);
  EXPECT_DOUBLE_EQ(resource.attributes(4).value().double_value(), 0.5);
}

TEST(OtlpEncoding, SpansCarryIdsParentTimesAndStatus) {
  SpanRecord root;
  root.trace_id.fill(0xab);
  root.span_id.fill(0x01);
  root.name = "onMessage";
  root.start_unix_nano = 100;
  root.end_unix_nano = 200;
  root.status = SpanStatus::kOk;
  SpanRecord child = root;
  child.span_id.fill(0x02);
  child.parent_span_id = root.span_id;
  child.name = "processRemoteConfigMessage";
  child.status = SpanStatus::kError;
  child.status_message = "the Collector exited";
  const std::vector<SpanRecord> spans{root, child};

  otlp::collector::trace::v1::ExportTraceServiceRequest request;
  ASSERT_TRUE(request.ParseFromString(encode_spans(origin(), spans)));
  ASSERT_EQ(request.resource_spans_size(), 1);
  const auto &resource_spans = request.resource_spans(0);
  expect_resource(resource_spans.resource());
  EXPECT_EQ(resource_spans.schema_url(), "https://opentelemetry.io/schemas/1.26.0");
  ASSERT_EQ(resource_spans.scope_spans_size(), 1);
  EXPECT_EQ(resource_spans.scope_spans(0).scope().name(), "opamp-supervisor");
  EXPECT_EQ(resource_spans.scope_spans(0).scope().version(), "1.2.3");
  const auto &out = resource_spans.scope_spans(0).spans();
  ASSERT_EQ(out.size(), 2);
  EXPECT_EQ(out[0].trace_id(), std::string(16, '\xab'));
  EXPECT_EQ(out[0].span_id(), std::string(8, '\x01'));
  EXPECT_TRUE(out[0].parent_span_id().empty());
  EXPECT_EQ(out[0].name(), "onMessage");
  EXPECT_EQ(out[0].kind(), otlp::trace::v1::Span_SpanKind_SPAN_KIND_INTERNAL);
  EXPECT_EQ(out[0].start_time_unix_nano(), 100u);
  EXPECT_EQ(out[0].end_time_unix_nano(), 200u);
  EXPECT_EQ(out[0].status().code(), otlp::trace::v1::Status_StatusCode_STATUS_CODE_OK);
  EXPECT_EQ(out[1].parent_span_id(), std::string(8, '\x01'));
  EXPECT_EQ(out[1].status().code(), otlp::trace::v1::Status_StatusCode_STATUS_CODE_ERROR);
  EXPECT_EQ(out[1].status().message(), "the Collector exited");
}

TEST(OtlpEncoding, LogRecordsCarrySeverityBodyAndLogger) {
  LogRecord record;
  record.time_unix_nano = 42;
  record.severity_number = 13;
  record.severity_text = "WARN";
  record.body = "Collector exited";
  record.attributes = {{"logger", std::string("collector")}};
  const std::vector<LogRecord> logs{record};
  otlp::collector::logs::v1::ExportLogsServiceRequest request;
  ASSERT_TRUE(request.ParseFromString(encode_logs(origin(), logs)));
  expect_resource(request.resource_logs(0).resource());
  const auto &out = request.resource_logs(0).scope_logs(0).log_records(0);
  EXPECT_EQ(out.time_unix_nano(), 42u);
  EXPECT_EQ(out.severity_number(), otlp::logs::v1::SEVERITY_NUMBER_WARN);
  EXPECT_EQ(out.severity_text(), "WARN");
  EXPECT_EQ(out.body().string_value(), "Collector exited");
  EXPECT_EQ(out.attributes(0).key(), "logger");
  EXPECT_EQ(out.attributes(0).value().string_value(), "collector");
}

TEST(OtlpEncoding, MetricsAreCumulativeSumsAndHistograms) {
  MetricSnapshot applies{"supervisor.config.applies", "applies", "{config}",
                         MetricKind::kCounter,        {},        {}};
  MetricPoint applied;
  applied.attributes = {{"outcome", std::string("applied")}};
  applied.value = 3;
  applies.points.push_back(applied);
  MetricSnapshot health{"supervisor.agent.health_status", "", "1",
                        MetricKind::kUpDownCounter,       {}, {}};
  MetricPoint healthy;
  healthy.value = 1;
  health.points.push_back(healthy);
  MetricSnapshot latency{
      "supervisor.config.apply.duration", "", "s", MetricKind::kHistogram, {0.5, 1}, {}};
  MetricPoint observed;
  observed.count = 2;
  observed.sum = 1.25;
  observed.min = 0.25;
  observed.max = 1.0;
  observed.bucket_counts = {1, 1, 0};
  latency.points.push_back(observed);
  const std::vector<MetricSnapshot> metrics{applies, health, latency};

  otlp::collector::metrics::v1::ExportMetricsServiceRequest request;
  ASSERT_TRUE(request.ParseFromString(encode_metrics(origin(), metrics, 10, 20)));
  expect_resource(request.resource_metrics(0).resource());
  const auto &out = request.resource_metrics(0).scope_metrics(0).metrics();
  ASSERT_EQ(out.size(), 3);
  EXPECT_EQ(out[0].name(), "supervisor.config.applies");
  EXPECT_EQ(out[0].unit(), "{config}");
  ASSERT_TRUE(out[0].has_sum());
  EXPECT_TRUE(out[0].sum().is_monotonic());
  EXPECT_EQ(out[0].sum().aggregation_temporality(),
            otlp::metrics::v1::AGGREGATION_TEMPORALITY_CUMULATIVE);
  EXPECT_EQ(out[0].sum().data_points(0).as_int(), 3);
  EXPECT_EQ(out[0].sum().data_points(0).start_time_unix_nano(), 10u);
  EXPECT_EQ(out[0].sum().data_points(0).time_unix_nano(), 20u);
  EXPECT_EQ(out[0].sum().data_points(0).attributes(0).value().string_value(), "applied");
  EXPECT_FALSE(out[1].sum().is_monotonic());
  EXPECT_EQ(out[1].sum().data_points(0).as_int(), 1);
  ASSERT_TRUE(out[2].has_histogram());
  const auto &point = out[2].histogram().data_points(0);
  EXPECT_EQ(point.count(), 2u);
  EXPECT_DOUBLE_EQ(point.sum(), 1.25);
  EXPECT_DOUBLE_EQ(point.min(), 0.25);
  EXPECT_DOUBLE_EQ(point.max(), 1.0);
  EXPECT_EQ(point.bucket_counts_size(), 3);
  EXPECT_EQ(point.explicit_bounds_size(), 2);
}

}  // namespace
}  // namespace opsup::telemetry::internal
