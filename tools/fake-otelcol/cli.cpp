#include "cli.hpp"

#include <stdexcept>

#include "components.hpp"

namespace opsup::fakeotelcol {
namespace {

// Splits "--name=value"; returns false when `arg` is not `flag` or `flag=...`.
bool match_flag(const std::string &arg, const std::string &flag, std::string *inline_value,
                bool *has_inline) {
  if (arg == flag) {
    *has_inline = false;
    return true;
  }
  if (arg.rfind(flag + "=", 0) == 0) {
    *inline_value = arg.substr(flag.size() + 1);
    *has_inline = true;
    return true;
  }
  return false;
}

}  // namespace

CommandLine parse_command_line(int argc, char **argv) {
  CommandLine command;
  bool verb_seen = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    bool has_inline = false;
    auto take_value = [&](const std::string &flag) {
      if (has_inline)
        return value;
      if (i + 1 >= argc)
        throw std::invalid_argument("flag needs an argument: " + flag);
      return std::string(argv[++i]);
    };
    if (match_flag(arg, "--config", &value, &has_inline)) {
      command.config_uris.push_back(take_value("--config"));
    } else if (match_flag(arg, "--feature-gates", &value, &has_inline)) {
      command.feature_gates.push_back(take_value("--feature-gates"));
    } else if (match_flag(arg, "--set", &value, &has_inline)) {
      command.set_overrides.push_back(take_value("--set"));
    } else if (arg == "--version" || arg == "-v") {
      command.verb = Verb::kVersion;
    } else if (arg == "--help" || arg == "-h") {
      command.verb = Verb::kHelp;
    } else if (arg.rfind("-", 0) == 0) {
      throw std::invalid_argument(
          arg.rfind("--", 0) == 0 ? "unknown flag: " + arg.substr(0, arg.find('='))
                                  : "unknown shorthand flag: '" + arg.substr(1, 1) + "' in " + arg);
    } else if (!verb_seen && command.verb == Verb::kRun) {
      verb_seen = true;
      if (arg == "validate") {
        command.verb = Verb::kValidate;
      } else if (arg == "components") {
        command.verb = Verb::kComponents;
      } else if (arg == "featuregate") {
        command.verb = Verb::kFeatureGate;
      } else {
        throw std::invalid_argument("unknown command \"" + arg + "\" for \"" + kBuildCommand +
                                    "\"");
      }
    } else if (command.verb == Verb::kFeatureGate && command.feature_gate_id.empty()) {
      command.feature_gate_id = arg;
    } else {
      throw std::invalid_argument("unknown command \"" + arg + "\" for \"" + kBuildCommand + "\"");
    }
  }
  return command;
}

std::string usage_text() {
  return std::string(kBuildDescription) +
         "\n\nUsage:\n"
         "  " +
         kBuildCommand +
         " [flags]\n"
         "  " +
         kBuildCommand +
         " [command]\n\n"
         "Available Commands:\n"
         "  components  Outputs available components in this collector distribution\n"
         "  featuregate Display feature gates information\n"
         "  help        Help about any command\n"
         "  validate    Validates the config without running the collector\n\n"
         "Flags:\n"
         "      --config -config=file:/path/to/first --config=file:path/to/second   Locations to "
         "the config file(s), note that only a single location can be set per flag entry e.g. "
         "--config=file:/path/to/first --config=file:path/to/second. (default [])\n"
         "      --feature-gates Flag                                                "
         "Comma-delimited "
         "list of feature gate identifiers. Prefix with '-' to disable the feature. '+' or no "
         "prefix will enable the feature.\n"
         "  -h, --help                                                              help for " +
         kBuildCommand +
         "\n"
         "      --set func                                                          Set arbitrary "
         "component config property. The component has to be defined in the config file and the "
         "flag has a higher precedence. Array config properties are overridden and maps are "
         "joined. Example --set=processors::batch::timeout=2s\n"
         "  -v, --version                                                           version for " +
         kBuildCommand + "\n";
}

}  // namespace opsup::fakeotelcol
