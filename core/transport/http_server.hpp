// A small generic HTTP(S) server: web UI and JSON API of the reference server, test OAuth2
// token endpoints, package downloads. TCP or Unix socket, keep-alive, bounded request
// bodies, optional TLS. The OpAMP ServerTransport runs on the same machinery.
#pragma once

#include <chrono>
#include <cstdint>
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

struct HttpServerOptions {
  std::string listen_address = "127.0.0.1";
  uint16_t port = 0;             // 0 picks a free port; read it back with port()
  std::string unix_socket_path;  // when set, listen here instead of TCP
  uint32_t unix_socket_mode = 0600;
  std::optional<ServerTlsSettings> tls;
  // Request bodies above this (after gzip decompression) are answered with 413.
  std::size_t max_request_body_bytes = kDefaultMaxMessageBytes;
  // Reading one request (headers + body) must finish within this; so must the TLS
  // handshake and the first request of a new connection.
  std::chrono::milliseconds request_timeout{30000};
  // A keep-alive connection with no request for this long is closed.
  std::chrono::milliseconds idle_timeout{120000};
  // A request body with no new bytes for this long is answered with 408.
  std::chrono::milliseconds body_timeout{10000};
  // All request bodies being read at once (before gzip inflation); a request that would
  // exceed it gets 503 with Retry-After.
  std::size_t max_body_bytes_in_flight = 256 * 1024 * 1024;
  // When set, connections accepted into the last `descriptor_reserve` descriptors of the
  // soft RLIMIT_NOFILE displace the oldest connection that has not sent a request yet, or
  // are closed: the rest of the process (another listener, files) keeps that many.
  std::size_t descriptor_reserve = 0;
};

struct HttpServerRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: "/api/agents?limit=5"
  std::string path;    // target without the query: "/api/agents"
  std::string query;   // after '?', not decoded: "limit=5"
  HeaderList headers;
  std::string body;                                 // already inflated when Content-Encoding: gzip
  std::string peer;                                 // "127.0.0.1:5555" or "unix:/path (pid 12)"
  std::optional<PeerCredentials> peer_credentials;  // Unix socket only
  bool tls = false;

  // Case-insensitive header lookup; nullopt when absent.
  std::optional<std::string> header(std::string_view name) const;
};

struct HttpServerResponse {
  int status = 200;
  HeaderList headers;  // Content-Length is computed; set Content-Type yourself
  std::string body;
  // When set, the body is streamed from this file instead of `body` (large downloads).
  // GET requests with a single "Range: bytes=a-b" get 206 / 416; "Accept-Ranges: bytes"
  // is sent. An unreadable file is answered with 404.
  std::string file_path;
  bool close_connection = false;  // send "Connection: close" and close after writing

  static HttpServerResponse text(int status, std::string body,
                                 std::string content_type = "text/plain; charset=utf-8");
};

// Called on the io_context thread for each request. Call `respond` exactly once, at once or
// later, from any thread (it is posted to the io_context); the connection reads no further
// request until then. Calling it after the connection closed does nothing. A handler that
// throws gets 500.
using HttpServerHandlerFn = std::function<void(const HttpServerRequest &request,
                                               std::function<void(HttpServerResponse)> respond)>;

class HttpServer {
 public:
  virtual ~HttpServer() = default;
  // Throws std::invalid_argument naming the bad option (unreadable certificate, ...).
  static std::unique_ptr<HttpServer> create(boost::asio::io_context &io, HttpServerOptions options,
                                            HttpServerHandlerFn handler);
  // Binds and starts accepting. Throws std::system_error naming the address on failure.
  virtual void start() = 0;
  // Stops accepting and closes every connection (pending responds become no-ops).
  virtual void stop() = 0;
  virtual uint16_t port() const = 0;  // the bound TCP port (0 for a Unix socket)
  // "http://127.0.0.1:8080" ("https" with TLS; "http://localhost" for a Unix socket).
  virtual std::string base_url() const = 0;
  virtual std::size_t connection_count() const = 0;
};

}  // namespace opsup::transport
