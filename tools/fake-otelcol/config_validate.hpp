// Decoding and validating a merged configuration like the Collector does before it starts.
#pragma once

#include <yaml-cpp/yaml.h>

#include "service_model.hpp"

namespace opsup::fakeotelcol {

class FeatureGates;

// Throws ConfigError with the Collector's text: "failed to get config: cannot unmarshal the
// configuration: ..." for decoding problems, "invalid configuration: ..." for the rest.
ServiceModel validate_config(const YAML::Node &config, const FeatureGates &gates);

}  // namespace opsup::fakeotelcol
