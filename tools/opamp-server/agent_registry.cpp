#include "agent_registry.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "encoding.hpp"
#include "transport/server_transport.hpp"

namespace opsup::opamp_server {

AgentRecord *AgentRegistry::find(const std::string &uid_key) {
  auto it = agents_.find(uid_key);
  return it == agents_.end() ? nullptr : it->second.get();
}

AgentRecord *AgentRegistry::find_by_connection(uint64_t connection_id) {
  auto it = uid_by_connection_.find(connection_id);
  return it == uid_by_connection_.end() ? nullptr : find(it->second);
}

AgentRecord &AgentRegistry::find_or_create(const std::string &uid_bytes, bool &created) {
  std::string key = uid_to_string(uid_bytes);
  if (agents_.size() >= sweep_at_size_ && agents_.find(key) == agents_.end())
    forget_disconnected(std::chrono::system_clock::now());
  auto &slot = agents_[key];
  created = !slot;
  if (created) {
    slot = std::make_unique<AgentRecord>();
    slot->uid_key = key;
    slot->uid_bytes = uid_bytes;
    slot->received.set_capacity(options_.message_log_capacity);
    slot->sent.set_capacity(options_.message_log_capacity);
  }
  return *slot;
}

bool AgentRegistry::erase(const std::string &uid_key) {
  auto it = agents_.find(uid_key);
  if (it == agents_.end())
    return false;
  unbind_connection(*it->second);
  agents_.erase(it);
  return true;
}

void AgentRegistry::unbind_connection(const AgentRecord &agent) {
  auto bound = uid_by_connection_.find(agent.connection.connection_id);
  if (bound != uid_by_connection_.end() && bound->second == agent.uid_key)
    uid_by_connection_.erase(bound);
}

std::optional<SystemTime> AgentRegistry::disconnected_since(const AgentRecord &agent) const {
  if (is_connected(agent))
    return std::nullopt;
  const AgentConnection &state = agent.connection;
  if (agent.reported.message_count == 0)
    return agent.reported.first_seen;
  if (state.websocket || state.disconnect_seen)
    return state.disconnected_at.value_or(agent.reported.last_seen);
  return agent.reported.last_seen + http_liveness_window(agent);
}

std::size_t AgentRegistry::forget_disconnected(SystemTime now) {
  std::vector<std::pair<SystemTime, std::string>> disconnected;
  std::size_t forgotten = 0;
  for (auto it = agents_.begin(); it != agents_.end();) {
    auto since = disconnected_since(*it->second);
    if (since && now - *since >= options_.forget_disconnected_after) {
      unbind_connection(*it->second);
      it = agents_.erase(it);
      ++forgotten;
      continue;
    }
    if (since)
      disconnected.emplace_back(*since, it->first);
    ++it;
  }
  if (disconnected.size() > options_.max_disconnected_agents) {
    const std::size_t excess = disconnected.size() - options_.max_disconnected_agents;
    std::nth_element(disconnected.begin(),
                     disconnected.begin() + static_cast<std::ptrdiff_t>(excess),
                     disconnected.end());
    for (std::size_t i = 0; i < excess; ++i) {
      erase(disconnected[i].second);
      ++forgotten;
    }
  }
  sweep_at_size_ = agents_.size() + std::max<std::size_t>(agents_.size(), 256);
  if (forgotten > 0) {
    spdlog::debug("opamp: forgot {} disconnected agents ({} remain, {} disconnected)", forgotten,
                  agents_.size(), std::min(disconnected.size(), options_.max_disconnected_agents));
  }
  return forgotten;
}

bool AgentRegistry::attach(AgentRecord &agent,
                           const std::shared_ptr<transport::ServerConnection> &connection) {
  AgentConnection &state = agent.connection;
  bool websocket = connection->is_websocket();
  bool fresh = agent.reported.message_count == 0 || !is_connected(agent) ||
               state.websocket != websocket ||
               (websocket && state.connection_id != connection->id());
  if (state.connection_id != connection->id()) {
    auto previous = uid_by_connection_.find(state.connection_id);
    if (previous != uid_by_connection_.end() && previous->second == agent.uid_key) {
      uid_by_connection_.erase(previous);
    }
  }
  // A connection now carrying another UID (the server assigned a new one): the old record
  // is no longer on it.
  auto bound = uid_by_connection_.find(connection->id());
  if (bound != uid_by_connection_.end() && bound->second != agent.uid_key) {
    if (AgentRecord *previous_owner = find(bound->second)) {
      previous_owner->connection.websocket_open = false;
      previous_owner->connection.disconnected_at = std::chrono::system_clock::now();
    }
  }
  uid_by_connection_[connection->id()] = agent.uid_key;
  state.connection = connection;
  state.connection_id = connection->id();
  state.websocket = websocket;
  state.websocket_open = websocket;
  state.peer = connection->request().peer;
  state.client_certificate = connection->request().peer_certificate;
  state.last_message = std::chrono::steady_clock::now();
  if (fresh) {
    ++state.connection_count;
    state.connected_since = std::chrono::system_clock::now();
    state.disconnect_seen = false;
    state.disconnected_at.reset();
  }
  return fresh;
}

AgentRecord *AgentRegistry::detach(uint64_t connection_id) {
  auto it = uid_by_connection_.find(connection_id);
  if (it == uid_by_connection_.end())
    return nullptr;
  AgentRecord *agent = find(it->second);
  uid_by_connection_.erase(it);
  if (agent == nullptr || agent->connection.connection_id != connection_id)
    return nullptr;
  if (agent->connection.websocket) {
    agent->connection.websocket_open = false;
    if (!agent->connection.disconnected_at) {
      agent->connection.disconnected_at = std::chrono::system_clock::now();
    }
  }
  return agent;
}

std::chrono::seconds AgentRegistry::http_poll_interval(const AgentRecord &agent) const {
  auto offered = agent.desired.offered_heartbeat_interval_seconds();
  if (offered && *offered > 0 &&
      agent.reported.has_capability(proto::AgentCapabilities_AcceptsOpAMPConnectionSettings)) {
    return std::chrono::seconds(*offered);
  }
  return options_.default_http_poll_interval;
}

std::chrono::seconds AgentRegistry::http_liveness_window(const AgentRecord &agent) const {
  return 2 * http_poll_interval(agent) + std::chrono::seconds(5);
}

bool AgentRegistry::is_connected(const AgentRecord &agent) const {
  const AgentConnection &state = agent.connection;
  if (agent.reported.message_count == 0 || state.disconnect_seen)
    return false;
  if (state.websocket)
    return state.websocket_open && !state.connection.expired();
  return std::chrono::steady_clock::now() - state.last_message <= http_liveness_window(agent);
}

std::size_t AgentRegistry::connected_count() const {
  std::size_t count = 0;
  for (const auto &[key, agent] : agents_) {
    if (is_connected(*agent))
      ++count;
  }
  return count;
}

}  // namespace opsup::opamp_server
