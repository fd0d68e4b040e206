// What a Collector's `opamp` extension does, observed from an in-process OpAMP server
// (tests/support's OpampTestServer on core/transport), as a Shape for comparison.
#pragma once

#include "collector_probe.hpp"

namespace opsup::testing {

// The first connection: capability bits, which description attributes are identifying,
// the health tree's shape, effective config and available components (encoding, when
// sent), the answer to ReportFullState, to ReportAvailableComponents and to a remote
// config it does not accept; then SIGTERM (exit code, agent_disconnect).
Shape observe_opamp_session(CollectorKind kind, std::string &output);
// SIGHUP while connected: still running, reconnected, what it sent around the reload.
Shape observe_sighup(CollectorKind kind, std::string &output);
// The extension's `ppid` process dies: the Collector stops by itself.
Shape observe_parent_death(CollectorKind kind, std::string &output);

}  // namespace opsup::testing
