// An in-process OpAMP server for tests, built on opsup_transport's ServerTransport: it
// records every AgentToServer and can push ServerToAgent messages (WebSocket at once,
// HTTP as the reply to the next poll).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "opamp.pb.h"
#include "transport/transport_types.hpp"

namespace opsup::testing {

struct OpampTestServerOptions {
  std::string unix_socket_path;  // listen here instead of 127.0.0.1:<free port>
  std::optional<transport::ServerTlsSettings> tls;
  uint16_t port = 0;  // 0 picks a free port
};

class OpampTestServer {
 public:
  using AgentToServer = opamp::proto::v1::AgentToServer;
  using ServerToAgent = opamp::proto::v1::ServerToAgent;

  explicit OpampTestServer(OpampTestServerOptions options = {});  // started; throws on failure
  ~OpampTestServer();
  OpampTestServer(const OpampTestServer &) = delete;
  OpampTestServer &operator=(const OpampTestServer &) = delete;

  std::string ws_url() const;    // ws://127.0.0.1:<port>/v1/opamp (ws://localhost/... for UDS)
  std::string http_url() const;  // http://127.0.0.1:<port>/v1/opamp
  uint16_t port() const;

  std::vector<AgentToServer> messages() const;  // every message received, in order
  // The first message (from the start) matching `predicate`, or nullopt at the deadline.
  std::optional<AgentToServer> wait_for_message(
      const std::function<bool(const AgentToServer &)> &predicate,
      std::chrono::milliseconds timeout);
  // Sent at once to every open WebSocket; otherwise kept for the reply to the next message
  // from any agent (HTTP polling).
  void send(const ServerToAgent &message);

  std::size_t connections_opened() const;
  std::size_t open_connections() const;
  std::vector<std::string> request_headers(const std::string &name) const;  // each connect's

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace opsup::testing
