#include "message_log.hpp"

namespace opsup::opamp_server {

ReceivedSummary summarize(const proto::AgentToServer &message, std::string transport,
                          std::size_t bytes) {
  ReceivedSummary summary;
  summary.time = std::chrono::system_clock::now();
  summary.sequence_num = message.sequence_num();
  summary.capabilities = message.capabilities();
  summary.flags = message.flags();
  summary.agent_disconnect = message.has_agent_disconnect();
  summary.transport = std::move(transport);
  summary.bytes = bytes;

  auto &fields = summary.fields;
  if (!message.instance_uid().empty())
    fields.emplace_back("instance_uid");
  if (message.sequence_num() != 0)
    fields.emplace_back("sequence_num");
  if (message.has_agent_description())
    fields.emplace_back("agent_description");
  if (message.capabilities() != 0)
    fields.emplace_back("capabilities");
  if (message.has_health())
    fields.emplace_back("health");
  if (message.has_effective_config())
    fields.emplace_back("effective_config");
  if (message.has_remote_config_status())
    fields.emplace_back("remote_config_status");
  if (message.has_package_statuses())
    fields.emplace_back("package_statuses");
  if (message.has_agent_disconnect())
    fields.emplace_back("agent_disconnect");
  if (message.flags() != 0)
    fields.emplace_back("flags");
  if (message.has_connection_settings_request()) {
    fields.emplace_back("connection_settings_request");
  }
  if (message.has_custom_capabilities())
    fields.emplace_back("custom_capabilities");
  if (message.has_custom_message())
    fields.emplace_back("custom_message");
  if (message.has_available_components())
    fields.emplace_back("available_components");
  if (message.has_connection_settings_status()) {
    fields.emplace_back("connection_settings_status");
  }

  summary.heartbeat = true;
  for (const auto &field : fields) {
    if (field != "instance_uid" && field != "sequence_num" && field != "capabilities") {
      summary.heartbeat = false;
    }
  }
  if (message.has_remote_config_status()) {
    summary.remote_config_status = message.remote_config_status().status();
    summary.remote_config_status_hash = message.remote_config_status().last_remote_config_hash();
  }
  summary.available_components_full =
      message.has_available_components() && !message.available_components().components().empty();
  if (message.has_custom_message()) {
    summary.custom_message_capability = message.custom_message().capability();
    summary.custom_message_type = message.custom_message().type();
  }
  return summary;
}

SentSummary summarize(const proto::ServerToAgent &message, bool reply, std::string transport,
                      std::size_t bytes) {
  SentSummary summary;
  summary.time = std::chrono::system_clock::now();
  summary.flags = message.flags();
  summary.capabilities = message.capabilities();
  summary.reply = reply;
  summary.transport = std::move(transport);
  summary.bytes = bytes;

  auto &fields = summary.fields;
  if (!message.instance_uid().empty())
    fields.emplace_back("instance_uid");
  if (message.has_error_response())
    fields.emplace_back("error_response");
  if (message.has_remote_config())
    fields.emplace_back("remote_config");
  if (message.has_connection_settings())
    fields.emplace_back("connection_settings");
  if (message.has_packages_available())
    fields.emplace_back("packages_available");
  if (message.flags() != 0)
    fields.emplace_back("flags");
  if (message.capabilities() != 0)
    fields.emplace_back("capabilities");
  if (message.has_agent_identification())
    fields.emplace_back("agent_identification");
  if (message.has_command())
    fields.emplace_back("command");
  if (message.has_custom_capabilities())
    fields.emplace_back("custom_capabilities");
  if (message.has_custom_message())
    fields.emplace_back("custom_message");

  if (message.has_remote_config())
    summary.remote_config_hash = message.remote_config().config_hash();
  if (message.has_command())
    summary.command = "Restart";
  if (message.has_error_response())
    summary.error = message.error_response().error_message();
  return summary;
}

}  // namespace opsup::opamp_server
