// What a validated configuration describes: the pipelines and enabled extensions, plus the
// settings of the extensions this stand-in emulates.
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "faults.hpp"
#include "logger.hpp"
#include "opamp_settings.hpp"

namespace opsup::fakeotelcol {

struct PipelineModel {
  std::string id;  // "traces", "metrics/2"
  std::vector<std::string> receivers;
  std::vector<std::string> processors;
  std::vector<std::string> exporters;
};

struct HealthCheckSettings {
  std::string endpoint = "localhost:13133";
  std::string path = "/";
};

struct ServiceModel {
  YAML::Node config;  // merged and expanded
  std::vector<PipelineModel> pipelines;
  std::vector<std::string> extensions;  // service.extensions, in order
  std::vector<std::string> connectors;  // connector ids used by pipelines
  // Settings of the enabled extensions that this stand-in emulates.
  std::optional<OpampSettings> opamp;
  std::optional<FaultSettings> fault;
  std::optional<HealthCheckSettings> health_check;
  LogSettings logs;
  std::map<std::string, std::string> resource;  // service.telemetry.resource
};

}  // namespace opsup::fakeotelcol
