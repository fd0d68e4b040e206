#include "app/commands.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "app/log_settings_mapping.hpp"
#include "app/module_directory.hpp"
#include "app/offline_context.hpp"
#include "app/session_options_mapping.hpp"
#include "app/startup.hpp"
#include "app/supervisor.hpp"
#include "common/logging.hpp"
#include "common/uuid.hpp"
#include "config/capabilities.hpp"
#include "config/config_loader.hpp"
#include "session/client_session.hpp"
#include "telemetry/telemetry_settings.hpp"

namespace opsup::app {
namespace {

// Feature gates the supervisor acts on; others are accepted for upstream command lines.
bool is_known_gate(const std::string &gate) {
  return gate == config::kExtensionsFeatureGate;
}

// Loads and checks the config file, printing every problem to stderr. `modules` only
// lists modules, so it does not need agent.executable to exist (`check_executable`).
std::optional<config::SupervisorConfig> load_config(const CommandLine &command,
                                                    bool check_executable = true) {
  config::LoadResult result =
      config::load_supervisor_config(*command.config_path, config_load_options(command));
  for (const auto &warning : result.warnings)
    std::cerr << "warning: " << warning.to_string() << "\n";
  config::Diagnostics errors = result.errors;
  if (result.config && check_executable) {
    for (auto &error : config::check_agent_executable(*result.config))
      errors.push_back(error);
  }
  if (result.config) {
    // The own-telemetry exporters: an upstream value this supervisor cannot honour (gRPC,
    // OTLP/JSON) stops here, with its file, line and key.
    try {
      for (const auto &note :
           telemetry::read_telemetry_settings(result.config->telemetry, result.config->source_name)
               .notes)
        std::cerr << "warning: " << note << "\n";
    } catch (const std::invalid_argument &error) {
      std::cerr << "error: " << error.what() << "\n";
      return std::nullopt;
    }
  }
  if (!errors.empty()) {
    for (const auto &error : errors)
      std::cerr << "error: " << error.to_string() << "\n";
    return std::nullopt;
  }
  return std::move(result.config);
}

// One note per enabled gate this supervisor does not act on, for `run` and `validate`.
std::vector<std::string> unused_feature_gate_notes(const CommandLine &command) {
  std::vector<std::string> notes;
  for (const auto &gate : command.feature_gates.enabled) {
    if (!is_known_gate(gate)) {
      notes.push_back("Feature gate " + gate +
                      " is not used by this supervisor; accepted and ignored");
    }
  }
  return notes;
}

void log_feature_gates(const CommandLine &command) {
  for (const auto &note : unused_feature_gate_notes(command))
    spdlog::info("{}", note);
}

std::string bits_or_none(uint64_t bits) {
  return bits == 0 ? "none" : config::capability_names(bits);
}

}  // namespace

int run_validate(const CommandLine &command) {
  common::configure_logging(
      {.level = "warn", .encoding = common::LogEncoding::kConsole, .output_paths = {"stderr"}});
  std::optional<config::SupervisorConfig> config = load_config(command);
  if (!config)
    return 1;

  // Printed, not logged: validate logs only warnings and errors.
  for (const auto &note : unused_feature_gate_notes(command))
    std::cout << "info: " << note << "\n";

  boost::asio::io_context io;
  OfflineContext context(config->storage.directory);
  const modules::ModulesConfig modules = modules_config(command, *config);
  modules::ModuleRegistry registry(io, context, modules);
  StartupOutcome outcome = load_and_create_modules(registry, *config);
  const std::vector<std::string> custom = registry.custom_capabilities();
  // A refused module file fails validation: CI sees it in the exit status. (`run` goes on
  // without it; `modules` lists it and exits 0.)
  for (const auto &module : registry.listing()) {
    if (module.state == modules::ModuleState::kRefused) {
      outcome.errors.push_back("module file " + module.path.string() +
                               " is refused: " + module.reason);
    }
  }
  registry.stop();
  for (const auto &info : outcome.infos)
    std::cout << "info: " << info << "\n";
  if (!outcome.errors.empty()) {
    for (const auto &error : outcome.errors)
      std::cerr << "error: " << error << "\n";
    return 1;
  }
  std::string custom_list;
  for (const auto &name : custom)
    custom_list += (custom_list.empty() ? "" : ",") + name;
  std::cout << "config " << command.config_path.value() << " is valid\n"
            << "module directory: " << modules.directory.string() << "\n"
            << "would advertise: " << config::capability_names(outcome.advertised_capabilities)
            << "; custom capabilities: " << (custom_list.empty() ? "none" : custom_list) << "\n";
  return 0;
}

int run_modules(const CommandLine &command) {
  common::configure_logging(
      {.level = "error", .encoding = common::LogEncoding::kConsole, .output_paths = {"stderr"}});
  config::SupervisorConfig defaults;  // capability defaults when no config is given
  std::optional<config::SupervisorConfig> loaded;
  if (command.config_path) {
    loaded = load_config(command, /*check_executable=*/false);
    if (!loaded)
      return 1;
  }
  const config::SupervisorConfig &config = loaded ? *loaded : defaults;
  const modules::ModulesConfig modules = modules_config(command, config);

  std::vector<modules::ModuleListing> listing =
      modules::inspect_modules(modules.directory, modules.disabled_ids);
  const uint64_t switched_on =
      config::decide_capabilities(config, installed_modules(listing, modules::ModuleState::kLoaded))
          .advertised;

  std::error_code error;
  const bool directory_exists = std::filesystem::is_directory(modules.directory, error);
  std::cout << "module directory: " << modules.directory.string()
            << (directory_exists ? "" : " (does not exist)") << "\n";
  if (listing.empty())
    std::cout << "no modules found\n";
  for (const auto &module : listing) {
    std::cout << (module.id.empty() ? "-" : module.id) << " "
              << (module.version.empty() ? "-" : module.version)
              << " owns=" << bits_or_none(module.capabilities);
    if (module.state == modules::ModuleState::kLoaded) {
      std::cout << " enabled=" << bits_or_none(module.capabilities & switched_on);
    }
    if (!module.custom_capabilities.empty()) {
      std::cout << " custom=";
      for (size_t i = 0; i < module.custom_capabilities.size(); ++i) {
        std::cout << (i ? "," : "") << module.custom_capabilities[i];
      }
    }
    if (!module.description.empty())
      std::cout << " \"" << module.description << "\"";
    std::cout << " " << modules::module_state_name(module.state);
    if (!module.reason.empty())
      std::cout << ": " << module.reason;
    std::cout << " (" << module.path.string() << ")\n";
  }
  return 0;
}

int run_supervisor(const CommandLine &command) {
  common::configure_logging({.level = "info", .encoding = common::LogEncoding::kJson});
  std::optional<config::SupervisorConfig> config = load_config(command);
  if (!config)
    return 1;
  try {
    common::configure_logging(make_log_settings(config->telemetry.logs));
  } catch (const std::exception &error) {
    std::cerr << "error: telemetry.logs: " << error.what() << "\n";
    return 1;
  }
  log_feature_gates(command);
  Supervisor supervisor(command, *config);
  return supervisor.run();
}

}  // namespace opsup::app
