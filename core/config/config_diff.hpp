// What differs between two supervisor configs, key by key, and which of those changes a
// running supervisor applies on SIGHUP (the rest take effect at the next start).
//
// Applied while running (everything else waits for a restart):
//   telemetry.logs.level, .encoding, .output_paths, .error_output_paths,
//   telemetry.logs.rotation                             the log outputs, opened anew
//   agent.config_files                                  the Collector's config is recomposed
//   agent.description.identifying_attributes,
//   agent.description.non_identifying_attributes        the AgentDescription is sent again
//   server.heartbeat_interval                           the heartbeat timer is re-armed
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/supervisor_config.hpp"

namespace opsup::config {

struct ConfigChange {
  // The dotted key that differs ("server.endpoint", "agent.config_files",
  // "plugins.com.example.x.level"); values are never part of it, so it may be logged.
  std::string key;
  bool live = false;  // applied by a running supervisor
};

// Every key whose effective value (defaults included) differs, in the order of
// typed_config_yaml, then keys only `after` has. Lists compare as a whole.
std::vector<ConfigChange> diff_configs(const SupervisorConfig &before,
                                       const SupervisorConfig &after);

// True when a running supervisor applies a change of `dotted_key`.
bool applies_while_running(std::string_view dotted_key);

}  // namespace opsup::config
