// Reading the supervisor config file again (SIGHUP) with start-up's loader and checks, and
// telling which of its changes a running supervisor applies.
//
// The checks are start-up's: the loader's rules (each error with file and line),
// agent.executable, and, when plugins.* or capabilities.* differ from what the supervisor
// started with, the modules created once more from the new file in a scratch registry
// (as `validate` does), so a plugins.<id> section a module refuses is an error with its
// line here too, not only at the next start.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "app/cli.hpp"
#include "config/config_diff.hpp"
#include "config/supervisor_config.hpp"

namespace opsup::app {

struct ReloadedConfig {
  std::optional<config::SupervisorConfig> config;  // set exactly when `errors` is empty
  std::vector<std::string> errors;                 // complete messages ("file:line: key: ...")
  std::vector<std::string> warnings;
};

// Loads command.config_path again. `started` is the config the supervisor started with.
ReloadedConfig reload_config(const CommandLine &command, const config::SupervisorConfig &started);

// "file:line: key" where `key` is written in `config`, else "file: key".
std::string key_location(const config::SupervisorConfig &config, const std::string &key);

}  // namespace opsup::app
