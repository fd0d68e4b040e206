// Checks a Collector config against the policy and lists every violation.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string_view>
#include <vector>

#include "settings.hpp"
#include "violation.hpp"

namespace opsup::config_policy {

inline constexpr size_t kMaxConfigBytes = 4 * 1024 * 1024;
inline constexpr int kMaxDepth = 64;

// The component kinds of a Collector config, in the order they are checked.
inline constexpr std::string_view kKinds[] = {"receivers", "processors", "exporters", "extensions",
                                              "connectors"};

// Every violation in `config` (a parsed Collector config), in config order.
std::vector<Violation> check_config(const YAML::Node &config, const Settings &settings);

// Parses `yaml` (at most kMaxConfigBytes) and checks it. Throws std::invalid_argument when
// it is too long or not YAML.
YAML::Node parse_config(std::string_view yaml);

}  // namespace opsup::config_policy
