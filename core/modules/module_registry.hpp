// The module host: loads the capability modules of one directory, gives each its host
// services, runs their lifecycle with per-module failure isolation, and routes messages
// and events to them. Public API of opsup_modules; free of Asio and protobuf.
//
// Lifecycle (all on the loop thread, in this order):
//   load()    scan, check, load, read descriptors (runs only the modules' entries)
//   create()  create hooks, with the redacted supervisor config as YAML (each module
//             also gets its plugins.<id> section through own_settings_yaml)
//   start()   start hooks
//   stop()    stop hooks (reverse order), cancel timers, wait for blocking work, destroy
// A module whose create or start fails is listed with that state and left out of routing;
// the others carry on. The failure is logged with its id, path and reason ("continuing
// without it"), except a create returning OPSUP_ERR_INVALID_ARGUMENT: that is a rejected
// setting, returned in ModuleFailure for the caller to report as a config error.
//
// Threading: everything here runs on the thread that runs the io_context given to the
// constructor; the io_context must outlive the registry.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modules/collector_access.hpp"
#include "modules/module_loader.hpp"
#include "modules/supervisor_context.hpp"
#include "opsup/module.h"

namespace boost::asio {
class io_context;
}

namespace opsup::modules {

// The module host's part of the supervisor config.
struct ModulesConfig {
  std::filesystem::path directory;        // plugins.directory / --modules-dir / default
  std::vector<std::string> disabled_ids;  // plugins.disable
  std::string host_version = "0.1.0";     // passed to modules in opsup_host_info
};

// One *.so found, for `opampsupervisor modules` and for diagnostics.
struct ModuleListing {
  std::filesystem::path path;
  std::string id;  // empty when refused before its entry ran
  std::string version;
  std::string description;
  uint32_t abi_minor = 0;  // the minor its descriptor declares
  uint64_t capabilities = 0;
  std::vector<std::string> custom_capabilities;
  ModuleState state = ModuleState::kRefused;
  std::string reason;  // why refused, disabled or failed; empty otherwise
};

// A module whose create or start hook failed.
struct ModuleFailure {
  std::string id;
  std::filesystem::path path;
  opsup_status status = OPSUP_ERR_FAILED;  // OPSUP_ERR_INVALID_ARGUMENT: bad config
  std::string reason;                      // the module's error text
};

// A module refusing a candidate Collector config.
struct ModuleVeto {
  std::string id;
  std::string reason;
};

class ModuleRegistry {
 public:
  ModuleRegistry(boost::asio::io_context &io, SupervisorContext &context, ModulesConfig config);
  // Stops and destroys the modules (stop()), then unloads the libraries.
  ~ModuleRegistry();
  ModuleRegistry(const ModuleRegistry &) = delete;
  ModuleRegistry &operator=(const ModuleRegistry &) = delete;

  // Loads the modules of config.directory. Call once.
  void load();
  // Calls every loaded module's create hook with `redacted_supervisor_config_yaml`.
  // Returns the modules that failed (also logged and listed).
  std::vector<ModuleFailure> create(const std::string &redacted_supervisor_config_yaml);
  // Calls every created module's start hook. Returns the modules that failed.
  std::vector<ModuleFailure> start();
  // Stops and destroys every module, newest first. Idempotent.
  void stop();

  // What serves the modules' Collector services (ABI minor 3: set_config_layer,
  // set_remote_config, collector_state, composed_config, restart_collector,
  // validate_collector_config). nullptr (the default) makes them answer
  // OPSUP_ERR_UNSUPPORTED. May be set or changed at any time on the loop thread; `access`
  // must outlive the registry or be replaced first. Done callbacks it holds for a module
  // are dropped once that module is stopped, so it may call them late.
  void set_collector_access(CollectorAccess *access);

  // AgentCapabilities bits owned by modules that are loaded and have not failed.
  uint64_t capabilities() const;
  // Custom capability names of those modules, in load order.
  std::vector<std::string> custom_capabilities() const;
  // The id of the module (loaded, not failed) owning capability `bit`, if any.
  std::optional<std::string> capability_owner(uint64_t bit) const;

  // Delivers `server_to_agent` (serialized ServerToAgent) to every started module that
  // asked for a field it holds, unless the field's capability is not in
  // `advertised_capabilities` (see message_routing.hpp for the rules). Returns the ids of
  // the modules it was delivered to. Malformed bytes are logged and delivered to none.
  std::vector<std::string> route_server_message(std::string_view server_to_agent,
                                                uint64_t advertised_capabilities);
  // Delivers `agent_to_server` (serialized AgentToServer from the local Collector) to
  // every started module that asked for a field it holds. Returns their ids.
  std::vector<std::string> route_collector_message(std::string_view agent_to_server);
  // Delivers a supervisor event to every started module. `event.message` may be NULL.
  // The caller fills every field its struct_size covers, generation included (the config
  // the Collector runs, for COLLECTOR_* events); modules built against an older minor read
  // only the fields they know.
  void publish_event(const opsup_event &event);
  // Lets every started module with a rewrite_collector_config hook rewrite a candidate, in
  // load order, each seeing the previous one's result. `notes` holds what each changed
  // ("module <id>: <line>"); `veto` is set when one refused it (the rest are not asked).
  struct ConfigRewrite {
    std::string config;
    std::vector<std::string> notes;
    std::optional<ModuleVeto> veto;
  };
  ConfigRewrite rewrite_collector_config(std::string_view config_yaml);
  // Asks every started module about a candidate Collector config; empty means accepted.
  // A module that fails to answer counts as a veto.
  std::vector<ModuleVeto> validate_collector_config(std::string_view config_yaml);

  // Every *.so found, in sorted file-name order, with its current state.
  std::vector<ModuleListing> listing() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Loads the modules of `directory` to list them, running only their entries, and unloads
// them again. For `opampsupervisor modules`.
std::vector<ModuleListing> inspect_modules(const std::filesystem::path &directory,
                                           const std::vector<std::string> &disabled_ids);

}  // namespace opsup::modules
