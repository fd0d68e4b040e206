// Command-line parsing for opampsupervisor. Accepts the Go supervisor's command line
// (`--config FILE`, `--feature-gates`) plus this supervisor's verbs and flags.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace opsup::app {

enum class Verb { kRun, kValidate, kModules, kVersion, kHelp };

struct FeatureGates {
  std::set<std::string> enabled;
  std::set<std::string> disabled;  // written with a leading '-'
};

struct CommandLine {
  Verb verb = Verb::kRun;
  std::optional<std::string> config_path;
  std::optional<std::string> modules_dir;
  FeatureGates feature_gates;
};

// Parses argv (without argv[0]). Throws std::invalid_argument with a message naming the
// offending argument.
CommandLine parse_command_line(const std::vector<std::string> &args);

// Parses "a,+b,-c" into enabled/disabled gate ids; throws on an empty id.
void parse_feature_gates(const std::string &text, FeatureGates &gates);

std::string usage_text();

}  // namespace opsup::app
