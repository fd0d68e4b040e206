// What the own_telemetry module reads from the supervisor's config: the storage directory
// (where the PEM files go), which of its capabilities are switched on, and its own section
// plugins.own_telemetry.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace opsup::own_telemetry {

// A bad key in plugins.own_telemetry; what() names it.
class SettingsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Settings {
  // storage.directory made absolute (against the current directory, as the supervisor
  // resolves it); empty when the config has none.
  std::string storage_directory;
  // capabilities.reports_own_metrics / _logs / _traces, indexed by Signal; the Go
  // supervisor's defaults (metrics on, logs and traces off) when not given.
  std::array<bool, 3> enabled{true, false, false};
  // plugins.own_telemetry.metrics_interval in ms; nullopt: the Collector's default (60 s).
  std::optional<uint64_t> metrics_interval_ms;
};

// Reads the redacted supervisor config the host passes to create. Throws SettingsError
// for an unknown key in plugins.own_telemetry (`own_section` is that section's YAML).
Settings parse_supervisor_settings(std::string_view supervisor_config_yaml,
                                   std::string_view own_section);

}  // namespace opsup::own_telemetry
