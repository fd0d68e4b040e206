#include "app/config_reload.hpp"

#include <boost/asio/io_context.hpp>

#include "app/offline_context.hpp"
#include "app/startup.hpp"
#include "config/config_loader.hpp"
#include "modules/module_registry.hpp"

namespace opsup::app {
namespace {

// Whether the modules would be created differently from how they were at start.
bool touches_modules(const std::vector<config::ConfigChange> &changes) {
  for (const auto &change : changes) {
    if (change.key.starts_with("plugins.") || change.key.starts_with("capabilities."))
      return true;
  }
  return false;
}

}  // namespace

std::string key_location(const config::SupervisorConfig &config, const std::string &key) {
  // Built piece by piece: GCC 12 misreads `":" + std::to_string(...)` (-Wrestrict).
  std::string location = config.source_name;
  if (const int line = config::line_of(config.document.node(), key); line > 0)
    location.append(":").append(std::to_string(line));
  return location.append(": ").append(key);
}

ReloadedConfig reload_config(const CommandLine &command, const config::SupervisorConfig &started) {
  ReloadedConfig reloaded;
  config::LoadResult result =
      config::load_supervisor_config(*command.config_path, config_load_options(command));
  for (const auto &warning : result.warnings)
    reloaded.warnings.push_back(warning.to_string());
  config::Diagnostics errors = std::move(result.errors);
  if (result.config) {
    for (auto &error : config::check_agent_executable(*result.config))
      errors.push_back(std::move(error));
  }
  for (const auto &error : errors)
    reloaded.errors.push_back(error.to_string());
  if (!reloaded.errors.empty())
    return reloaded;

  if (touches_modules(config::diff_configs(started, *result.config))) {
    boost::asio::io_context scratch_io;
    OfflineContext context(result.config->storage.directory);
    modules::ModuleRegistry registry(scratch_io, context, modules_config(command, *result.config));
    StartupOutcome outcome = load_and_create_modules(registry, *result.config);
    registry.stop();
    reloaded.errors = std::move(outcome.errors);
    if (!reloaded.errors.empty())
      return reloaded;
  }
  reloaded.config = std::move(result.config);
  return reloaded;
}

}  // namespace opsup::app
