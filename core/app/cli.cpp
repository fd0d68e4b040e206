#include "app/cli.hpp"

#include <stdexcept>
#include <string_view>

namespace opsup::app {
namespace {

// Go's flag package accepts -name and --name, with the value joined by '=' or separate.
bool match_flag(std::string_view arg, std::string_view name,
                std::optional<std::string> &inline_value) {
  if (arg.starts_with("--")) {
    arg.remove_prefix(2);
  } else if (arg.starts_with("-")) {
    arg.remove_prefix(1);
  } else {
    return false;
  }
  if (arg == name) {
    inline_value.reset();
    return true;
  }
  if (arg.size() > name.size() && arg.starts_with(name) && arg[name.size()] == '=') {
    inline_value = std::string(arg.substr(name.size() + 1));
    return true;
  }
  return false;
}

std::string take_value(const std::vector<std::string> &args, size_t &index, std::string_view flag,
                       const std::optional<std::string> &inline_value) {
  if (inline_value) {
    if (inline_value->empty())
      throw std::invalid_argument("flag --" + std::string(flag) + " needs a value");
    return *inline_value;
  }
  if (index + 1 >= args.size()) {
    throw std::invalid_argument("flag --" + std::string(flag) + " needs a value");
  }
  return args[++index];
}

}  // namespace

void parse_feature_gates(const std::string &text, FeatureGates &gates) {
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string id =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    bool disable = false;
    if (!id.empty() && (id.front() == '+' || id.front() == '-')) {
      disable = id.front() == '-';
      id.erase(0, 1);
    }
    if (id.empty())
      throw std::invalid_argument("--feature-gates: empty gate id in \"" + text + "\"");
    (disable ? gates.disabled : gates.enabled).insert(id);
    (disable ? gates.enabled : gates.disabled).erase(id);
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
}

CommandLine parse_command_line(const std::vector<std::string> &args) {
  CommandLine command;
  bool verb_seen = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &arg = args[i];
    std::optional<std::string> inline_value;
    if (match_flag(arg, "config", inline_value)) {
      command.config_path = take_value(args, i, "config", inline_value);
    } else if (match_flag(arg, "modules-dir", inline_value)) {
      command.modules_dir = take_value(args, i, "modules-dir", inline_value);
    } else if (match_flag(arg, "feature-gates", inline_value)) {
      parse_feature_gates(take_value(args, i, "feature-gates", inline_value),
                          command.feature_gates);
    } else if (match_flag(arg, "version", inline_value)) {
      command.verb = Verb::kVersion;
    } else if (match_flag(arg, "help", inline_value) || arg == "-h") {
      command.verb = Verb::kHelp;
    } else if (!verb_seen && (arg == "validate" || arg == "modules")) {
      verb_seen = true;
      command.verb = arg == "validate" ? Verb::kValidate : Verb::kModules;
    } else if (!arg.empty() && arg.front() == '-') {
      throw std::invalid_argument("unknown flag " + arg + " (see --help)");
    } else {
      throw std::invalid_argument("unexpected argument \"" + arg + "\" (see --help)");
    }
  }
  if ((command.verb == Verb::kRun || command.verb == Verb::kValidate) && !command.config_path) {
    throw std::invalid_argument("--config FILE is required (see --help)");
  }
  return command;
}

std::string usage_text() {
  return R"(Usage:
  opampsupervisor --config FILE [--feature-gates GATES] [--modules-dir DIR]
      Run the supervisor with FILE (the Go supervisor's YAML schema): the OpAMP
      session, the modules and the Collector (agent.executable) as its child.
  opampsupervisor validate --config FILE [--feature-gates GATES] [--modules-dir DIR]
      Check the config and the installed modules; exit 1 with every error.
  opampsupervisor modules [--config FILE] [--modules-dir DIR]
      List installed modules, the capabilities each owns, which of them the
      config switches on, and which modules are disabled or refused (and why).
  opampsupervisor --version | --help

Flags:
  --config FILE          supervisor config file (YAML)
  --feature-gates GATES  comma-separated gate ids; '-id' disables (e.g. opampsupervisor.Extensions)
  --modules-dir DIR      capability module directory; overrides plugins.directory and the
                         default <executable dir>/../lib/opampsupervisor/modules
)";
}

}  // namespace opsup::app
