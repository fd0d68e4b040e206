// What the module host needs from the rest of the supervisor. The session implements
// it; the module host calls it on behalf of modules. Kept free of Asio and protobuf so
// both sides include it cheaply.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace opsup::storage {
class PersistentState;
}

namespace opsup::modules {

using InstanceUid = std::array<uint8_t, 16>;

class SupervisorContext {
 public:
  virtual ~SupervisorContext() = default;

  virtual InstanceUid instance_uid() const = 0;
  // ServerCapabilities from the server's latest message; 0 before the first.
  virtual uint64_t server_capabilities() const = 0;
  virtual std::filesystem::path storage_directory() const = 0;

  // Replaces module `module_id`'s contribution to the outgoing AgentToServer: every
  // field number in `owned_fields` takes its value from `agent_to_server` (a serialized
  // AgentToServer) or is cleared when absent there. custom_capabilities (12) is the union
  // of every module's contribution; custom_message (13) is queued and sent once.
  // The caller has already checked ownership and that the bytes parse. Schedules a send.
  virtual void set_agent_fields(std::string_view module_id, std::span<const uint32_t> owned_fields,
                                std::string_view agent_to_server) = 0;

  // The supervisor's persistent state (persistent_state.yaml), for the modules' state_read
  // and state_write (ABI minor 3). nullptr when there is none: those services then answer
  // OPSUP_ERR_UNSUPPORTED. The object must outlive the module host.
  virtual storage::PersistentState *persistent_state_for_modules() { return nullptr; }
};

}  // namespace opsup::modules
