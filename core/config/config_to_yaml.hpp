// The typed config as YAML, every known key with its effective value (defaults included).
#pragma once

#include <yaml-cpp/yaml.h>

#include "config/supervisor_config.hpp"

namespace opsup::config {

// Strings are tagged "!" so emit_yaml keeps them strings; durations are Go text ("5s").
// Pass-through subtrees (telemetry processors/readers/resource, plugins.<id>) are
// included as parsed.
YAML::Node typed_config_yaml(const SupervisorConfig &config);

// The file as written, each missing or null known key filled with its default from
// typed_config_yaml, in file order (defaults after the written keys of each mapping).
YAML::Node effective_config_yaml(const SupervisorConfig &config);

}  // namespace opsup::config
