#include "transport/http_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <vector>

#include "transport/internal/client_connector.hpp"
#include "transport/internal/endpoint_url.hpp"
#include "transport/internal/gzip.hpp"
#include "transport/internal/http_handler_adapter.hpp"
#include "transport/internal/tls_context.hpp"

namespace opsup::transport {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using internal::ClientConnector;
using internal::PlainStream;
using internal::TlsStream;

constexpr std::size_t kChunkBytes = 64 * 1024;

template <class Stream>
class OneShotRequest final : public std::enable_shared_from_this<OneShotRequest<Stream>> {
 public:
  OneShotRequest(asio::io_context &io, HttpRequest request, HttpCallbacks callbacks,
                 internal::EndpointUrl url, std::shared_ptr<asio::ssl::context> tls)
      : io_(io),
        request_(std::move(request)),
        callbacks_(std::move(callbacks)),
        url_(std::move(url)),
        tls_(std::move(tls)),
        deadline_(io) {
    target_.host = url_.host;
    target_.port = url_.port;
    target_.tls = &request_.tls;
    peer_ = request_.method + " " + request_.url;
  }

  void start(http::verb verb) {
    verb_ = verb;
    stream_ = internal::make_client_stream<Stream>(io_.get_executor(), tls_);
    arm_deadline();
    connector_ = std::make_shared<ClientConnector<Stream>>(*stream_, target_);
    connector_->start([self = this->shared_from_this()](std::string error) {
      if (!error.empty())
        return self->fail(error);
      self->connected_ = true;
      self->write_request();
    });
  }

 private:
  // The timeout bounds connecting and each wait for data, so long downloads that keep
  // moving are not cut off.
  void arm_deadline() {
    deadline_.expires_after(request_.timeout);
    deadline_.async_wait([weak = this->weak_from_this()](boost::system::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->finished_)
        return;
      self->timed_out_ = true;
      const std::string reason =
          "timed out after " + std::to_string(self->request_.timeout.count()) + " ms";
      if (!self->connected_)
        return self->connector_->cancel(reason);
      beast::get_lowest_layer(*self->stream_).close();
    });
  }

  void write_request() {
    auto &message = outgoing_;
    message.method(verb_);
    message.target(url_.target);
    message.version(11);
    message.set(http::field::host, url_.host_header);
    message.set(http::field::user_agent, "opampsupervisor");
    for (const auto &header : request_.headers)
      message.erase(header.name);
    for (const auto &header : request_.headers)
      message.insert(header.name, header.value);
    message.body() = std::move(request_.body);
    message.keep_alive(false);
    if (!message.body().empty() || verb_ == http::verb::post || verb_ == http::verb::put) {
      message.prepare_payload();
    }
    http::async_write(
        *stream_, message,
        [self = this->shared_from_this()](const boost::system::error_code &ec, std::size_t) {
          if (ec)
            return self->fail_io("sending the request failed", ec);
          self->read_header();
        });
  }

  void read_header() {
    parser_.body_limit(request_.max_response_bytes);
    if (verb_ == http::verb::head)
      parser_.skip(true);
    http::async_read_header(
        *stream_, buffer_, parser_,
        [self = this->shared_from_this()](const boost::system::error_code &ec, std::size_t) {
          if (ec == http::error::body_limit)
            return self->fail_too_large();
          if (ec)
            return self->fail_io("reading the response failed", ec);
          self->on_header();
        });
  }

  void on_header() {
    arm_deadline();
    const auto &header = parser_.get();
    response_.status = static_cast<int>(header.result_int());
    response_.headers = internal::to_header_list(header);
    if (auto length = parser_.content_length())
      total_ = *length;
    if (callbacks_.on_header && !callbacks_.on_header(response_))
      return fail("stopped by the caller after the response header (HTTP " +
                  std::to_string(header.result_int()) + ")");
    chunk_.resize(kChunkBytes);
    read_body();
  }

  void read_body() {
    if (parser_.is_done())
      return complete();
    auto &body = parser_.get().body();
    body.data = chunk_.data();
    body.size = chunk_.size();
    http::async_read(*stream_, buffer_, parser_,
                     [self = this->shared_from_this()](boost::system::error_code ec, std::size_t) {
                       if (ec == http::error::need_buffer)
                         ec = {};
                       if (ec == http::error::body_limit)
                         return self->fail_too_large();
                       if (ec) {
                         // What arrived before the connection broke still counts (a
                         // download keeps it to resume).
                         if (self->callbacks_.on_body_chunk)
                           self->deliver_body_bytes();
                         return self->fail_io("reading the response body failed", ec);
                       }
                       self->on_body_bytes();
                     });
  }

