// An OTLP/HTTP endpoint inside a test that answers every request with 200 and an empty
// protobuf body and records what arrived; with TLS it can require a client certificate.
// Shared by the own-telemetry end-to-end tests.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "test_certs.hpp"

namespace opsup::testing {

namespace otlp_sink_detail {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

// An OTLP/HTTP endpoint that answers every request with 200 and an empty protobuf body
// (an empty Export*ServiceResponse) and records what arrived. With TLS it can require a
// client certificate signed by a given CA.
class OtlpHttpSink {
  using tcp = boost::asio::ip::tcp;

 public:
  struct Request {
    std::string target;
    std::string content_type;
    std::string tenant;  // the X-Tenant header
    std::string body;
  };

  struct Tls {
    CertAndKey server;
    std::string client_ca_pem;  // "" = no client certificate required
  };

  explicit OtlpHttpSink(std::optional<Tls> tls = std::nullopt)
      : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    if (tls) {
      ssl_.emplace(asio::ssl::context::tls_server);
      ssl_->use_certificate_chain(asio::buffer(tls->server.cert_pem));
      ssl_->use_private_key(asio::buffer(tls->server.key_pem), asio::ssl::context::pem);
      if (!tls->client_ca_pem.empty()) {
        ssl_->add_certificate_authority(asio::buffer(tls->client_ca_pem));
        ssl_->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
      }
    }
    asio::co_spawn(io_, accept_loop(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~OtlpHttpSink() {
    io_.stop();
    thread_.join();
  }

  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::string url(const std::string &path) const {
    return std::string(ssl_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port()) + path;
  }

  std::vector<Request> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  // Requests to `target` so far.
  std::vector<Request> requests_to(const std::string &target) const {
    std::vector<Request> found;
    for (const Request &request : requests()) {
      if (request.target == target)
        found.push_back(request);
    }
    return found;
  }
  size_t handshake_failures() const {
    std::lock_guard lock(mutex_);
    return handshake_failures_;
  }

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      tcp::socket socket = co_await acceptor_.async_accept(asio::use_awaitable);
      if (ssl_) {
        asio::co_spawn(io_, serve_tls(std::move(socket)), asio::detached);
      } else {
        asio::co_spawn(io_, serve(beast::tcp_stream(std::move(socket))), asio::detached);
      }
    }
  }

  asio::awaitable<void> serve_tls(tcp::socket socket) {
    beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *ssl_);
    try {
      co_await stream.async_handshake(asio::ssl::stream_base::server, asio::use_awaitable);
    } catch (const std::exception &) {
      std::lock_guard lock(mutex_);
      ++handshake_failures_;
      co_return;
    }
    co_await serve(std::move(stream));
  }

  template <class Stream>
  asio::awaitable<void> serve(Stream stream) {
    beast::flat_buffer buffer;
    try {
      for (;;) {
        http::request<http::string_body> request;
        co_await http::async_read(stream, buffer, request, asio::use_awaitable);
        {
          std::lock_guard lock(mutex_);
          requests_.push_back({std::string(request.target()),
                               std::string(request[http::field::content_type]),
                               std::string(request["X-Tenant"]), request.body()});
        }
        http::response<http::string_body> response(http::status::ok, request.version());
        response.set(http::field::content_type, "application/x-protobuf");
        response.keep_alive(request.keep_alive());
        response.prepare_payload();
        co_await http::async_write(stream, response, asio::use_awaitable);
        if (!request.keep_alive())
          break;
      }
    } catch (const std::exception &) {
      // The Collector closed the connection (or stopped): nothing to record.
    }
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::optional<asio::ssl::context> ssl_;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<Request> requests_;
  size_t handshake_failures_ = 0;
};

}  // namespace otlp_sink_detail

using otlp_sink_detail::OtlpHttpSink;

}  // namespace opsup::testing
