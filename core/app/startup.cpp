#include "app/startup.hpp"

#include <map>
#include <string>
#include <string_view>

#include "app/module_directory.hpp"
#include "config/capabilities.hpp"
#include "config/config_loader.hpp"
#include "config/redaction.hpp"

namespace opsup::app {

config::LoadOptions config_load_options(const CommandLine &command) {
  config::LoadOptions options;
  options.feature_gates = command.feature_gates.enabled;
  return options;
}

std::string locate_module_error(const config::SupervisorConfig &config, const std::string &text) {
  const size_t colon = text.find(':');
  if (colon == std::string::npos || colon == 0)
    return text;
  const std::string_view key(text.data(), colon);
  if (key.find(' ') != std::string_view::npos)
    return text;
  const int line = config::line_of(config.document.node(), key);
  if (line <= 0)
    return text;
  return config.source_name + ":" + std::to_string(line) + ": " + text;
}

std::vector<config::InstalledModule> installed_modules(
    const std::vector<modules::ModuleListing> &listing, modules::ModuleState ready_state) {
  std::vector<config::InstalledModule> installed;
  for (const auto &module : listing) {
    if (module.state == ready_state) {
      installed.push_back({module.id, module.capabilities});
    } else if (module.state == modules::ModuleState::kDisabled) {
      installed.push_back({module.id, module.capabilities, /*disabled=*/true});
    }
  }
  return installed;
}

modules::ModulesConfig modules_config(const CommandLine &command,
                                      const config::SupervisorConfig &config) {
  modules::ModulesConfig modules;
  modules.directory = resolve_module_directory(command.modules_dir, config.plugins.directory);
  modules.disabled_ids = config.plugins.disable;
  modules.host_version = OPSUP_VERSION;
  return modules;
}

StartupOutcome load_and_create_modules(modules::ModuleRegistry &registry,
                                       const config::SupervisorConfig &config) {
  StartupOutcome outcome;
  registry.load();
  for (const auto &failure : registry.create(config::redacted_yaml(config))) {
    if (failure.status == OPSUP_ERR_INVALID_ARGUMENT) {
      outcome.errors.push_back(locate_module_error(config, failure.reason) + " (module \"" +
                               failure.id + "\", " + failure.path.string() + ")");
    }
  }

  const std::vector<modules::ModuleListing> listing = registry.listing();
  const std::vector<config::InstalledModule> installed =
      installed_modules(listing, modules::ModuleState::kCreated);
  std::vector<std::string> installed_ids;  // whose plugins.<id> sections are not stray
  std::map<std::string, std::string> refused_ids;
  std::string unidentified;  // files refused before their entry gave an id
  size_t unidentified_count = 0;
  for (const auto &module : listing) {
    if (module.state == modules::ModuleState::kRefused) {
      const std::string why = module.path.string() + ": " + module.reason;
      if (!module.id.empty()) {
        refused_ids.emplace(module.id, why);
      } else {
        unidentified += (unidentified.empty() ? "" : "; ") + why;
        ++unidentified_count;
      }
    } else if (!module.id.empty()) {
      installed_ids.push_back(module.id);
    }
  }
  if (unidentified_count > 0) {
    unidentified = (unidentified_count == 1
                        ? std::string("a module file was refused before its id was known: ")
                        : std::to_string(unidentified_count) +
                              " module files were refused before their ids were known: ") +
                   unidentified;
  }
  for (const auto &warning :
       config::check_module_sections(config, installed_ids, refused_ids, unidentified)) {
    outcome.infos.push_back(warning.to_string());
  }
  config::CapabilityDecision decision = config::decide_capabilities(config, installed);
  for (const auto &error : decision.errors)
    outcome.errors.push_back(error.to_string());
  for (auto &info : decision.infos)
    outcome.infos.push_back(std::move(info));
  outcome.advertised_capabilities = decision.advertised;
  return outcome;
}

}  // namespace opsup::app
