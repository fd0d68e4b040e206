// The OpAMP client session with the upstream server: connects (WebSocket or plain HTTP),
// reports status with compression and sequence numbers, answers ReportFullState, sends
// heartbeats, adopts server-assigned instance UIDs, reconnects with backoff (honouring
// Retry-After and ServerErrorResponse UNAVAILABLE), authenticates, routes every
// ServerToAgent to the modules and says goodbye (agent_disconnect) on shutdown.
//
// Everything runs on the io_context thread; no method may be called from another thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string_view>

#include "modules/supervisor_context.hpp"
#include "session/session_options.hpp"

namespace boost::asio {
class io_context;
}

namespace opsup::storage {
class PersistentState;
}

namespace opsup::session {

class ClientSession final : public modules::SupervisorContext {
 public:
  // Loads (or creates) the persistent state in options.storage_directory and validates the
  // options. Does not connect. Throws std::invalid_argument naming a bad option (endpoint,
  // TLS files, auth) and std::runtime_error naming a storage path that cannot be written.
  ClientSession(boost::asio::io_context &io, SessionOptions options, SessionCallbacks callbacks);
  ~ClientSession() override;
  ClientSession(const ClientSession &) = delete;
  ClientSession &operator=(const ClientSession &) = delete;

  // Starts connecting; failures are retried with backoff until shutdown.
  void start();

  // Sends agent_disconnect (with any pending changes), closes the connection cleanly
  // within options.shutdown_timeout, then calls `done` (always exactly once, on the
  // io_context). No callbacks after that.
  void shutdown(std::function<void()> done);

  // The Collector's own AgentDescription (serialized), replacing the host-facts one; the
  // overrides are applied and keys sorted. Sent if it changed. Throws
  // std::invalid_argument if the bytes do not parse.
  void set_agent_description(std::string_view serialized_agent_description);

  // agent.description overrides changed (SIGHUP): the description is rebuilt with them
  // and sent if it changed.
  void set_description_overrides(DescriptionOverrides overrides);

  // server.heartbeat_interval changed (SIGHUP): used from now on unless the server offered
  // an interval (the offer wins); the running timer is re-armed.
  void set_heartbeat_interval(std::chrono::seconds interval);

  // Changes the advertised AgentCapabilities; sent at once.
  void set_capabilities(uint64_t capabilities);
  uint64_t capabilities() const;

  bool is_connected() const;
  storage::PersistentState &persistent_state();

  // SupervisorContext
  modules::InstanceUid instance_uid() const override;
  uint64_t server_capabilities() const override;
  std::filesystem::path storage_directory() const override;
  void set_agent_fields(std::string_view module_id, std::span<const uint32_t> owned_fields,
                        std::string_view agent_to_server) override;
  storage::PersistentState *persistent_state_for_modules() override;
  bool try_connection_settings(
      std::string_view opamp_connection_settings, std::chrono::milliseconds timeout, bool committed,
      std::function<void(const modules::ConnectionTrialResult &)> done) override;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace opsup::session
