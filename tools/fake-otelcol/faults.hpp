// The `fault` extension, only in this stand-in: lets a test's config make the Collector
// crash, start slowly, stay unhealthy, fail reloads, ignore SIGTERM or stop when its `ppid`
// dies.
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <optional>
#include <string>

namespace opsup::fakeotelcol {

struct FaultSettings {
  std::optional<std::chrono::milliseconds> exit_after;  // crash this long after start
  int exit_code = 1;
  std::string crash_message;  // printed on stderr before crashing; a default names the fault
  std::chrono::milliseconds start_delay{0};  // pipelines take this long to become ready
  bool never_healthy = false;                // a component stays in StatusRecoverableError
  bool fail_reload = false;                  // SIGHUP reloads fail (the process exits 1)
  bool ignore_sigterm = false;               // SIGTERM/SIGINT are logged and ignored (a hang)
  // The real Collector v0.149.0 accepts the opamp extension's `ppid` but never stops when
  // that process dies; this makes the stand-in stop, as a Collector whose watch works would.
  bool honour_ppid = false;
  // The opamp extension offers this custom capability and answers each custom message of it
  // with one of type "echo.<type>" and the same data (no real component does this here; it
  // lets tests forward custom messages both ways).
  std::string echo_custom_capability;
};

// Throws DecodeError for unknown keys or wrong types, InvalidError for bad values.
FaultSettings decode_fault_settings(const YAML::Node &node);

}  // namespace opsup::fakeotelcol
