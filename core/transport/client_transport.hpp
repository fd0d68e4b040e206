// OpAMP client transport: WebSocket (ws/wss) or plain HTTP (http/https), chosen by the
// endpoint scheme, over TCP or a Unix domain socket. The transport moves serialized
// messages; the session decides what to send and when to reconnect.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "transport/transport_types.hpp"

namespace boost::asio {
class io_context;
}

namespace opsup::transport {

struct ClientOptions {
  std::string endpoint;  // ws://, wss://, http:// or https:// URL
  HeaderList headers;    // sent on the upgrade request and on every HTTP POST
  // Called before every connect and every HTTP request; its headers are added after
  // `headers` (auth extensions use it). May be empty.
  std::function<HeaderList()> dynamic_headers;
  ClientTlsSettings tls;         // used for wss/https only
  std::string unix_socket_path;  // when set, connect here instead of the URL's host
  ProxySettings proxy;           // tunnel through this HTTP proxy (not with unix_socket_path)
  std::size_t max_message_bytes = kDefaultMaxMessageBytes;
  // TCP + TLS + upgrade. HTTP: also bounds each request until its response has arrived.
  std::chrono::milliseconds connect_timeout{30000};
  bool gzip_http_requests = false;  // Content-Encoding: gzip on HTTP POST bodies
  std::string instance_uid_header;  // HTTP: value of OpAMP-Instance-UID, if set
  // WebSocket: send a ping after this much silence and drop the connection when nothing
  // arrives for twice as long. 0 disables pings (pongs to the server's pings are automatic).
  std::chrono::milliseconds ping_interval{0};
};

// Callbacks from the transport, always on the io_context thread.
class ClientTransportHandler {
 public:
  virtual ~ClientTransportHandler() = default;
  // WebSocket: the upgrade succeeded. HTTP: the first POST got a 2xx answer (called
  // before that answer's on_message).
  virtual void on_connected() = 0;
  // One ServerToAgent, serialized (WebSocket header already removed).
  virtual void on_message(std::string_view server_to_agent) = 0;
  // The connection failed or ended. The transport never reconnects by itself: the
  // session calls connect() again after its backoff.
  virtual void on_disconnected(const DisconnectInfo &info) = 0;
  // Pull model: after notify_pending() (and connect()), the transport calls this whenever
  // it can send, until it returns nullopt (WebSocket: as each write completes; HTTP: one
  // request per response). Each returned message is sent once.
  virtual std::optional<std::string> next_message() = 0;
};

class ClientTransport {
 public:
  virtual ~ClientTransport() = default;

  // Validates the options (URL, scheme, readable certificates) and throws
  // std::invalid_argument with a message naming the bad option on failure.
  static std::unique_ptr<ClientTransport> create(boost::asio::io_context &io, ClientOptions options,
                                                 ClientTransportHandler &handler);

  // Starts connecting (WebSocket) or arms the first request (HTTP; it asks
  // next_message() at once). Outcome through the handler.
  virtual void connect() = 0;
  // The handler has something to send; next_message() will be called when possible.
  // HTTP: at most one request is in flight; a pending notify is served after it.
  virtual void notify_pending() = 0;
  // Sends `last_message` (carrying agent_disconnect), closes cleanly (WebSocket close
  // handshake) and calls done; bounded by `timeout`. No handler calls after done.
  virtual void shutdown(std::string last_message, std::chrono::milliseconds timeout,
                        std::function<void()> done) = 0;
  // Drops the connection at once without a close handshake; no further callbacks.
  // After shutdown() or abort() the transport is finished: create a new one to reconnect.
  virtual void abort() = 0;
  // The handler refused what the server sent (e.g. an undecodable message): WebSocket
  // closes with a close frame (1007) instead of dropping TCP, bounded by connect_timeout;
  // HTTP drops the connection. No further callbacks, as after abort().
  virtual void refuse() = 0;
  virtual bool is_http() const = 0;
  virtual bool is_connected() const = 0;
};

}  // namespace opsup::transport
