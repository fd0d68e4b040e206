// Human-readable names of OpAMP capability bits and message fields, for messages and for
// `opampsupervisor modules`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace opsup::modules {

// "AcceptsRemoteConfig" for 0x2; "bit 0x10000" for a bit the spec does not define.
std::string capability_name(uint64_t bit);
// "AcceptsRemoteConfig|ReportsRemoteConfig"; "none" for 0.
std::string capability_names(uint64_t bits);

// "effective_config" for 6; "field N" when unknown.
std::string agent_to_server_field_name(uint32_t field_number);
std::string server_to_agent_field_name(uint32_t field_number);

}  // namespace opsup::modules
