// How two Collector config layers combine, as the Go supervisor's confmap merge does: maps
// merge key by key (recursively), anything else in the later layer replaces the earlier
// value, with two exceptions: `service::extensions` lists are concatenated and
// de-duplicated, and `service::telemetry::resource::attributes` lists ({name, value}
// entries) merge by `name`, the later entry winning.
#pragma once

#include <initializer_list>

namespace YAML {
class Node;
}

namespace opsup::collector {

// Merges `overlay` into `base` (both whole Collector configs, maps or null). `base` is
// modified; `overlay` is copied from, never aliased.
void merge_config(YAML::Node &base, const YAML::Node &overlay);

// The node at `path` in `config`, or a null node when a step is missing or not a map (never
// throws, never inserts; yaml-cpp's own operator[] throws on a missing step's child).
YAML::Node config_at(const YAML::Node &config, std::initializer_list<const char *> path);

// True when `config` sets service::telemetry::resource::attributes.
bool sets_resource_attributes(const YAML::Node &config);

// Removes service::telemetry::resource::attributes from `config`, if present.
void clear_resource_attributes(YAML::Node &config);

}  // namespace opsup::collector
