#include "app/telemetry_observers.hpp"

#include "opamp.pb.h"

namespace opsup::app {

void ObservedSupervisorContext::set_agent_fields(std::string_view module_id,
                                                 std::span<const uint32_t> owned_fields,
                                                 std::string_view agent_to_server) {
  inner_.set_agent_fields(module_id, owned_fields, agent_to_server);
  if (!on_status_)
    return;
  opamp::proto::v1::AgentToServer message;
  if (!message.ParseFromArray(agent_to_server.data(), static_cast<int>(agent_to_server.size())) ||
      !message.has_remote_config_status())
    return;
  const auto &status = message.remote_config_status();
  on_status_({static_cast<int>(status.status()), status.last_remote_config_hash(),
              status.error_message()});
}

void ObservedCollectorAccess::set_remote_config(
    std::optional<std::vector<modules::RemoteConfigFile>> files,
    modules::ConfigChangeOptions options, ChangeDone done) {
  bool fallback = files.has_value() && !files->empty();
  if (files) {
    for (const auto &file : *files) {
      if (!file.name.starts_with("fallback-"))
        fallback = false;
    }
  }
  if (on_fallback_)
    on_fallback_(fallback);
  inner_.set_remote_config(std::move(files), options, std::move(done));
}

}  // namespace opsup::app
