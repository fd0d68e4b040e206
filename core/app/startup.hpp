// The start-up steps `validate` and `run` share: load the modules, create them with the
// redacted config, and decide the advertised capabilities by the capability rule.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "app/cli.hpp"
#include "config/capabilities.hpp"
#include "config/config_loader.hpp"
#include "config/supervisor_config.hpp"
#include "modules/module_registry.hpp"

namespace opsup::app {

// The loader's options from the command line (feature gates).
config::LoadOptions config_load_options(const CommandLine &command);

// The module host's settings from the command line and the config.
modules::ModulesConfig modules_config(const CommandLine &command,
                                      const config::SupervisorConfig &config);

struct StartupOutcome {
  uint64_t advertised_capabilities = 0;
  std::vector<std::string> errors;  // each a complete message; non-empty means do not run
  std::vector<std::string> infos;   // default-true capabilities without a module, ...
};

// Loads and creates the modules of `registry` and applies the capability rule. A module
// that fails create because of its own config section is an error whose message carries
// the config file and line; other module failures only leave the module out.
StartupOutcome load_and_create_modules(modules::ModuleRegistry &registry,
                                       const config::SupervisorConfig &config);

// The modules the capability rule counts: those in `ready_state` (kLoaded when only
// inspected, kCreated after create) and, marked disabled, those plugins.disable keeps out.
std::vector<config::InstalledModule> installed_modules(
    const std::vector<modules::ModuleListing> &listing, modules::ModuleState ready_state);

// A module's error text starts with the dotted key it names ("plugins.x.y: ..."); prefix
// it with "file:line: " when that key is written in the config.
std::string locate_module_error(const config::SupervisorConfig &config, const std::string &text);

}  // namespace opsup::app
