#include "telemetry/telemetry_settings.hpp"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "config/supervisor_config.hpp"

namespace opsup::telemetry {
namespace {

// A TelemetryConfig as the loader keeps it: the otelconf subtrees as YAML, with marks.
config::TelemetryConfig telemetry_config(const std::string &yaml) {
  const YAML::Node root = YAML::Load(yaml);
  config::TelemetryConfig telemetry;
  if (root["logs"] && root["logs"]["processors"])
    telemetry.logs.processors = root["logs"]["processors"];
  if (root["metrics"] && root["metrics"]["readers"])
    telemetry.metrics.readers = root["metrics"]["readers"];
  if (root["metrics"] && root["metrics"]["level"])
    telemetry.metrics.level = root["metrics"]["level"].Scalar();
  if (root["traces"] && root["traces"]["processors"])
    telemetry.traces.processors = root["traces"]["processors"];
  if (root["resource"])
    telemetry.resource = root["resource"];
  return telemetry;
}

std::string error_of(const std::string &yaml) {
  try {
    read_telemetry_settings(telemetry_config(yaml), "supervisor.yaml");
  } catch (const std::invalid_argument &error) {
    return error.what();
  }
  return "";
}

TEST(TelemetrySettings, NothingConfiguredExportsNothing) {
  const TelemetrySettings settings = read_telemetry_settings({}, "supervisor.yaml");
  EXPECT_FALSE(settings.any());
}

TEST(TelemetrySettings, ReadsTheUpstreamShapeForEachSignal) {
  const TelemetrySettings settings = read_telemetry_settings(telemetry_config(R"(
logs:
  processors:
    - batch:
        schedule_delay: 200
        max_queue_size: 100
        max_export_batch_size: 10
        exporter:
          otlp:
            protocol: http/protobuf
            endpoint: http://127.0.0.1:4318
            headers:
              - name: X-Tenant
                value: blue
            headers_list: "a=1, b=2"
            compression: gzip
            timeout: 2500
metrics:
  readers:
    - periodic:
        interval: 1500
        exporter:
          otlp:
            protocol: http/protobuf
            endpoint: https://collector.example:4318/custom/metrics
            certificate: /etc/ca.pem
            client_certificate: /etc/client.pem
            client_key: /etc/client.key
traces:
  processors:
    - simple:
        exporter:
          otlp:
            endpoint: 127.0.0.1:4318
)"),
                                                             "supervisor.yaml");
  ASSERT_TRUE(settings.logs);
  EXPECT_EQ(settings.logs->target.url, "http://127.0.0.1:4318/v1/logs");
  EXPECT_EQ(settings.logs->batch.schedule_delay, std::chrono::milliseconds(200));
  EXPECT_EQ(settings.logs->batch.max_queue_size, 100u);
  EXPECT_EQ(settings.logs->batch.max_export_batch_size, 10u);
  EXPECT_TRUE(settings.logs->target.gzip);
  EXPECT_EQ(settings.logs->target.timeout, std::chrono::milliseconds(2500));
  ASSERT_EQ(settings.logs->target.headers.size(), 3u);
  EXPECT_EQ(settings.logs->target.headers[0].name, "X-Tenant");
  EXPECT_EQ(settings.logs->target.headers[0].value, "blue");
  EXPECT_EQ(settings.logs->target.headers[2].name, "b");
  EXPECT_EQ(settings.logs->target.headers[2].value, "2");

  ASSERT_TRUE(settings.metrics);
  EXPECT_EQ(settings.metrics->target.url, "https://collector.example:4318/custom/metrics");
  EXPECT_EQ(settings.metrics->interval, std::chrono::milliseconds(1500));
  EXPECT_EQ(settings.metrics->target.tls.ca_file, "/etc/ca.pem");
  EXPECT_EQ(settings.metrics->target.tls.cert_file, "/etc/client.pem");
  EXPECT_EQ(settings.metrics->target.tls.key_file, "/etc/client.key");
  EXPECT_FALSE(settings.metrics->target.tls.insecure_skip_verify);

  ASSERT_TRUE(settings.traces);
  EXPECT_EQ(settings.traces->target.url, "http://127.0.0.1:4318/v1/traces");
  EXPECT_EQ(settings.traces->batch.schedule_delay, std::chrono::milliseconds(0));
  EXPECT_EQ(settings.traces->batch.max_export_batch_size, 1u);
}

TEST(TelemetrySettings, DefaultsFollowTheConfigurationSchema) {
  const TelemetrySettings settings = read_telemetry_settings(telemetry_config(R"(
logs:
  processors:
    - batch: {exporter: {otlp: {endpoint: "http://h:1"}}}
metrics:
  readers:
    - periodic: {exporter: {otlp: {endpoint: "http://h:1"}}}
traces:
  processors:
    - batch: {exporter: {otlp: {endpoint: "http://h:1"}}}
)"),
                                                             "supervisor.yaml");
  EXPECT_EQ(settings.logs->batch.schedule_delay, std::chrono::milliseconds(1000));
  EXPECT_EQ(settings.traces->batch.schedule_delay, std::chrono::milliseconds(5000));
  EXPECT_EQ(settings.traces->batch.max_queue_size, 2048u);
  EXPECT_EQ(settings.traces->batch.max_export_batch_size, 512u);
  EXPECT_EQ(settings.metrics->interval, std::chrono::milliseconds(60000));
  EXPECT_EQ(settings.traces->target.timeout, std::chrono::milliseconds(10000));
}

TEST(TelemetrySettings, GrpcAndJsonAreRefusedNamingFileLineAndKey) {
  const std::string error = error_of(R"(
traces:
  processors:
    - batch:
        exporter:
          otlp:
            protocol: grpc
            endpoint: http://127.0.0.1:4317
)");
  EXPECT_NE(error.find("supervisor.yaml:7: telemetry.traces.processors[0].batch.exporter.otlp."
                       "protocol: \"grpc\" is not supported"),
            std::string::npos)
      << error;
  EXPECT_NE(error_of("logs:\n  processors:\n    - batch: {exporter: {otlp: {protocol: http/json, "
                     "endpoint: \"http://h:1\"}}}\n")
                .find("http/json"),
            std::string::npos);
}

TEST(TelemetrySettings, BadValuesAreRefused) {
  EXPECT_NE(error_of("traces:\n  processors:\n    - batch: {exporter: {otlp: {}}}\n")
                .find("endpoint: is required"),
            std::string::npos);
  EXPECT_NE(error_of("traces:\n  processors:\n    - batch: {exporter: {otlp: {endpoint: "
                     "\"ftp://h:1\"}}}\n")
                .find("must be an http:// or https:// URL"),
            std::string::npos);
  EXPECT_NE(error_of("traces:\n  processors:\n    - batch: {max_queue_size: -1, exporter: {otlp: "
                     "{endpoint: \"http://h:1\"}}}\n")
                .find("max_queue_size: must be positive"),
            std::string::npos);
  EXPECT_NE(error_of("traces:\n  processors:\n    - batch: {exporter: {otlp: {endpoint: "
                     "\"http://h:1\", compression: zstd}}}\n")
                .find("must be gzip or none"),
            std::string::npos);
  EXPECT_NE(error_of("metrics:\n  readers:\n    - periodic: {interval: 0, exporter: {otlp: "
                     "{endpoint: \"http://h:1\"}}}\n")
                .find("interval: must be positive"),
            std::string::npos);
  // A missing key is reported on its parent's line.
  EXPECT_NE(error_of("traces:\n  processors:\n    - batch:\n        schedule_delay: 10\n")
                .find("supervisor.yaml:4: telemetry.traces.processors[0].batch.exporter: must be "
                      "a mapping"),
            std::string::npos);
}

TEST(TelemetrySettings, OtherExportersAndReadersAreNotedAndIgnored) {
  const TelemetrySettings settings = read_telemetry_settings(telemetry_config(R"(
metrics:
  readers:
    - pull: {exporter: {prometheus: {host: localhost, port: 8888}}}
traces:
  processors:
    - batch: {exporter: {console: {}}}
)"),
                                                             "supervisor.yaml");
  EXPECT_FALSE(settings.any());
  ASSERT_EQ(settings.notes.size(), 2u);
  EXPECT_NE(settings.notes[0].find("telemetry.traces.processors[0].batch.exporter.console"),
            std::string::npos);
  EXPECT_NE(settings.notes[1].find("telemetry.metrics.readers[0].pull"), std::string::npos);
}

TEST(TelemetrySettings, MetricsLevelNoneTurnsTheReadersOff) {
  const TelemetrySettings settings = read_telemetry_settings(telemetry_config(R"(
metrics:
  level: none
  readers:
    - periodic: {exporter: {otlp: {endpoint: "http://h:1"}}}
)"),
                                                             "supervisor.yaml");
  EXPECT_FALSE(settings.metrics);
}

TEST(TelemetrySettings, ResourceAttributesAreTypedAndLaterOnesWin) {
  const TelemetrySettings settings = read_telemetry_settings(telemetry_config(R"(
resource:
  schema_url: https://opentelemetry.io/schemas/1.26.0
  attributes:
    - {name: service.name, value: edge-supervisor}
    - {name: replicas, value: 3, type: int}
    - {name: canary, value: true, type: bool}
  attributes_list: "region=eu, replicas=4"
  host.name: legacy-inline
)"),
                                                             "supervisor.yaml");
  EXPECT_EQ(settings.schema_url, "https://opentelemetry.io/schemas/1.26.0");
  ASSERT_EQ(settings.resource.size(), 5u);
  EXPECT_EQ(settings.resource[0].key, "service.name");
  EXPECT_EQ(std::get<std::string>(settings.resource[0].value), "edge-supervisor");
  EXPECT_EQ(std::get<std::string>(settings.resource[1].value), "4");  // attributes_list later
  EXPECT_TRUE(std::get<bool>(settings.resource[2].value));
  EXPECT_EQ(settings.resource[3].key, "region");
  EXPECT_EQ(settings.resource[4].key, "host.name");
}

}  // namespace
}  // namespace opsup::telemetry
