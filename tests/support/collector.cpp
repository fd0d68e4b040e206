#include "support/collector.hpp"

#include <unistd.h>

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <stdexcept>

#include "support/paths.hpp"
#include "support/ports.hpp"

namespace opsup::testing {

std::string collector_kind_name(CollectorKind kind) {
  switch (kind) {
    case CollectorKind::kReal:
      return "real";
    case CollectorKind::kRealNext:
      return "real-next";
    default:
      return "stand-in";
  }
}

std::filesystem::path collector_executable(CollectorKind kind) {
  if (kind == CollectorKind::kStandIn) {
    auto path = binary("fake-otelcol");
    if (::access(path.c_str(), X_OK) != 0)
      throw std::runtime_error("the Collector stand-in is not built: " + path.string());
    return path;
  }
  const bool next = kind == CollectorKind::kRealNext;
  std::filesystem::path path = binary(next ? "otelcol-opsup-next" : "otelcol-opsup");
  if (const char *override_path =
          std::getenv(next ? "OPSUP_OTELCOL_NEXT_BIN" : "OPSUP_OTELCOL_BIN");
      override_path != nullptr && *override_path != '\0') {
    path = override_path;
  }
  if (::access(path.c_str(), X_OK) != 0) {
    throw std::runtime_error("the real Collector is missing or not executable at " + path.string() +
                             ": build it with tools/otelcol/build.sh " + build_dir().string() +
                             " (tools/test.sh does), or set " +
                             (next ? "OPSUP_OTELCOL_NEXT_BIN" : "OPSUP_OTELCOL_BIN") +
                             " to a Collector");
  }
  return path;
}

YAML::Node minimal_pipeline_config() {
  YAML::Node config = YAML::Load(R"(
receivers:
  otlp:
    protocols:
      grpc: {}
exporters:
  debug:
    verbosity: basic
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [debug]
)");
  config["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"] =
      "127.0.0.1:" + std::to_string(free_tcp_port());
  return config;
}

std::unique_ptr<ChildProcess> start_collector(CollectorKind kind,
                                              const std::vector<std::string> &args) {
  return std::make_unique<ChildProcess>(ProcessOptions{collector_executable(kind), args, {}, {}});
}

}  // namespace opsup::testing
