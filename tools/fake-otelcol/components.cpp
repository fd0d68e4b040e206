#include "components.hpp"

#include <openssl/sha.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>

namespace opsup::fakeotelcol {
namespace {

std::string core_module(const std::string &path) {
  return "go.opentelemetry.io/collector/" + path + " v" + std::string(kBuildVersion);
}
std::string contrib_module(const std::string &path) {
  return "github.com/open-telemetry/opentelemetry-collector-contrib/" + path + " v" +
         std::string(kBuildVersion);
}

const std::map<std::string, std::string> kSignalsStable = {
    {"logs", "Stable"}, {"metrics", "Stable"}, {"traces", "Stable"}};
const std::map<std::string, std::string> kSignalsBeta = {
    {"logs", "Beta"}, {"metrics", "Beta"}, {"traces", "Beta"}};

const ComponentKind kAllKinds[] = {ComponentKind::kReceiver, ComponentKind::kProcessor,
                                   ComponentKind::kExporter, ComponentKind::kExtension,
                                   ComponentKind::kConnector};

}  // namespace

const std::vector<ComponentFactory> &component_factories() {
  using K = ComponentKind;
  static const std::vector<ComponentFactory> factories = {
      {K::kReceiver, "otlp", core_module("receiver/otlpreceiver"), kSignalsStable},
      {K::kReceiver, "filelog", contrib_module("receiver/filelogreceiver"), {{"logs", "Beta"}}},
      {K::kReceiver,
       "hostmetrics",
       contrib_module("receiver/hostmetricsreceiver"),
       {{"metrics", "Beta"}}},
      {K::kReceiver,
       "prometheus",
       contrib_module("receiver/prometheusreceiver"),
       {{"metrics", "Beta"}}},
      {K::kReceiver, "nop", core_module("receiver/nopreceiver"), kSignalsBeta},
      {K::kProcessor, "batch", core_module("processor/batchprocessor"), kSignalsBeta},
      {K::kProcessor, "memory_limiter", core_module("processor/memorylimiterprocessor"),
       kSignalsBeta},
      {K::kProcessor, "resource", contrib_module("processor/resourceprocessor"), kSignalsBeta},
      {K::kProcessor, "attributes", contrib_module("processor/attributesprocessor"), kSignalsBeta},
      {K::kProcessor, "transform", contrib_module("processor/transformprocessor"), kSignalsBeta},
      {K::kExporter, "otlp", core_module("exporter/otlpexporter"), kSignalsStable},
      {K::kExporter, "otlphttp", core_module("exporter/otlphttpexporter"), kSignalsStable},
      {K::kExporter,
       "debug",
       core_module("exporter/debugexporter"),
       {{"logs", "Development"}, {"metrics", "Development"}, {"traces", "Development"}}},
      {K::kExporter, "nop", core_module("exporter/nopexporter"), kSignalsBeta},
      {K::kExporter,
       "file",
       contrib_module("exporter/fileexporter"),
       {{"logs", "Alpha"}, {"metrics", "Alpha"}, {"traces", "Alpha"}}},
      {K::kExtension,
       "opamp",
       contrib_module("extension/opampextension"),
       {{"extension", "Alpha"}}},
      {K::kExtension,
       "health_check",
       contrib_module("extension/healthcheckextension"),
       {{"extension", "Beta"}}},
      {K::kExtension, "zpages", core_module("extension/zpagesextension"), {{"extension", "Beta"}}},
      {K::kExtension, "pprof", contrib_module("extension/pprofextension"), {{"extension", "Beta"}}},
      {K::kExtension,
       "file_storage",
       contrib_module("extension/storage/filestorage"),
       {{"extension", "Beta"}}},
      {K::kExtension,
       "fault",
       "github.com/opamp-supervisor/fake-otelcol/faultextension v" + std::string(kBuildVersion),
       {{"extension", "Development"}}},
      {K::kConnector,
       "forward",
       core_module("connector/forwardconnector"),
       {{"logs-to-logs", "Beta"}, {"metrics-to-metrics", "Beta"}, {"traces-to-traces", "Beta"}}},
      {K::kConnector,
       "count",
       contrib_module("connector/countconnector"),
       {{"logs-to-metrics", "Alpha"},
        {"metrics-to-metrics", "Alpha"},
        {"traces-to-metrics", "Alpha"}}},
  };
  return factories;
}

std::vector<std::string> component_types(ComponentKind kind) {
  std::vector<std::string> types;
  for (const auto &factory : component_factories()) {
    if (factory.kind == kind)
      types.push_back(factory.type);
  }
  std::sort(types.begin(), types.end());
  return types;
}

bool is_known_component(ComponentKind kind, const std::string &type) {
  for (const auto &factory : component_factories()) {
    if (factory.kind == kind && factory.type == type)
      return true;
  }
  return false;
}

std::string kind_name(ComponentKind kind) {
  switch (kind) {
    case ComponentKind::kReceiver:
      return "receiver";
    case ComponentKind::kProcessor:
      return "processor";
    case ComponentKind::kExporter:
      return "exporter";
    case ComponentKind::kExtension:
      return "extension";
    case ComponentKind::kConnector:
      return "connector";
  }
  return "";
}

std::string kind_section(ComponentKind kind) {
  return kind_name(kind) + "s";
}

std::string describe_components() {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "buildinfo" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "command" << YAML::Value << kBuildCommand;
  out << YAML::Key << "description" << YAML::Value << kBuildDescription;
  out << YAML::Key << "version" << YAML::Value << kBuildVersion;
  out << YAML::EndMap;
  // Same section order as `otelcol components`.
  for (ComponentKind kind :
       {ComponentKind::kReceiver, ComponentKind::kProcessor, ComponentKind::kExporter,
        ComponentKind::kConnector, ComponentKind::kExtension}) {
    out << YAML::Key << kind_section(kind) << YAML::Value << YAML::BeginSeq;
    for (const auto &type : component_types(kind)) {
      for (const auto &factory : component_factories()) {
        if (factory.kind != kind || factory.type != type)
          continue;
        out << YAML::BeginMap;
        out << YAML::Key << "name" << YAML::Value << factory.type;
        out << YAML::Key << "module" << YAML::Value << factory.module;
        out << YAML::Key << "stability" << YAML::Value << YAML::BeginMap;
        for (const auto &[signal, level] : factory.stability) {
          out << YAML::Key << signal << YAML::Value << level;
        }
        out << YAML::EndMap << YAML::EndMap;
      }
    }
    out << YAML::EndSeq;
  }
  out << YAML::Key << "providers" << YAML::Value << YAML::BeginSeq;
  for (const char *scheme : {"env", "file"}) {
    out << YAML::BeginMap << YAML::Key << "scheme" << YAML::Value << scheme;
    out << YAML::Key << "module" << YAML::Value
        << "go.opentelemetry.io/collector/confmap/provider/" + std::string(scheme) +
               "provider v1.36.0";
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

std::string available_components_hash() {
  std::string serialized;
  for (ComponentKind kind : kAllKinds) {
    serialized += kind_name(kind) + ":";
    for (const auto &type : component_types(kind)) {
      for (const auto &factory : component_factories()) {
        if (factory.kind == kind && factory.type == type) {
          serialized += type + "=" + factory.module + ";";
        }
      }
    }
  }
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char *>(serialized.data()), serialized.size(), digest);
  return std::string(reinterpret_cast<const char *>(digest), sizeof digest);
}

}  // namespace opsup::fakeotelcol
