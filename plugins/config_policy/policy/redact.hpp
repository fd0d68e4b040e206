// Redaction of secrets in the effective config reported to the server.
#pragma once

#include <yaml-cpp/yaml.h>

#include "settings.hpp"

namespace opsup::config_policy {

inline constexpr const char *kRedacted = "[REDACTED]";

// A copy of `config` where every scalar under a key containing one of
// settings.secret_key_patterns (case-insensitive), and every "Bearer ..." or "Basic ..."
// value, is replaced by kRedacted. Unchanged when settings.redact is false.
YAML::Node redact_secrets(const YAML::Node &config, const Settings &settings);

}  // namespace opsup::config_policy
