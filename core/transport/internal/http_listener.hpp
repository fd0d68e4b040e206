// Accepts connections on TCP or a Unix socket (optionally TLS) and runs an HttpSession on
// each. Shared by HttpServer and the OpAMP ServerTransport.
#pragma once

#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <memory>
#include <string>

#include "transport/internal/http_session.hpp"

namespace opsup::transport::internal {

struct ListenerConfig {
  std::string name;  // "OpAMP server", "HTTP server": used in messages
  std::string listen_address = "127.0.0.1";
  uint16_t port = 0;
  std::string unix_socket_path;
  uint32_t unix_socket_mode = 0600;
  std::shared_ptr<asio::ssl::context> tls;
  std::chrono::milliseconds handshake_timeout{30000};
  SessionLimits limits;
  // Descriptors left free for the rest of the process: a connection accepted into them
  // displaces the oldest connection that has not sent a request yet, or is closed.
  std::size_t descriptor_reserve = 0;
};

class HttpDispatcher {
 public:
  virtual ~HttpDispatcher() = default;
  virtual void on_request(const std::shared_ptr<HttpSession<PlainStream>> &session,
                          RawRequest &&request) = 0;
  virtual void on_request(const std::shared_ptr<HttpSession<TlsStream>> &session,
                          RawRequest &&request) = 0;
  virtual void on_session_closed(HttpSessionBase &session, const std::string &reason) {
    (void)session;
    (void)reason;
  }
};

class HttpListener : public HttpSessionOwner, public std::enable_shared_from_this<HttpListener> {
 public:
  HttpListener(asio::io_context &io, ListenerConfig config, HttpDispatcher &dispatcher);
  ~HttpListener() override;

  // Throws std::system_error naming the address.
  void start();
  // Closes the acceptor and every session; the dispatcher hears nothing afterwards.
  void stop();
  uint16_t port() const { return port_; }
  bool tls() const { return config_.tls != nullptr; }
  std::size_t session_count() const { return sessions_.size(); }

  void dispatch(const std::shared_ptr<HttpSession<PlainStream>> &session,
                RawRequest &&request) override;
  void dispatch(const std::shared_ptr<HttpSession<TlsStream>> &session,
                RawRequest &&request) override;
  void session_closed(HttpSessionBase &session, const std::string &reason) override;
  void session_released(HttpSessionBase &session) override;

 private:
  void open_tcp();
  void open_unix();
  void accept_next();
  void on_accept(const boost::system::error_code &ec, GenericProtocol::socket socket);
  // True when the new socket may stay: it is below the reserve, or an idle connection
  // made room for it.
  bool admit_descriptor(GenericProtocol::socket &socket);
  void keep_descriptors_dense(GenericProtocol::socket &socket);
  // Closes the oldest connection that has not sent a request; false when there is none.
  bool evict_idle_connection(const std::string &why);

  asio::io_context &io_;
  ListenerConfig config_;
  HttpDispatcher &dispatcher_target_;
  HttpDispatcher *dispatcher_ = nullptr;  // null while stopped
  asio::basic_socket_acceptor<GenericProtocol> acceptor_;
  asio::steady_timer accept_retry_timer_;
  uint16_t port_ = 0;
  bool running_ = false;
  uint64_t next_session_id_ = 1;
  std::size_t descriptor_limit_ = 0;  // soft RLIMIT_NOFILE at start
  // By id, that is oldest first.
  std::map<uint64_t, std::weak_ptr<HttpSessionBase>> sessions_;
};

}  // namespace opsup::transport::internal
