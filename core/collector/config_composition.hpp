// The Collector's config, composed from ordered layers the way the Go supervisor's
// `agent.config_files` works, plus the layers only this supervisor has:
//
//   agent.config_files, each a local file (a path or file:<path>), env:<VAR> (the variable's
//   text), or one of the tokens $OWN_TELEMETRY_CONFIG, $OPAMP_EXTENSION_CONFIG,
//   $REMOTE_CONFIG. A missing $OWN_TELEMETRY_CONFIG goes first, a missing
//   $OPAMP_EXTENSION_CONFIG and then $REMOTE_CONFIG go last.
//   $REMOTE_CONFIG: the remote config's files in name order, "" last; a file that sets
//   service::telemetry::resource::attributes replaces the list built so far.
//   Module layers, in the order given, right after $REMOTE_CONFIG.
//   The supervisor's own keys, imposed after everything: `extensions.opamp` replaced whole,
//   `opamp` kept in service::extensions, service.instance.id in the resource (in the
//   `attributes` list when the config uses one, else in the inline map v0.149.0 takes); so
//   no remote or module layer can cut the supervisor off from its Collector.
//
// Later layers win (see config_merge.hpp); `base_yaml`, when given, lies under all of them.
// `${...}` references stay text for the Collector, and scalars keep their YAML type
// (common/yaml_emit.hpp).
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace opsup::collector {

inline constexpr const char *kOwnTelemetryToken = "$OWN_TELEMETRY_CONFIG";
inline constexpr const char *kOpampExtensionToken = "$OPAMP_EXTENSION_CONFIG";
inline constexpr const char *kRemoteConfigToken = "$REMOTE_CONFIG";

struct ConfigLayer {
  std::string name;  // a remote config file's name, or a module layer's name
  std::string yaml;  // "" for an empty layer
};

struct CompositionInput {
  // Merged under every other layer (the nop pipeline when a Collector without the
  // service.AllowNoPipelines gate would otherwise have no pipeline).
  std::string base_yaml;
  std::vector<std::string> config_files;   // agent.config_files as written
  std::string own_telemetry_yaml;          // $OWN_TELEMETRY_CONFIG ("" = none)
  std::string opamp_extension_yaml;        // $OPAMP_EXTENSION_CONFIG ("" = none)
  std::vector<ConfigLayer> remote_config;  // AgentConfigMap entries, any order
  std::vector<ConfigLayer> module_layers;  // after $REMOTE_CONFIG, in this order
  // Module layers placed at $OWN_TELEMETRY_CONFIG, after own_telemetry_yaml, in this order.
  std::vector<ConfigLayer> own_telemetry_layers;
  std::string instance_uid;  // service.instance.id ("" = not imposed)
};

// A layer that cannot be read or is not a YAML map; what() names the layer (the file's
// path, the token, or "remote config file '<name>'" / "module layer '<name>'") and, for
// YAML errors, the line.
class CompositionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The composed config as YAML text (block style, keys in map order). Throws
// CompositionError.
std::string compose_collector_config(const CompositionInput &input);

// agent.config_files with the missing tokens added at their default positions.
std::vector<std::string> layer_order(const std::vector<std::string> &config_files);

}  // namespace opsup::collector
