// The health the module reports: the Collector's own ComponentHealth tree (from its opamp
// extension) with the state of the Collector process laid over it. Pure functions over
// protobuf messages, so the rules read in one place.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "opamp.pb.h"

namespace opsup::health {

namespace proto = ::opamp::proto::v1;

// What the supervisor's events said last about the Collector process.
struct ProcessState {
  enum class Phase {
    kUnknown,  // nothing said yet
    kRunning,  // started
    kStopped,  // exited, or could not start; `reason` says why
  };
  Phase phase = Phase::kUnknown;
  uint64_t changed_unix_nano = 0;  // when the supervisor last said something new
  uint64_t start_unix_nano = 0;    // kRunning: when the process started
  int64_t pid = 0;
  std::string reason;   // kStopped: why the Collector does not run
  bool failed = false;  // kStopped: ended by an error rather than a clean exit
};

// Status strings: the names the Collector's component status uses (component.Status), so a
// server shows the supervisor's overlay and the extension's reports alike.
inline constexpr const char *kStatusStarting = "StatusStarting";
inline constexpr const char *kStatusStopped = "StatusStopped";
inline constexpr const char *kStatusFatalError = "StatusFatalError";

// The ComponentHealth to report. `reported` is the latest tree the extension of the
// current process sent, nullopt when it has sent none.
proto::ComponentHealth overlay(const ProcessState &process,
                               const std::optional<proto::ComponentHealth> &reported);

// Why the Collector stopped, from a COLLECTOR_EXITED event: its message when it has one
// (the core words the exit and appends the log tail), else "Collector exited with code 2"
// or "Collector was killed by signal 9".
std::string exit_reason(int32_t exit_code, std::string_view message);

}  // namespace opsup::health
