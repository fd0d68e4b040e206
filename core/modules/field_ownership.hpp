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
// field must be owned. The text names the module and the field.
std::optional<std::string> agent_fields_problem(std::string_view module_id,
                                                const std::vector<uint32_t> &owned_fields,
                                                std::string_view agent_to_server);

}  // namespace opsup::modules
