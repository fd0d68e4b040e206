// OpAMP server transport: WebSocket and plain HTTP on the same path, with or without
// TLS, over TCP or a Unix domain socket. Used by the supervisor's local server (for the
// Collector's opamp extension), the reference server and tests.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "transport/http_server.hpp"
#include "transport/transport_types.hpp"

namespace boost::asio {
class io_context;
}

namespace opsup::transport {

struct ServerOptions {
  std::string listen_address = "127.0.0.1";
  uint16_t port = 0;             // 0 picks a free port; read it back with port()
  std::string unix_socket_path;  // when set, listen here instead of TCP
  uint32_t unix_socket_mode = 0600;
  std::string path = kDefaultOpampPath;
  std::optional<ServerTlsSettings> tls;
  std::size_t max_message_bytes = kDefaultMaxMessageBytes;  // after decompression
  std::size_t max_queued_messages = 64;  // per WebSocket connection; overflow closes it
  // A connection must finish its TLS handshake, and then send its first request (a POST or
  // the WebSocket upgrade), each within this; reading any one request is bounded by it too.
  std::chrono::milliseconds handshake_timeout{30000};
  std::chrono::milliseconds idle_http_timeout{120000};
  // A request body with no new bytes for this long is answered with 408.
  std::chrono::milliseconds body_timeout{10000};
  // All request bodies being read at once; a request that would exceed it gets 503.
  std::size_t max_body_bytes_in_flight = 256 * 1024 * 1024;
  // Descriptors this listener leaves to the rest of the process (see HttpServerOptions).
  std::size_t descriptor_reserve = 0;
  // Requests for other paths go here (e.g. a web UI on the same port); when empty they are
  // answered with 404.
  HttpServerHandlerFn fallback_http_handler;
};

// One agent connection: a WebSocket, or the HTTP keep-alive stream of one agent.
class ServerConnection {
 public:
  virtual ~ServerConnection() = default;
  virtual uint64_t id() const = 0;
  virtual const RequestInfo &request() const = 0;  // the upgrade or latest POST request
  virtual bool is_websocket() const = 0;
  // WebSocket: queues the message (bounded). HTTP: becomes the response to the request
  // being handled; only valid inside on_message, at most once per request. Without it,
  // the response is an empty ServerToAgent.
  virtual void send(std::string server_to_agent) = 0;
  // WebSocket: close handshake with `code` (1000 normal) after the queued messages. HTTP:
  // inside on_message, answers 400 (code != 1000; `reason` is the body) or the sent message
  // (1000), then closes the stream; outside on_message, closes it at once.
  virtual void close(uint16_t code = 1000, std::string reason = {}) = 0;
};

// Callbacks, always on the io_context thread.
class ServerHandler {
 public:
  virtual ~ServerHandler() = default;
  // Decides on a request before any OpAMP message: nullopt accepts it; a Rejection
  // answers with its status (401 for bad credentials, 409, 429/503 with Retry-After).
  virtual std::optional<Rejection> admit(const RequestInfo &request) {
    (void)request;
    return std::nullopt;
  }
  virtual void on_connected(const std::shared_ptr<ServerConnection> &connection) = 0;
  virtual void on_message(const std::shared_ptr<ServerConnection> &connection,
                          std::string_view agent_to_server) = 0;
  virtual void on_closed(const std::shared_ptr<ServerConnection> &connection,
                         std::string_view reason) = 0;
};

class ServerTransport {
 public:
  virtual ~ServerTransport() = default;
  // Throws std::invalid_argument naming the bad option (unreadable certificate, ...).
  static std::unique_ptr<ServerTransport> create(boost::asio::io_context &io, ServerOptions options,
                                                 ServerHandler &handler);
  // Binds and starts accepting. Throws std::system_error naming the address on failure.
  virtual void start() = 0;
  // Stops accepting and closes every connection (WebSocket: close 1001). The handler hears
  // nothing afterwards, not even on_closed.
  virtual void stop() = 0;
  virtual uint16_t port() const = 0;  // the bound TCP port (0 for a Unix socket)
  // "ws://127.0.0.1:4320/v1/opamp" (wss when TLS; ws://localhost/... for a Unix socket).
  virtual std::string websocket_url() const = 0;
  virtual std::string http_url() const = 0;
  virtual std::size_t connection_count() const = 0;
};

}  // namespace opsup::transport
