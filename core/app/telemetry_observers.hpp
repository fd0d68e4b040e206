// Where the supervisor's own telemetry learns what modules do: thin pass-through wrappers
// around the session (as the modules' SupervisorContext) and the Collector controller (as
// their CollectorAccess) that report remote config statuses and the startup fallback
// layer, and change nothing.
#pragma once

#include <functional>
#include <string>

#include "modules/collector_access.hpp"
#include "modules/supervisor_context.hpp"

namespace opsup::app {

// A RemoteConfigStatus a module set on the outgoing AgentToServer.
struct RemoteConfigStatusSeen {
  int status = 0;  // RemoteConfigStatuses: 1 APPLIED, 2 APPLYING, 3 FAILED
  std::string hash;
  std::string error_message;
};

class ObservedSupervisorContext final : public modules::SupervisorContext {
 public:
  ObservedSupervisorContext(modules::SupervisorContext &inner,
                            std::function<void(const RemoteConfigStatusSeen &)> on_status)
      : inner_(inner), on_status_(std::move(on_status)) {}

  modules::InstanceUid instance_uid() const override { return inner_.instance_uid(); }
  uint64_t server_capabilities() const override { return inner_.server_capabilities(); }
  std::filesystem::path storage_directory() const override { return inner_.storage_directory(); }
  void set_agent_fields(std::string_view module_id, std::span<const uint32_t> owned_fields,
                        std::string_view agent_to_server) override;
  storage::PersistentState *persistent_state_for_modules() override {
    return inner_.persistent_state_for_modules();
  }
  bool try_connection_settings(
      std::string_view opamp_connection_settings, std::chrono::milliseconds timeout, bool committed,
      std::function<void(const modules::ConnectionTrialResult &)> done) override {
    return inner_.try_connection_settings(opamp_connection_settings, timeout, committed,
                                          std::move(done));
  }

 private:
  modules::SupervisorContext &inner_;
  std::function<void(const RemoteConfigStatusSeen &)> on_status_;
};

class ObservedCollectorAccess final : public modules::CollectorAccess {
 public:
  // `on_fallback(true)` when the remote layer becomes the remote_config module's startup
  // fallback (files named fallback-NNN), `on_fallback(false)` when another layer replaces it.
  ObservedCollectorAccess(modules::CollectorAccess &inner, std::function<void(bool)> on_fallback)
      : inner_(inner), on_fallback_(std::move(on_fallback)) {}

  void set_config_layer(std::string_view module_id, std::string_view layer_name,
                        std::optional<std::string> yaml, modules::ConfigChangeOptions options,
                        ChangeDone done) override {
    inner_.set_config_layer(module_id, layer_name, std::move(yaml), options, std::move(done));
  }
  void set_remote_config(std::optional<std::vector<modules::RemoteConfigFile>> files,
                         modules::ConfigChangeOptions options, ChangeDone done) override;
  modules::CollectorStateView collector_state() const override { return inner_.collector_state(); }
  std::optional<std::string> composed_config() const override { return inner_.composed_config(); }
  bool restart_collector() override { return inner_.restart_collector(); }
  bool send_to_collector(std::string_view server_to_agent) override {
    return inner_.send_to_collector(server_to_agent);
  }
  void validate_collector_config(
      std::string config_yaml,
      std::function<void(const modules::CollectorValidation &)> done) override {
    inner_.validate_collector_config(std::move(config_yaml), std::move(done));
  }
  bool update_executable(
      const std::filesystem::path &package, std::chrono::milliseconds health_timeout,
      std::function<void(const modules::ExecutableUpdateOutcome &)> done) override {
    return inner_.update_executable(package, health_timeout, std::move(done));
  }
  modules::UpdateRecoveryView update_recovery() const override { return inner_.update_recovery(); }

 private:
  modules::CollectorAccess &inner_;
  std::function<void(bool)> on_fallback_;
};

}  // namespace opsup::app
