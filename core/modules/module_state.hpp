// A module's keys in persistent_state.yaml (the ABI's state_read and state_write, minor 3).
//
// Each module's keys live under the top-level map `modules`, by module id:
//
//   instance_id: 0190f1a8-6b1c-7c3e-9d1f-2b5c4e6a7f80
//   last_remote_config_status: {status: 1, last_remote_config_hash: 9f86, error_message: ""}
//   modules:
//     io.opsup.example.hello: {pings: 3}
//
// so the Go supervisor, which ignores unknown keys, still reads the file. Two keys name the
// supervisor's own top-level entries instead: `last_remote_config_status` (upstream format,
// checked; only for the module owning AcceptsRemoteConfig or ReportsRemoteConfig) and
// `instance_id` (read only).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "opsup/module.h"

namespace opsup::storage {
class PersistentState;
}

namespace opsup::modules {

inline constexpr std::string_view kModulesStateKey = "modules";
inline constexpr std::string_view kRemoteConfigStatusStateKey = "last_remote_config_status";
inline constexpr std::string_view kInstanceIdStateKey = "instance_id";

// Who asks.
struct StateCaller {
  std::string_view module_id;
  // Owns AcceptsRemoteConfig or ReportsRemoteConfig: may use last_remote_config_status.
  bool owns_remote_config_status = false;
};

struct StateOutcome {
  opsup_status status = OPSUP_OK;
  std::string yaml;     // read: the value as YAML text
  std::string problem;  // why, when not OPSUP_OK (for the log)
};

// OPSUP_OK with the value, OPSUP_ERR_NOT_FOUND, or OPSUP_ERR_INVALID_ARGUMENT (bad key, or
// last_remote_config_status without its capability).
StateOutcome read_module_state(const storage::PersistentState &state, const StateCaller &caller,
                               std::string_view key);

// Sets (`yaml_value` given) or removes the key and persists. OPSUP_OK,
// OPSUP_ERR_INVALID_ARGUMENT (bad key, instance_id, YAML that does not parse, an invalid
// last_remote_config_status or one without its capability) or OPSUP_ERR_FAILED (the file
// could not be written).
StateOutcome write_module_state(storage::PersistentState &state, const StateCaller &caller,
                                std::string_view key, std::optional<std::string_view> yaml_value);

}  // namespace opsup::modules