  // Hands what the last read put into chunk_ to on_body_chunk (or the body).
  void deliver_body_bytes() {
    const std::size_t got = chunk_.size() - parser_.get().body().size;
    if (got > 0) {
      received_ += got;
      const std::string_view data(chunk_.data(), got);
      if (callbacks_.on_body_chunk) {
        callbacks_.on_body_chunk(data, received_, total_);
      } else {
        response_.body.append(data);
      }
    }
  }

  void on_body_bytes() {
    arm_deadline();
    deliver_body_bytes();
    if (finished_)
      return;
    if (callbacks_.keep_going && !callbacks_.keep_going())
      return fail("stopped by the caller");
    read_body();
  }

  void complete() {
    const auto encoding = response_.header("Content-Encoding").value_or("");
    if (!callbacks_.on_body_chunk &&
        (beast::iequals(encoding, "gzip") || beast::iequals(encoding, "x-gzip"))) {
      auto inflated = internal::gzip_inflate(response_.body, request_.max_response_bytes);
      if (inflated.status != internal::InflateStatus::ok)
        return fail(inflated.error);
      response_.body = std::move(inflated.data);
    }
    finish();
  }

  void fail_too_large() {
    fail("response body exceeds " + std::to_string(request_.max_response_bytes) + " bytes");
  }

  void fail_io(const std::string &what, const boost::system::error_code &ec) {
    if (timed_out_) {
      return fail("timed out after " + std::to_string(request_.timeout.count()) + " ms");
    }
    fail(what + ": " + ec.message());
  }

  void fail(const std::string &error) {
    response_.status = 0;
    response_.body.clear();
    response_.error = peer_ + ": " + error;
    finish();
  }

  void finish() {
    if (finished_)
      return;
    finished_ = true;
    deadline_.cancel();
    if (stream_)
      beast::get_lowest_layer(*stream_).close();
    if (callbacks_.on_complete)
      callbacks_.on_complete(std::move(response_));
  }

  asio::io_context &io_;
  HttpRequest request_;
  HttpCallbacks callbacks_;
  internal::EndpointUrl url_;
  std::shared_ptr<asio::ssl::context> tls_;
  internal::ConnectTarget target_;
  std::string peer_;
  http::verb verb_ = http::verb::get;
  asio::steady_timer deadline_;
  std::unique_ptr<Stream> stream_;
  std::shared_ptr<ClientConnector<Stream>> connector_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> outgoing_;
  http::response_parser<http::buffer_body> parser_;
  std::vector<char> chunk_;
  HttpResponse response_;
  uint64_t received_ = 0;
  uint64_t total_ = 0;
  bool connected_ = false;
  bool timed_out_ = false;
  bool finished_ = false;
};

void fail_now(asio::io_context &io, HttpCallbacks &callbacks, std::string error) {
  HttpResponse response;
  response.error = std::move(error);
  asio::post(io, [on_complete = std::move(callbacks.on_complete),
                  response = std::move(response)]() mutable {
    if (on_complete)
      on_complete(std::move(response));
  });
}

}  // namespace

void http_request(boost::asio::io_context &io, HttpRequest request, HttpCallbacks callbacks) {
  internal::EndpointUrl url;
  std::shared_ptr<asio::ssl::context> tls;
  const auto verb = http::string_to_verb(request.method);
  try {
    if (verb == http::verb::unknown) {
      throw std::invalid_argument("method: unknown HTTP method '" + request.method + "'");
    }
    url = internal::parse_endpoint_url(request.url, "url", {"http", "https"});
    if (url.tls)
      tls = internal::make_client_tls_context(request.tls);
  } catch (const std::exception &error) {
    return fail_now(io, callbacks, request.method + " " + request.url + ": " + error.what());
  }
  if (url.tls) {
    auto exchange = std::make_shared<OneShotRequest<TlsStream>>(io, std::move(request),
                                                                std::move(callbacks), url, tls);
    exchange->start(verb);
  } else {
    auto exchange = std::make_shared<OneShotRequest<PlainStream>>(io, std::move(request),
                                                                  std::move(callbacks), url, tls);
    exchange->start(verb);
  }
}

}  // namespace opsup::transport
