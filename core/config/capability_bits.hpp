// OpAMP AgentCapabilities bits (opamp.proto), kept here so the config library does not
// need the protobuf runtime. tests/unit/config pins them against the generated enum.
#pragma once

#include <cstdint>

namespace opsup::config::capability {

inline constexpr uint64_t kReportsStatus = 0x1;
inline constexpr uint64_t kAcceptsRemoteConfig = 0x2;
inline constexpr uint64_t kReportsEffectiveConfig = 0x4;
inline constexpr uint64_t kAcceptsPackages = 0x8;
inline constexpr uint64_t kReportsPackageStatuses = 0x10;
inline constexpr uint64_t kReportsOwnTraces = 0x20;
inline constexpr uint64_t kReportsOwnMetrics = 0x40;
inline constexpr uint64_t kReportsOwnLogs = 0x80;
inline constexpr uint64_t kAcceptsOpAMPConnectionSettings = 0x100;
inline constexpr uint64_t kAcceptsOtherConnectionSettings = 0x200;
inline constexpr uint64_t kAcceptsRestartCommand = 0x400;
inline constexpr uint64_t kReportsHealth = 0x800;
inline constexpr uint64_t kReportsRemoteConfig = 0x1000;
inline constexpr uint64_t kReportsHeartbeat = 0x2000;
inline constexpr uint64_t kReportsAvailableComponents = 0x4000;
inline constexpr uint64_t kReportsConnectionSettingsStatus = 0x8000;

// The bits the core itself provides; no module may own them.
inline constexpr uint64_t kCoreOwned = kReportsStatus | kReportsHeartbeat;

}  // namespace opsup::config::capability
