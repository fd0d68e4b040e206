#include "modules/field_ownership.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "modules/opamp_names.hpp"
#include "modules/wire_scan.hpp"
#include "opamp.pb.h"
#include "opsup/opamp_constants.h"

namespace opsup::modules {
namespace {

constexpr std::array<std::pair<uint64_t, uint32_t>, 7> kFieldOfCapability{{
    {OPSUP_CAP_REPORTS_HEALTH, OPSUP_A2S_HEALTH},
    {OPSUP_CAP_REPORTS_EFFECTIVE_CONFIG, OPSUP_A2S_EFFECTIVE_CONFIG},
    {OPSUP_CAP_REPORTS_REMOTE_CONFIG, OPSUP_A2S_REMOTE_CONFIG_STATUS},
    {OPSUP_CAP_REPORTS_PACKAGE_STATUSES, OPSUP_A2S_PACKAGE_STATUSES},
    {OPSUP_CAP_ACCEPTS_OPAMP_CONNECTION_SETTINGS, OPSUP_A2S_CONNECTION_SETTINGS_REQUEST},
    {OPSUP_CAP_REPORTS_AVAILABLE_COMPONENTS, OPSUP_A2S_AVAILABLE_COMPONENTS},
    {OPSUP_CAP_REPORTS_CONNECTION_SETTINGS_STATUS, OPSUP_A2S_CONNECTION_SETTINGS_STATUS},
}};

}  // namespace

std::vector<uint32_t> owned_agent_to_server_fields(uint64_t capabilities,
                                                   bool declares_custom_capabilities) {
  std::vector<uint32_t> fields;
  for (const auto &[bit, field] : kFieldOfCapability) {
    if (capabilities & bit)
      fields.push_back(field);
  }
  if (declares_custom_capabilities) {
    fields.push_back(OPSUP_A2S_CUSTOM_CAPABILITIES);
    fields.push_back(OPSUP_A2S_CUSTOM_MESSAGE);
  }
  std::sort(fields.begin(), fields.end());
  return fields;
}

std::optional<std::string> agent_fields_problem(
    std::string_view module_id, const std::vector<uint32_t> &owned_fields,
    std::string_view agent_to_server,
    const std::vector<std::string> *declared_custom_capabilities) {
  const std::string prefix = "module " + std::string(module_id) + ": set_agent_fields: ";
  opamp::proto::v1::AgentToServer message;
  const auto fields = top_level_field_numbers(agent_to_server);
  if (!fields ||
      !message.ParseFromArray(agent_to_server.data(), static_cast<int>(agent_to_server.size()))) {
    return prefix + "the bytes (" + std::to_string(agent_to_server.size()) +
           ") are not a serialized AgentToServer";
  }
  for (uint32_t field : *fields) {
    if (!std::binary_search(owned_fields.begin(), owned_fields.end(), field)) {
      return prefix + "AgentToServer field " + std::to_string(field) + " (" +
             agent_to_server_field_name(field) + ") is not owned by this module";
    }
  }
  if (declared_custom_capabilities != nullptr) {
    const auto declared = [&](const std::string &name) {
      return std::find(declared_custom_capabilities->begin(), declared_custom_capabilities->end(),
                       name) != declared_custom_capabilities->end();
    };
    for (const std::string &name : message.custom_capabilities().capabilities()) {
      if (!declared(name)) {
        return prefix + "custom capability \"" + name +
               "\" is not in the module's descriptor (the supervisor advertises the "
               "descriptor's custom capabilities; a module cannot add others at run time)";
      }
    }
    if (message.has_custom_message() && !declared(message.custom_message().capability())) {
      return prefix + "custom_message capability \"" + message.custom_message().capability() +
             "\" is not in the module's descriptor";
    }
  }
  return std::nullopt;
}

std::string encode_custom_capabilities(const std::vector<std::string> &names) {
  opamp::proto::v1::AgentToServer message;
  auto *list = message.mutable_custom_capabilities();
  for (const std::string &name : names)
    list->add_capabilities(name);
  return message.SerializeAsString();
}

std::string encode_custom_message(std::string_view capability, std::string_view type,
                                  std::string_view data) {
  opamp::proto::v1::AgentToServer message;
  auto *custom = message.mutable_custom_message();
  custom->set_capability(std::string(capability));
  custom->set_type(std::string(type));
  custom->set_data(std::string(data));
  return message.SerializeAsString();
}

}  // namespace opsup::modules
