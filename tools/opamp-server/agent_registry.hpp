// Every agent the server has seen, by instance UID, with its connection, reported state,
// desired state, pending one-shot actions and message logs. Used on the io_context thread
// only.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "agent_state.hpp"
#include "desired_state.hpp"
#include "message_log.hpp"
#include "transport/transport_types.hpp"

namespace opsup::transport {
class ServerConnection;
}

namespace opsup::opamp_server {

struct AgentConnection {
  std::weak_ptr<transport::ServerConnection> connection;
  uint64_t connection_id = 0;
  bool websocket = false;
  bool websocket_open = false;  // WebSocket: until on_closed
  std::string peer;
  // The client certificate the agent presented on the current connection (mTLS).
  std::optional<transport::PeerCertificate> client_certificate;
  uint64_t connection_count = 0;  // fresh connections seen
  SystemTime connected_since;
  std::chrono::steady_clock::time_point last_message;
  bool disconnect_seen = false;  // agent_disconnect received on the current connection
  uint64_t disconnect_count = 0;
  std::optional<SystemTime> disconnected_at;
};

// One-shot actions that wait for the next message to the agent.
struct PendingActions {
  bool report_full_state = false;
  bool restart = false;
  std::deque<proto::CustomMessage> custom_messages;
};

struct AgentRecord {
  std::string uid_key;    // canonical UUID string (hex for non-16-byte UIDs)
  std::string uid_bytes;  // as sent in instance_uid
  AgentState reported;
  AgentConnection connection;
  DesiredState desired;
  PendingActions pending;
  BoundedLog<ReceivedSummary> received;
  BoundedLog<SentSummary> sent;
};

struct RegistryOptions {
  std::size_t message_log_capacity = 200;
  // Poll interval assumed for plain-HTTP agents that were offered no heartbeat interval.
  std::chrono::seconds default_http_poll_interval{30};
  // Disconnected agents are forgotten this long after they disconnected ...
  std::chrono::seconds forget_disconnected_after{600};
  // ... and beyond this many disconnected agents the oldest are forgotten first.
  std::size_t max_disconnected_agents = 1000;
};

class AgentRegistry {
 public:
  explicit AgentRegistry(RegistryOptions options) : options_(options) {}

  AgentRecord *find(const std::string &uid_key);
  AgentRecord *find_by_connection(uint64_t connection_id);
  // Creates the record on first sight; `created` tells which. A creation that finds the
  // registry grown well past its last sweep sweeps first (forget_disconnected), so churn
  // cannot pile up records between timer sweeps; it never removes the returned record.
  AgentRecord &find_or_create(const std::string &uid_bytes, bool &created);
  bool erase(const std::string &uid_key);
  // Forgets disconnected agents: those disconnected for `forget_disconnected_after` or
  // longer, then the oldest disconnected beyond `max_disconnected_agents`. Returns how many
  // were forgotten. Invalidates AgentRecord pointers of the forgotten agents only.
  std::size_t forget_disconnected(SystemTime now);
  // When a disconnected agent became disconnected (plain HTTP: when its liveness window
  // ran out); nullopt while it is connected.
  std::optional<SystemTime> disconnected_since(const AgentRecord &agent) const;
  const RegistryOptions &options() const { return options_; }

  // Records that `connection` carried the agent's latest message. Returns true when this is
  // a fresh connection for the agent (new, reconnected, or back after being offline).
  bool attach(AgentRecord &agent, const std::shared_ptr<transport::ServerConnection> &connection);
  // A transport connection ended; WebSocket agents on it become disconnected.
  AgentRecord *detach(uint64_t connection_id);

  bool is_connected(const AgentRecord &agent) const;
  std::chrono::seconds http_poll_interval(const AgentRecord &agent) const;
  // How long a plain-HTTP agent may stay silent and still count as connected.
  std::chrono::seconds http_liveness_window(const AgentRecord &agent) const;

  // Sorted by UID.
  const std::map<std::string, std::unique_ptr<AgentRecord>> &agents() const { return agents_; }
  std::size_t connected_count() const;

 private:
  void unbind_connection(const AgentRecord &agent);

  RegistryOptions options_;
  // find_or_create sweeps when the registry reaches this size (twice its size after the
  // last sweep, at least 256 more): amortised O(log n) per new agent.
  std::size_t sweep_at_size_ = 256;
  std::map<std::string, std::unique_ptr<AgentRecord>> agents_;
  std::unordered_map<uint64_t, std::string> uid_by_connection_;
};

}  // namespace opsup::opamp_server
