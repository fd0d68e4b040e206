#include "transport/http_server.hpp"

#include <boost/asio/io_context.hpp>

#include "transport/internal/http_handler_adapter.hpp"
#include "transport/internal/http_listener.hpp"
#include "transport/internal/tls_context.hpp"

namespace opsup::transport {

namespace {

using internal::HttpSession;
using internal::PlainStream;
using internal::RawRequest;
using internal::TlsStream;

class HttpServerImpl final : public HttpServer, private internal::HttpDispatcher {
 public:
  HttpServerImpl(boost::asio::io_context &io, HttpServerOptions options,
                 HttpServerHandlerFn handler)
      : io_(io), options_(std::move(options)), handler_(std::move(handler)) {
    internal::ListenerConfig config;
    config.name = "HTTP server";
    config.listen_address = options_.listen_address;
    config.port = options_.port;
    config.unix_socket_path = options_.unix_socket_path;
    config.unix_socket_mode = options_.unix_socket_mode;
    if (options_.tls)
      config.tls = internal::make_server_tls_context(*options_.tls);
    config.handshake_timeout = options_.request_timeout;
    config.limits.max_body_bytes = options_.max_request_body_bytes;
    config.limits.request_timeout = options_.request_timeout;
    config.limits.idle_timeout = options_.idle_timeout;
    config.limits.first_request_timeout = options_.request_timeout;
    config.limits.body_timeout = options_.body_timeout;
    config.limits.body_budget =
        std::make_shared<internal::BodyBudget>(options_.max_body_bytes_in_flight);
    config.descriptor_reserve = options_.descriptor_reserve;
    listener_ = std::make_shared<internal::HttpListener>(
        io, std::move(config), static_cast<internal::HttpDispatcher &>(*this));
  }
  ~HttpServerImpl() override { listener_->stop(); }

  void start() override { listener_->start(); }
  void stop() override { listener_->stop(); }
  uint16_t port() const override { return listener_->port(); }
  std::string base_url() const override {
    const std::string scheme = listener_->tls() ? "https://" : "http://";
    if (!options_.unix_socket_path.empty())
      return scheme + "localhost";
    std::string host = options_.listen_address;
    if (host.find(':') != std::string::npos)
      host = "[" + host + "]";
    if (host == "0.0.0.0")
      host = "127.0.0.1";
    if (host == "[::]")
      host = "[::1]";
    return scheme + host + ":" + std::to_string(port());
  }
  std::size_t connection_count() const override { return listener_->session_count(); }

 private:
  void on_request(const std::shared_ptr<HttpSession<PlainStream>> &session,
                  RawRequest &&request) override {
    internal::invoke_http_handler(handler_, session, std::move(request), io_.get_executor());
  }
  void on_request(const std::shared_ptr<HttpSession<TlsStream>> &session,
                  RawRequest &&request) override {
    internal::invoke_http_handler(handler_, session, std::move(request), io_.get_executor());
  }

  boost::asio::io_context &io_;
  HttpServerOptions options_;
  HttpServerHandlerFn handler_;
  std::shared_ptr<internal::HttpListener> listener_;
};

}  // namespace

std::unique_ptr<HttpServer> HttpServer::create(boost::asio::io_context &io,
                                               HttpServerOptions options,
                                               HttpServerHandlerFn handler) {
  return std::make_unique<HttpServerImpl>(io, std::move(options), std::move(handler));
}

}  // namespace opsup::transport
