// The supervisor's local OpAMP server: the endpoint the Collector's `opamp` extension
// connects to. It listens on 127.0.0.1 (a free port or agent.opamp_server_port) for
// WebSocket and plain HTTP on /v1/opamp, or on a Unix socket (agent.opamp_server_socket).
//
// - One Collector at a time: while one is connected, a WebSocket upgrade or an HTTP request
//   from another peer is answered 409 Conflict (as upstream) and logged; the first one keeps
//   working.
// - Unix socket: every request (the upgrade, each HTTP POST) is checked with SO_PEERCRED:
//   the peer's uid must be the Collector's (the supervisor's, or the agent.run_as user's)
//   and its pid the one given to expect_collector_pid(); anything else gets 403 and a log
//   line naming the peer's pid and uid. Before expect_collector_pid() (or after it got 0)
//   every peer is refused. The socket file gets the configured mode (under agent.run_as it
//   belongs to the run_as user and group, so the mode is the Collector's); its parent
//   directory is created with 0700 when missing (0710 with the run_as group under
//   agent.run_as); a stale socket is removed, a symlink or other file at the path is never
//   followed or removed (start() fails naming it).
// - TCP: any local process may connect, as upstream (loopback only).
// - Messages are bounded (max_message_bytes, after decompression); an undecodable one
//   closes the connection (WebSocket 1007, HTTP 400) with a log line naming the peer.
//
// Threading: every member, and every callback, runs on the io_context thread given to the
// constructor (or before that io_context runs). The pointers returned by the last_*()
// accessors stay valid until the next message is handled there. No timers, no polling:
// the object only reacts to the transport.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "collector/collector_credentials.hpp"

namespace boost::asio {
class io_context;
}
namespace opamp::proto::v1 {
class AgentToServer;
class ServerToAgent;
class AgentDescription;
class ComponentHealth;
class EffectiveConfig;
class AvailableComponents;
}  // namespace opamp::proto::v1

namespace opsup::collector {

inline constexpr std::size_t kLocalServerMaxMessageBytes = 16 * 1024 * 1024;

struct LocalOpampServerOptions {
  uint16_t port = 0;                       // TCP on 127.0.0.1; 0 picks a free port
  std::filesystem::path unix_socket_path;  // when set, listen here instead of TCP
  uint32_t unix_socket_mode = 0600;        // the socket file's permission bits
  std::size_t max_message_bytes = kLocalServerMaxMessageBytes;
  // For extension_config_yaml():
  std::string instance_uid;  // canonical UUID text; required
  bool reports_available_components = true;
  // agent.description.include_resource_attributes: the extension adds the Collector's
  // resource attributes to the non-identifying ones.
  bool include_resource_attributes = false;
  // agent.run_as: the Collector runs as this user, so its uid is the one the Unix-socket
  // peer check accepts (instead of the supervisor's).
  std::optional<CollectorCredentials> collector_credentials;
};

struct LocalOpampServerCallbacks {
  // A Collector connected; `peer` is "127.0.0.1:port" or "unix:/path (pid N)".
  std::function<void(const std::string &peer)> on_connected;
  // Every decoded AgentToServer from the connected Collector, after the last_*() state is
  // updated.
  std::function<void(const opamp::proto::v1::AgentToServer &message)> on_message;
  // The connected Collector went away (closed, dropped, refused after connecting).
  std::function<void(const std::string &peer, const std::string &reason)> on_disconnected;
};

class LocalOpampServer {
 public:
  // Validates the options (std::invalid_argument naming the option); does not listen yet.
  LocalOpampServer(boost::asio::io_context &io, LocalOpampServerOptions options,
                   LocalOpampServerCallbacks callbacks);
  ~LocalOpampServer();  // stops
  LocalOpampServer(const LocalOpampServer &) = delete;
  LocalOpampServer &operator=(const LocalOpampServer &) = delete;

  // Binds and starts accepting. Throws std::system_error naming the address or path.
  void start();
  // Stops accepting and closes the connection; no callbacks afterwards.
  void stop();

  // A new instance UID (the server assigned one): extension_config_yaml() uses it from now on.
  void set_instance_uid(const std::string &instance_uid);

  // The pid of the Collector now running (0: none). Unix socket only: requests from other
  // pids are refused; a connected peer with another pid is closed.
  void expect_collector_pid(pid_t pid);

  // Sends to the connected Collector: at once over WebSocket, as the reply to its next
  // request over HTTP (at most 64 queued; when full, the oldest is dropped). False (and
  // nothing queued) when no Collector is connected.
  bool send(const opamp::proto::v1::ServerToAgent &message);

  bool collector_connected() const;
  uint16_t port() const;         // the bound TCP port; 0 for a Unix socket or before start
  std::string endpoint() const;  // ws://127.0.0.1:<port>/v1/opamp or ws://localhost/v1/opamp

  // The `$OPAMP_EXTENSION_CONFIG` layer for compose_collector_config(): extensions.opamp
  // (instance_uid, server.ws.endpoint, tls.insecure, capabilities; for a Unix socket also
  // server.ws.unix_socket, which the extension understands only from v0.159.0 on),
  // agent_description.include_resource_attributes when set, and service.extensions [opamp]. Call
  // after start() so the port is known. No `ppid`: the Collector ignores it
  // (tools/fake-otelcol/README.md, fact 1), so it would only suggest a protection that is not
  // there; the supervisor itself stops its Collector.
  std::string extension_config_yaml() const;

  // What the Collector reported last, kept across reconnects; nullptr until it did.
  const opamp::proto::v1::AgentDescription *last_agent_description() const;
  const opamp::proto::v1::ComponentHealth *last_health() const;
  const opamp::proto::v1::EffectiveConfig *last_effective_config() const;
  const opamp::proto::v1::AvailableComponents *last_available_components() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace opsup::collector
