// The health the module reports: the Collector's own ComponentHealth tree (from its opamp
// extension) with the state of the Collector process laid over it. Pure functions over
// protobuf messages, so the rules read in one place.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "opamp.pb.h"

namespace opsup::health {

namespace proto = ::opamp::proto::v1;

// What the supervisor's events said last about the Collector process.
struct ProcessState {
  enum class Phase {
    kUnknown,  // no COLLECTOR_STARTED or COLLECTOR_EXITED seen yet
    kRunning,  // started; since_unix_nano is the process's start
    kExited,   // exited; exit_code and exit_message say how
  };
  Phase phase = Phase::kUnknown;
  uint64_t since_unix_nano = 0;  // when this phase began
  int64_t pid = 0;
  int32_t exit_code = 0;  // negative: killed by signal -exit_code
  std::string exit_message;
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

// "Collector exited with code 2: <message>" / "Collector was killed by signal 9".
std::string exit_reason(int32_t exit_code, std::string_view message);

}  // namespace opsup::health
