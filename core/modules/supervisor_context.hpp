// What the module host needs from the rest of the supervisor. The session implements
// it; the module host calls it on behalf of modules. Kept free of Asio and protobuf so
// both sides include it cheaply.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>

namespace opsup::storage {
class PersistentState;
}

namespace opsup::modules {

using InstanceUid = std::array<uint8_t, 16>;

// The outcome of a connection-settings trial (ABI minor 4, try_opamp_connection_settings).
struct ConnectionTrialResult {
  // kApplied: the new server answered in time (or the settings were committed ones).
  // kInvalid: the settings cannot be used; the connection was not touched.
  // kFailed: the trial failed; the previous settings are back in force.
  enum class Status { kApplied, kInvalid, kFailed } status = Status::kApplied;
  std::string error;  // why, unless kApplied
};

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

  // Connects with `opamp_connection_settings` (a serialized OpAMPConnectionSettings) and
  // reports whether the server there answered within `timeout` (see module.h,
  // try_opamp_connection_settings, for how the settings are read); `committed`: use them
  // without a trial. `done` runs once on the loop thread, possibly before this returns.
  // False when there is no OpAMP connection to change (`done` is then never called).
  virtual bool try_connection_settings(std::string_view opamp_connection_settings,
                                       std::chrono::milliseconds timeout, bool committed,
                                       std::function<void(const ConnectionTrialResult &)> done) {
    (void)opamp_connection_settings;
    (void)timeout;
    (void)committed;
    (void)done;
    return false;
  }
};

}  // namespace opsup::modules
