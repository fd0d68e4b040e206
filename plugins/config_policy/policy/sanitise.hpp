// 'sanitise' mode: remove the offending components and every reference to them.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "violation.hpp"

namespace opsup::config_policy {

struct SanitiseResult {
  YAML::Node config;                 // a copy without the offending entries
  std::vector<std::string> removed;  // what was removed and why, one line each
};

// Removes each component named by a violation from its section, its ID from
// service.extensions and from the receivers/processors/exporters of every pipeline
// (a connector from both ends), and any pipeline left with no receivers or no exporters.
SanitiseResult sanitise(const YAML::Node &config, const std::vector<Violation> &violations);

}  // namespace opsup::config_policy
