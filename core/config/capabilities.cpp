#include "config/capabilities.hpp"

#include <algorithm>
#include <array>
#include <optional>

#include "config/capability_bits.hpp"
#include "config/config_loader.hpp"

namespace opsup::config {
namespace {

using C = CapabilitiesConfig;
namespace bit = capability;

constexpr std::array kKeys{
    // Upstream (I#49763): accepting remote config reports its status too.
    CapabilityKey{"accepts_remote_config", &C::accepts_remote_config,
                  bit::kAcceptsRemoteConfig | bit::kReportsRemoteConfig,
                  "AcceptsRemoteConfig, ReportsRemoteConfig", "remote_config", false},
    CapabilityKey{"accepts_restart_command", &C::accepts_restart_command,
                  bit::kAcceptsRestartCommand, "AcceptsRestartCommand", "restart_command", false},
    CapabilityKey{"accepts_opamp_connection_settings", &C::accepts_opamp_connection_settings,
                  bit::kAcceptsOpAMPConnectionSettings, "AcceptsOpAMPConnectionSettings",
                  "connection_settings", false},
    CapabilityKey{"reports_effective_config", &C::reports_effective_config,
                  bit::kReportsEffectiveConfig, "ReportsEffectiveConfig", "effective_config", true},
    CapabilityKey{"reports_own_metrics", &C::reports_own_metrics, bit::kReportsOwnMetrics,
                  "ReportsOwnMetrics", "own_telemetry", true},
    CapabilityKey{"reports_own_logs", &C::reports_own_logs, bit::kReportsOwnLogs, "ReportsOwnLogs",
                  "own_telemetry", false},
    CapabilityKey{"reports_own_traces", &C::reports_own_traces, bit::kReportsOwnTraces,
                  "ReportsOwnTraces", "own_telemetry", false},
    CapabilityKey{"reports_health", &C::reports_health, bit::kReportsHealth, "ReportsHealth",
                  "health", true},
    // Deprecated upstream: no bits of its own; the loader warns when it is written.
    CapabilityKey{"reports_remote_config", &C::reports_remote_config, 0, "ReportsRemoteConfig",
                  "remote_config", false},
    CapabilityKey{"reports_available_components", &C::reports_available_components,
                  bit::kReportsAvailableComponents, "ReportsAvailableComponents",
                  "available_components", false},
    CapabilityKey{"reports_heartbeat", &C::reports_heartbeat, bit::kReportsHeartbeat,
                  "ReportsHeartbeat", "", true},
    CapabilityKey{"accepts_packages", &C::accepts_packages,
                  bit::kAcceptsPackages | bit::kReportsPackageStatuses,
                  "AcceptsPackages, ReportsPackageStatuses", "packages", false},
    CapabilityKey{"accepts_other_connection_settings", &C::accepts_other_connection_settings,
                  bit::kAcceptsOtherConnectionSettings, "AcceptsOtherConnectionSettings",
                  "connection_settings", false},
    CapabilityKey{"reports_connection_settings_status", &C::reports_connection_settings_status,
                  bit::kReportsConnectionSettingsStatus, "ReportsConnectionSettingsStatus",
                  "connection_settings", false},
};

constexpr std::array<std::string_view, 16> kBitNames{
    "ReportsStatus",
    "AcceptsRemoteConfig",
    "ReportsEffectiveConfig",
    "AcceptsPackages",
    "ReportsPackageStatuses",
    "ReportsOwnTraces",
    "ReportsOwnMetrics",
    "ReportsOwnLogs",
    "AcceptsOpAMPConnectionSettings",
    "AcceptsOtherConnectionSettings",
    "AcceptsRestartCommand",
    "ReportsHealth",
    "ReportsRemoteConfig",
    "ReportsHeartbeat",
    "ReportsAvailableComponents",
    "ReportsConnectionSettingsStatus",
};

// The id of a disabled module that would provide `key`: an installed module listed in
// plugins.disable owning one of its bits, else the built-in provider when plugins.disable
// lists it.
std::optional<std::string> disabled_provider(const SupervisorConfig &config,
                                             const std::vector<InstalledModule> &modules,
                                             const CapabilityKey &key) {
  for (const auto &module : modules) {
    if (module.disabled && (module.capabilities & key.bits) != 0)
      return module.id;
  }
  const auto &disable = config.plugins.disable;
  if (std::find(disable.begin(), disable.end(), key.module_id) != disable.end()) {
    return std::string(key.module_id);
  }
  return std::nullopt;
}

}  // namespace

std::span<const CapabilityKey> capability_keys() {
  return kKeys;
}

std::string capability_names(uint64_t bits) {
  std::string names;
  for (std::size_t i = 0; i < kBitNames.size(); ++i) {
    if ((bits & (uint64_t{1} << i)) == 0)
      continue;
    if (!names.empty())
      names += '|';
    names += kBitNames[i];
  }
  const uint64_t unknown = bits & ~uint64_t{0xFFFF};
  if (unknown != 0) {
    if (!names.empty())
      names += '|';
    names += "0x" + [&] {
      static constexpr char kHex[] = "0123456789abcdef";
      std::string hex;
      for (uint64_t v = unknown; v != 0; v >>= 4)
        hex.insert(hex.begin(), kHex[v & 0xF]);
      return hex;
    }();
  }
  return names;
}

CapabilityDecision decide_capabilities(const SupervisorConfig &config,
                                       const std::vector<InstalledModule> &modules) {
  uint64_t owned = 0;
  for (const auto &module : modules) {
    if (!module.disabled)
      owned |= module.capabilities;
  }

  CapabilityDecision decision;
  decision.advertised = capability::kReportsStatus;
  for (const auto &key : kKeys) {
    const CapabilitySetting &setting = config.capabilities.*key.member;
    if (!setting.enabled)
      continue;
    if (key.module_id.empty()) {  // the core's own capability
      decision.advertised |= key.bits;
      continue;
    }
    if ((owned & key.bits) == key.bits) {
      decision.advertised |= key.bits;
      continue;
    }
    const std::string dotted = "capabilities." + std::string(key.key);
    const std::optional<std::string> disabled = disabled_provider(config, modules, key);
    const std::string module_id(disabled ? *disabled : key.module_id);
    const std::string why =
        disabled ? "is disabled by plugins.disable" : std::string("is not installed");
    if (setting.written) {
      decision.errors.push_back(
          Diagnostic{config.source_name, line_of(config.document.node(), dotted), dotted,
                     "true needs module \"" + module_id + "\" (" +
                         std::string(key.capability_names) + "), which " + why});
    } else {
      decision.infos.push_back(dotted + " is true by default, but module \"" + module_id + "\" (" +
                               std::string(key.capability_names) + ") " + why + "; not advertised");
    }
  }
  return decision;
}

}  // namespace opsup::config
