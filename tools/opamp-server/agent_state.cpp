#include "agent_state.hpp"

namespace opsup::opamp_server {

void AgentState::apply(const proto::AgentToServer &message, SystemTime now) {
  if (message_count == 0)
    first_seen = now;
  ++message_count;
  last_seen = now;
  sequence_num = message.sequence_num();
  flags = message.flags();
  // Capabilities MUST be in every message; a zero here is a sender that left them out.
  if (message.capabilities() != 0)
    capabilities = message.capabilities();

  if (message.has_agent_description())
    description = message.agent_description();
  if (message.has_health())
    health = message.health();
  if (message.has_effective_config())
    effective_config = message.effective_config();
  if (message.has_remote_config_status())
    remote_config_status = message.remote_config_status();
  if (message.has_package_statuses())
    package_statuses = message.package_statuses();
  if (message.has_connection_settings_status()) {
    connection_settings_status = message.connection_settings_status();
  }
  if (message.has_custom_capabilities()) {
    const auto &names = message.custom_capabilities().capabilities();
    custom_capabilities = std::vector<std::string>(names.begin(), names.end());
  }
  if (message.has_available_components()) {
    const auto &components = message.available_components();
    available_components_hash = components.hash();
    if (!components.components().empty())
      available_components = components;
  }
  if (message.has_custom_message()) {
    const auto &custom = message.custom_message();
    custom_messages.push_back({custom.capability(), custom.type(), custom.data(), now});
    while (custom_messages.size() > kMaxCustomMessages)
      custom_messages.pop_front();
  }
  if (message.has_connection_settings_request() &&
      message.connection_settings_request().has_opamp() &&
      message.connection_settings_request().opamp().has_certificate_request()) {
    ReceivedCertificateRequest request;
    request.csr_pem = message.connection_settings_request().opamp().certificate_request().csr();
    request.time = now;
    certificate_request = std::move(request);
  }
}

bool AgentState::lacks_full_available_components() const {
  if (!available_components_hash || available_components_hash->empty())
    return false;
  return !available_components || available_components->hash() != *available_components_hash;
}

}  // namespace opsup::opamp_server
