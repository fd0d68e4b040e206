// The Collector an integration test runs: the real one built from tools/otelcol, or the
// stand-in (tools/fake-otelcol) for faults the real one cannot show. A test that asks for
// the real Collector fails, never skips, when it is missing.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "support/child_process.hpp"

namespace YAML {
class Node;
}

namespace opsup::testing {

enum class CollectorKind {
  kReal,     // $OPSUP_OTELCOL_BIN, else <build>/bin/otelcol-opsup (tools/otelcol/build.sh)
  kStandIn,  // <build>/bin/fake-otelcol
  // The real Collector reporting a newer version (0.149.1-opsup.next), for binary updates:
  // $OPSUP_OTELCOL_NEXT_BIN, else <build>/bin/otelcol-opsup-next (tools/otelcol/build.sh)
  kRealNext,
};

// "real" or "stand-in", for test names and messages.
std::string collector_kind_name(CollectorKind kind);

// The executable of that kind. Throws std::runtime_error (which fails the test) naming the
// path and how to build it when it is missing or not executable.
std::filesystem::path collector_executable(CollectorKind kind);

// A Collector config both kinds run: otlp (gRPC on a free loopback port) -> debug in a traces
// pipeline, with internal metrics off so no fixed port (8888) has to be free.
YAML::Node minimal_pipeline_config();

// Starts that Collector with `args` (e.g. {"--config", path}); killed with the object.
std::unique_ptr<ChildProcess> start_collector(CollectorKind kind,
                                              const std::vector<std::string> &args);

}  // namespace opsup::testing
