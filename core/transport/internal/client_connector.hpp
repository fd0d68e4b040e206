// Opens a client stream: resolve, TCP or Unix-socket connect, through an HTTP proxy's
// CONNECT tunnel when one is given, TLS handshake with SNI and peer verification. The caller bounds
// it in time by calling cancel().
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "transport/internal/proxy_target.hpp"
#include "transport/internal/streams.hpp"
#include "transport/transport_types.hpp"

namespace opsup::transport::internal {

struct ConnectTarget {
  std::string host;  // DNS name or IP literal; also the TLS name unless overridden
  uint16_t port = 0;
  std::string unix_socket_path;            // when set, host/port are not used for connecting
  const ClientTlsSettings *tls = nullptr;  // TLS streams only; must outlive the connect
  // Connect to this proxy and open a CONNECT tunnel to host:port first (not with a socket).
  std::optional<ProxyTarget> proxy;

  // "127.0.0.1:4320" or "unix:/run/x.sock", for messages.
  std::string describe() const;
};

template <class Stream>
std::unique_ptr<Stream> make_client_stream(const asio::any_io_executor &executor,
                                           const std::shared_ptr<asio::ssl::context> &tls);

// Connects `stream` (fresh from make_client_stream). `done(error)` gets an empty string on
// success, else a message naming the peer and the failed step.
template <class Stream>
class ClientConnector : public std::enable_shared_from_this<ClientConnector<Stream>> {
 public:
  using Done = std::function<void(std::string error)>;
  ClientConnector(Stream &stream, ConnectTarget target);
  void start(Done done);
  // Stops the connect; `done` then reports `reason` (e.g. "timed out after 30000 ms").
  void cancel(std::string reason);

 private:
  void on_resolved(const boost::system::error_code &ec,
                   const asio::ip::tcp::resolver::results_type &results);
  void on_connected(const boost::system::error_code &ec);
  void send_connect();
  void on_connect_response(const boost::system::error_code &ec);
  void start_tls_or_finish();
  // What the TCP connection goes to: the proxy, or the server itself.
  std::string first_hop() const;
  void finish(std::string error);

  Stream &stream_;
  ConnectTarget target_;
  asio::ip::tcp::resolver resolver_;
  Done done_;
  beast::flat_buffer proxy_buffer_;
  std::optional<beast::http::response_parser<beast::http::empty_body>> proxy_response_;
  std::string cancel_reason_;
  bool finished_ = false;
};

}  // namespace opsup::transport::internal
