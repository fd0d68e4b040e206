// Which AgentToServer fields a module may set through set_agent_fields: the fields of
// the capabilities it owns, plus custom_capabilities and custom_message when it declares
// custom capabilities. Everything else (instance_uid, sequence_num, capabilities,
// agent_description, flags, agent_disconnect) is the core's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace opsup::modules {

// Sorted AgentToServer field numbers owned by a module with these capabilities.
std::vector<uint32_t> owned_agent_to_server_fields(uint64_t capabilities,
                                                   bool declares_custom_capabilities);

// Why `agent_to_server` may not be set by a module owning `owned_fields` (sorted), or
// nullopt when it may: the bytes must parse as an AgentToServer and every top-level
// field must be owned. With `declared_custom_capabilities` (the module's descriptor), the
// names in custom_capabilities and custom_message.capability must be declared there: the
// host advertises the descriptor's names and routes by them. The text names the module
// and the field.
std::optional<std::string> agent_fields_problem(
    std::string_view module_id, const std::vector<uint32_t> &owned_fields,
    std::string_view agent_to_server,
    const std::vector<std::string> *declared_custom_capabilities = nullptr);

// A serialized AgentToServer holding only custom_capabilities with `names` (in order).
std::string encode_custom_capabilities(const std::vector<std::string> &names);

// A serialized AgentToServer holding only custom_message{capability, type, data}.
std::string encode_custom_message(std::string_view capability, std::string_view type,
                                  std::string_view data);

}  // namespace opsup::modules
