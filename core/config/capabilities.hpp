// The capability rule (ARCHITECTURE.md "Module loading"): which AgentCapabilities the
// supervisor advertises, given the `capabilities:` keys and the installed modules.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/diagnostic.hpp"
#include "config/supervisor_config.hpp"

namespace opsup::config {

// One `capabilities:` key and what it switches on.
struct CapabilityKey {
  std::string_view key;  // "accepts_remote_config"
  CapabilitySetting CapabilitiesConfig::*member;
  uint64_t bits;                      // accepts_packages sets two bits
  std::string_view capability_names;  // "AcceptsRemoteConfig"
  std::string_view module_id;         // built-in module providing it; "" = the core
  bool default_value;
};

// Every key, in the Go supervisor's order followed by the new ones.
std::span<const CapabilityKey> capability_keys();

// "ReportsStatus|AcceptsRemoteConfig", for logs and messages.
std::string capability_names(uint64_t bits);

struct InstalledModule {
  std::string id;
  uint64_t capabilities = 0;  // the AgentCapabilities bits it owns
  // Listed in plugins.disable: it owns nothing, but errors say it is disabled rather
  // than not installed.
  bool disabled = false;
};

struct CapabilityDecision {
  uint64_t advertised = 0;
  // A key written `true` whose capability no installed module owns: start-up errors.
  Diagnostics errors;
  // A key true only by default whose module is missing: not advertised, said at info.
  std::vector<std::string> infos;
};

// `modules` are the installed modules: enabled ones (loaded, not disabled) and, marked
// `disabled`, the ones plugins.disable keeps out. ReportsStatus is always advertised;
// ReportsHeartbeat when reports_heartbeat is on (both belong to the core); every other
// key that is true, written or by default, is advertised when enabled modules own all of
// its bits. A key whose module is disabled (installed and disabled, or its id listed in
// plugins.disable) is reported as disabled by plugins.disable, not as not installed.
// Custom capabilities are not decided here.
CapabilityDecision decide_capabilities(const SupervisorConfig &config,
                                       const std::vector<InstalledModule> &modules);

}  // namespace opsup::config
