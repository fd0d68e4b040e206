#include "transport/internal/client_connector.hpp"

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "transport/internal/socket_info.hpp"
#include "transport/internal/tls_context.hpp"

namespace opsup::transport::internal {

namespace {

// OpenSSL's verify error is more useful than "certificate verify failed".
std::string tls_error_text(const boost::system::error_code &ec, SSL *ssl) {
  std::string text = ec.message();
  if (ssl != nullptr) {
    const long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK) {
      text += " (" + std::string(X509_verify_cert_error_string(verify)) + ")";
    }
  }
  return text;
}

}  // namespace

std::string ConnectTarget::describe() const {
  if (!unix_socket_path.empty())
    return "unix:" + unix_socket_path;
  if (host.find(':') != std::string::npos)
    return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

template <>
std::unique_ptr<PlainStream> make_client_stream<PlainStream>(
    const asio::any_io_executor &executor, const std::shared_ptr<asio::ssl::context> &) {
  return std::make_unique<PlainStream>(executor);
}

template <>
std::unique_ptr<TlsStream> make_client_stream<TlsStream>(
    const asio::any_io_executor &executor, const std::shared_ptr<asio::ssl::context> &tls) {
  return std::make_unique<TlsStream>(PlainStream(executor), *tls);
}

template <class Stream>
ClientConnector<Stream>::ClientConnector(Stream &stream, ConnectTarget target)
    : stream_(stream),
      target_(std::move(target)),
      resolver_(beast::get_lowest_layer(stream).get_executor()) {}

template <class Stream>
void ClientConnector<Stream>::start(Done done) {
  done_ = std::move(done);
  auto self = this->shared_from_this();
  if (!target_.unix_socket_path.empty()) {
    const GenericProtocol::endpoint endpoint{
        asio::local::stream_protocol::endpoint(target_.unix_socket_path)};
    beast::get_lowest_layer(stream_).async_connect(
        endpoint, [self](const boost::system::error_code &ec) { self->on_connected(ec); });
    return;
  }
  const std::string &host = target_.proxy ? target_.proxy->host : target_.host;
  const uint16_t port = target_.proxy ? target_.proxy->port : target_.port;
  boost::system::error_code literal_ec;
  const auto address = asio::ip::make_address(host, literal_ec);
  if (!literal_ec) {
    // An IP literal needs no resolver (which would start a thread for getaddrinfo).
    const std::vector<GenericProtocol::endpoint> endpoints{
        GenericProtocol::endpoint(asio::ip::tcp::endpoint(address, port))};
    beast::get_lowest_layer(stream_).async_connect(
        endpoints, [self](const boost::system::error_code &ec, const GenericProtocol::endpoint &) {
          self->on_connected(ec);
        });
    return;
  }
  resolver_.async_resolve(host, std::to_string(port),
                          [self](const boost::system::error_code &ec,
                                 const asio::ip::tcp::resolver::results_type &results) {
                            self->on_resolved(ec, results);
                          });
}

template <class Stream>
void ClientConnector<Stream>::cancel(std::string reason) {
  if (finished_)
    return;
  cancel_reason_ = std::move(reason);
  resolver_.cancel();
  beast::get_lowest_layer(stream_).close();
}

template <class Stream>
void ClientConnector<Stream>::on_resolved(const boost::system::error_code &ec,
                                          const asio::ip::tcp::resolver::results_type &results) {
  if (ec || !cancel_reason_.empty()) {
    return finish("cannot resolve " + first_hop() + ": " +
                  (cancel_reason_.empty() ? ec.message() : cancel_reason_));
  }
  std::vector<GenericProtocol::endpoint> endpoints;
  for (const auto &entry : results)
    endpoints.emplace_back(entry.endpoint());
  auto self = this->shared_from_this();
  beast::get_lowest_layer(stream_).async_connect(
      endpoints, [self](const boost::system::error_code &ec, const GenericProtocol::endpoint &) {
        self->on_connected(ec);
      });
}

template <class Stream>
void ClientConnector<Stream>::on_connected(const boost::system::error_code &ec) {
  if (ec || !cancel_reason_.empty()) {
    return finish("cannot connect to " + first_hop() + ": " +
                  (cancel_reason_.empty() ? ec.message() : cancel_reason_));
  }
  set_tcp_no_delay(beast::get_lowest_layer(stream_).socket());
  if (target_.proxy && target_.unix_socket_path.empty())
    return send_connect();
  start_tls_or_finish();
}

template <class Stream>
std::string ClientConnector<Stream>::first_hop() const {
  if (target_.proxy && target_.unix_socket_path.empty())
    return target_.proxy->describe() + " (for " + target_.describe() + ")";
  return target_.describe();
}

template <class Stream>
void ClientConnector<Stream>::send_connect() {
  namespace http = beast::http;
  const std::string authority = target_.describe();
  auto request =
      std::make_shared<http::request<http::empty_body>>(http::verb::connect, authority, 11);
  request->set(http::field::host, authority);
  for (const auto &header : target_.proxy->headers)
    request->insert(header.name, header.value);
  auto self = this->shared_from_this();
  http::async_write(
      beast::get_lowest_layer(stream_), *request,
      [self, request](const boost::system::error_code &ec, std::size_t) {
        if (ec || !self->cancel_reason_.empty()) {
          return self->finish("cannot send CONNECT to " + self->first_hop() + ": " +
                              (self->cancel_reason_.empty() ? ec.message() : self->cancel_reason_));
        }
        self->proxy_response_.emplace();
        // A CONNECT answer has no body: the tunnel starts after its header.
        self->proxy_response_->skip(true);
        http::async_read(beast::get_lowest_layer(self->stream_), self->proxy_buffer_,
                         *self->proxy_response_,
                         [self](const boost::system::error_code &read_ec, std::size_t) {
                           self->on_connect_response(read_ec);
                         });
      });
}

template <class Stream>
void ClientConnector<Stream>::on_connect_response(const boost::system::error_code &ec) {
  if (ec || !cancel_reason_.empty()) {
    return finish("no answer to CONNECT from " + first_hop() + ": " +
                  (cancel_reason_.empty() ? ec.message() : cancel_reason_));
  }
  const auto &response = proxy_response_->get();
  const unsigned status = response.result_int();
  if (status < 200 || status > 299) {
    return finish(target_.proxy->describe() + " refused CONNECT to " + target_.describe() + ": " +
                  std::to_string(status) + " " + std::string(response.reason()));
  }
  start_tls_or_finish();
}

template <class Stream>
void ClientConnector<Stream>::start_tls_or_finish() {
  if constexpr (std::is_same_v<Stream, TlsStream>) {
    if (!prepare_client_tls(stream_.native_handle(), *target_.tls, target_.host)) {
      return finish("TLS setup for " + target_.describe() + " failed: invalid server name");
    }
    auto self = this->shared_from_this();
    stream_.async_handshake(
        asio::ssl::stream_base::client, [self](const boost::system::error_code &ec) {
          if (ec || !self->cancel_reason_.empty()) {
            return self->finish("TLS handshake with " + self->target_.describe() + " failed: " +
                                (self->cancel_reason_.empty()
                                     ? tls_error_text(ec, self->stream_.native_handle())
                                     : self->cancel_reason_));
          }
          self->finish({});
        });
  } else {
    finish({});
  }
}

template <class Stream>
void ClientConnector<Stream>::finish(std::string error) {
  if (finished_)
    return;
  finished_ = true;
  auto done = std::move(done_);
  if (done)
    done(std::move(error));
}

template class ClientConnector<PlainStream>;
template class ClientConnector<TlsStream>;

}  // namespace opsup::transport::internal
