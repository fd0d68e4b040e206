// The remote_config module's settings: the Go supervisor's `agent` keys it acts on, read
// from the supervisor config the host hands to create (already validated by the core).
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace opsup::remote_config {

struct Settings {
  std::chrono::milliseconds apply_timeout{5000};  // agent.config_apply_timeout
  bool validate_config = false;                   // agent.validate_config
  bool automatic_rollback = false;                // agent.automatic_config_rollback
  std::vector<std::filesystem::path> startup_fallback_configs;
};

// Throws std::invalid_argument naming the key ("agent.config_apply_timeout: ...").
Settings parse_settings(std::string_view supervisor_config_yaml);

// A Go duration ("5s", "1m30s", "250ms", "1.5h") in whole milliseconds; nullopt when it is
// not one or is negative.
std::optional<std::chrono::milliseconds> parse_go_duration(std::string_view text);

}  // namespace opsup::remote_config
