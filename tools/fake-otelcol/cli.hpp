// The Collector's command line: `[validate|components|featuregate [id]] --config F...
// --feature-gates X,Y --set k=v --version --help`.
#pragma once

#include <string>
#include <vector>

namespace opsup::fakeotelcol {

enum class Verb { kRun, kValidate, kComponents, kFeatureGate, kVersion, kHelp };

struct CommandLine {
  Verb verb = Verb::kRun;
  std::vector<std::string> config_uris;    // each --config, in order
  std::vector<std::string> feature_gates;  // each --feature-gates value
  std::vector<std::string> set_overrides;  // each --set value ("a::b=v")
  std::string feature_gate_id;             // `featuregate <id>`
};

// Throws std::invalid_argument with the Collector's (cobra's) message: "unknown flag: --x",
// "flag needs an argument: --config", "unknown command \"x\" for \"fake-otelcol\"".
CommandLine parse_command_line(int argc, char **argv);

std::string usage_text();

}  // namespace opsup::fakeotelcol
