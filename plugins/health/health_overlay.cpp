#include "health_overlay.hpp"

#include <string_view>

namespace opsup::health {

namespace {

// Log tails end with a newline; a reason reads better without it.
std::string_view trim_trailing_space(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
    text.remove_suffix(1);
  return text;
}

// Not known yet: the module has started but the core has not said whether the Collector
// runs, and nothing has reported. ComponentHealth has no "unknown": `healthy` is a plain
// bool, so unknown is healthy=false (the spec asks for last_error when unhealthy) with
// status StatusStarting, which the Collector itself uses for "not ready yet", and
// start_time 0, which the spec requires while the agent is not running.
proto::ComponentHealth unknown(const ProcessState &process) {
  proto::ComponentHealth health;
  health.set_healthy(false);
  health.set_status(kStatusStarting);
  health.set_last_error("Collector is not running yet; waiting for its first health report");
  health.set_status_time_unix_nano(process.changed_unix_nano);
  return health;
}

// Started, but its extension has not reported: the process runs, its pipelines are not
// known to be ready. The extension itself starts from healthy=false too.
proto::ComponentHealth starting(const ProcessState &process) {
  proto::ComponentHealth health;
  health.set_healthy(false);
  health.set_start_time_unix_nano(process.start_unix_nano);
  health.set_status(kStatusStarting);
  health.set_last_error("Collector started (pid " + std::to_string(process.pid) +
                        "); waiting for its first health report");
  health.set_status_time_unix_nano(process.changed_unix_nano);
  return health;
}

// Not running: whatever a dead process said about its components no longer holds, so
// its tree is dropped, and start_time is 0 as the spec requires.
proto::ComponentHealth stopped(const ProcessState &process) {
  proto::ComponentHealth health;
  health.set_healthy(false);
  health.set_status(process.failed ? kStatusFatalError : kStatusStopped);
  health.set_last_error(process.reason);
  health.set_status_time_unix_nano(process.changed_unix_nano);
  return health;
}

}  // namespace

std::string exit_reason(int32_t exit_code, std::string_view message) {
  message = trim_trailing_space(message);
  if (!message.empty())
    return std::string(message);
  return exit_code < 0 ? "Collector was killed by signal " + std::to_string(-exit_code)
                       : "Collector exited with code " + std::to_string(exit_code);
}

proto::ComponentHealth overlay(const ProcessState &process,
                               const std::optional<proto::ComponentHealth> &reported) {
  switch (process.phase) {
    case ProcessState::Phase::kStopped:
      return stopped(process);
    case ProcessState::Phase::kRunning:
      if (!reported)
        return starting(process);
      break;
    case ProcessState::Phase::kUnknown:
      if (!reported)
        return unknown(process);
      // The extension spoke before the core said the process started: trust it as is.
      return *reported;
  }
  // The extension's tree, component_health_map and all, but with the process's start as
  // the supervisor saw it: the extension's own start_time is only approximate.
  proto::ComponentHealth health = *reported;
  if (process.start_unix_nano != 0)
    health.set_start_time_unix_nano(process.start_unix_nano);
  return health;
}

}  // namespace opsup::health
