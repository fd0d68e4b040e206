// Runs one Collector (real or stand-in) through a scenario and describes what it did as a
// "shape": aspect name -> text. The conformance tests compare the shapes of both kinds
// aspect by aspect, so a difference names the aspect.
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/child_process.hpp"
#include "support/collector.hpp"
#include "support/temp_dir.hpp"

namespace opsup::testing {

using namespace std::chrono_literals;
using Shape = std::map<std::string, std::string>;

inline constexpr auto kProbeDeadline = std::chrono::seconds(60);
// How long a Collector whose `ppid` died may take to stop before it counts as "does not".
inline constexpr auto kOrphanGrace = std::chrono::seconds(10);
inline constexpr const char *kProbeInstanceUid = "0190f6a8-1234-7abc-8def-0123456789ab";

struct CommandResult {
  int exit_code = -1;
  std::vector<std::string> lines;  // stdout and stderr, in arrival order
};

// Runs the Collector to completion (start_collector in tests/support starts it).
CommandResult run_collector(CollectorKind kind, const std::vector<std::string> &args);

// The opamp extension pointing at `ws_url` with kProbeInstanceUid.
void add_opamp_extension(YAML::Node &config, const std::string &ws_url);
std::string write_config(const TempDir &dir, const YAML::Node &config,
                         const std::string &name = "config.yaml");

// `components`: top-level keys in order, buildinfo keys, each kind's entry fields and the
// stability keys and values per kind (not the lists of components themselves).
Shape components_shape(const CommandResult &result);
// `featuregate`: the header, and whether every row is "<id> <true|false> <stage> <text>".
Shape featuregate_shape(const CommandResult &result);
// `validate --config`: the exit code and the first three non-empty lines of output (the
// error, the section's reason, the detail), with go-yaml's syntax error detail and the list
// of valid component types masked.
Shape validate_shape(const CommandResult &result);

// Differences between two shapes, one line per aspect ("" when equal).
std::string shape_differences(const Shape &real, const Shape &stand_in);

}  // namespace opsup::testing
