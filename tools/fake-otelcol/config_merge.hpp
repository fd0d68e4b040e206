// Loading and merging the --config sources like the Collector's confmap resolver: maps are
// merged recursively, later sources win, lists are replaced; ${env:NAME} is expanded.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

namespace opsup::fakeotelcol {

// Each uri is "PATH", "file:PATH", "env:NAME" or "yaml:<inline yaml>". `set_overrides` are
// --set values ("processors::batch::timeout=2s"), applied last. Throws ConfigError.
YAML::Node load_config(const std::vector<std::string> &uris,
                       const std::vector<std::string> &set_overrides);

// Merges `overlay` into `base` (maps recursively, everything else replaced).
void merge_into(YAML::Node &base, const YAML::Node &overlay);

// YAML with map keys sorted, like Go's yaml.Marshal of a map.
std::string to_sorted_yaml(const YAML::Node &node);

}  // namespace opsup::fakeotelcol
