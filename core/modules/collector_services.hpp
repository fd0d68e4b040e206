// The pure parts of the ABI's Collector services (minor 3): argument checks, copying
// set_remote_config's C array, and the translation of CollectorAccess answers into the C
// types. Free of Asio; host_services.cpp serves the services with them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modules/collector_access.hpp"
#include "opsup/module.h"

namespace opsup::modules {

// A config layer name or a persistent-state key: not empty, only [A-Za-z0-9_.-].
bool valid_service_name(std::string_view name);

// Why `name` is not a valid layer name or state key ("" quoted when NULL); nullopt when valid.
std::optional<std::string> service_name_problem(const char *name, std::string_view what);

// Why `flags` holds a bit other than `allowed`; nullopt when they are all allowed.
std::optional<std::string> flags_problem(uint32_t flags, uint32_t allowed);

// Copies set_remote_config's arguments: nullopt files for OPSUP_REMOTE_CONFIG_CLEAR, else
// the `count` files (an empty vector for 0). Returns a problem when the array is malformed.
std::optional<std::string> copy_remote_config_files(
    const opsup_config_file *files, size_t count, uint32_t flags,
    std::optional<std::vector<RemoteConfigFile>> &out);

// OPSUP_OK, OPSUP_ERR_VETO, OPSUP_ERR_INVALID_ARGUMENT or OPSUP_ERR_FAILED.
opsup_status config_change_status(ConfigChangeResult::Status status);

// OPSUP_COLLECTOR_HEALTH_*.
int32_t collector_health_code(CollectorHealth health);

// Writes `view` into the caller's `out` as collector_state does: min(out->struct_size,
// sizeof) bytes, then out->struct_size = that size. `last_error` must outlive the caller's
// use of out->last_error. False (nothing written) when out is NULL or too small to carry
// `running`.
bool fill_collector_state(const CollectorStateView &view, const std::string &last_error,
                          opsup_collector_state *out);

}  // namespace opsup::modules
