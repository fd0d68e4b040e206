// The plain-HTTP OpAMP client: each AgentToServer is a POST whose response is the
// ServerToAgent. One request in flight; the connection is kept alive between requests.
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "transport/internal/client_common.hpp"
#include "transport/internal/gzip.hpp"

namespace opsup::transport::internal {

namespace {

namespace http = beast::http;

constexpr const char *kUserAgent = "opampsupervisor";

// The result of one POST, as the transport needs it.
struct PostResult {
  bool ok = false;         // a 2xx response with a usable body
  std::string body;        // the ServerToAgent when ok
  DisconnectInfo failure;  // otherwise
};

// One POST exchange over a connection that may be reused by the next.
class HttpExchangeBase {
 public:
  virtual ~HttpExchangeBase() = default;
  virtual void post(std::string body, std::function<void(PostResult)> done) = 0;
  virtual void abort() = 0;
};

template <class Stream>
class HttpConnection final : public HttpExchangeBase,
                             public std::enable_shared_from_this<HttpConnection<Stream>> {
 public:
  HttpConnection(asio::io_context &io, std::shared_ptr<const ClientSetup> setup)
      : io_(io), setup_(std::move(setup)), deadline_(io) {}

  void post(std::string body, std::function<void(PostResult)> done) override {
    done_ = std::move(done);
    body_ = std::move(body);
    retried_ = false;
    aborted_ = false;
    start_deadline();
    if (stream_ && open_)
      return write_request();
    open_stream();
  }

  void abort() override {
    aborted_ = true;
    done_ = nullptr;
    deadline_.cancel();
    close_stream();
  }

 private:
  void start_deadline() {
    const auto timeout = setup_->options.connect_timeout;
    deadline_.expires_after(timeout);
    deadline_.async_wait([weak = this->weak_from_this(), timeout](boost::system::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || !self->done_)
        return;
      self->timed_out_ = true;
      if (self->connector_) {
        self->connector_->cancel("timed out after " + std::to_string(timeout.count()) + " ms");
      }
      self->close_stream();
    });
  }

  void open_stream() {
    open_ = false;
    timed_out_ = false;
    stream_ = make_client_stream<Stream>(io_.get_executor(), setup_->tls);
    buffer_.clear();
    connector_ = std::make_shared<ClientConnector<Stream>>(*stream_, setup_->target());
    connector_->start([self = this->shared_from_this()](std::string error) {
      self->connector_.reset();
      if (!self->done_)
        return;
      if (!error.empty())
        return self->fail(disconnect(error));
      self->open_ = true;
      self->reused_ = false;
      self->write_request();
    });
  }

  void write_request() {
    const auto &options = setup_->options;
    request_ = {};
    request_.method(http::verb::post);
    request_.target(setup_->url.target);
    request_.version(11);
    request_.set(http::field::host, setup_->url.host_header);
    request_.set(http::field::user_agent, kUserAgent);
    request_.set(http::field::content_type, "application/x-protobuf");
    request_.set(http::field::accept_encoding, "gzip");
    if (!options.instance_uid_header.empty()) {
      request_.set("OpAMP-Instance-UID", options.instance_uid_header);
    }
    setup_->apply_headers(request_);
    if (options.gzip_http_requests) {
      request_.set(http::field::content_encoding, "gzip");
      request_.body() = gzip_compress(body_);
    } else {
      request_.body() = body_;
    }
    request_.keep_alive(true);
    request_.prepare_payload();
    http::async_write(
        *stream_, request_,
        [self = this->shared_from_this()](const boost::system::error_code &ec, std::size_t) {
          if (!self->done_)
            return;
          if (ec)
            return self->retry_or_fail("sending the request failed", ec);
          self->read_response();
        });
  }

  void read_response() {
    parser_.emplace();
    // A Content-Length over the limit is refused with the header, before the body.
    parser_->body_limit(setup_->options.max_message_bytes);
    http::async_read_header(
        *stream_, buffer_, *parser_,
        [self = this->shared_from_this()](const boost::system::error_code &ec, std::size_t) {
          self->on_header(ec);
        });
  }

  void on_header(const boost::system::error_code &ec) {
    if (!done_)
      return;
    if (ec)
      return on_response(ec);
    if (!parser_->is_done() && !parser_->content_length()) {
      // Chunked or until EOF: reserve address space for the largest body once, so the
      // body never doubles and copies (pages are only used as they are written).
      // A reservation the machine cannot give is not fatal: the body then grows as it comes.
      try {
        parser_->get().body().reserve(setup_->options.max_message_bytes);
      } catch (const std::bad_alloc &) {
      }
    }
    http::async_read(*stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](const boost::system::error_code &ec,
                                                       std::size_t) { self->on_response(ec); });
  }

  void on_response(const boost::system::error_code &ec) {
    if (!done_)
      return;
    if (ec == http::error::body_limit) {
      DisconnectInfo info;
      info.message_too_large = true;
      info.reason = "response from " + setup_->peer + " larger than " +
                    std::to_string(setup_->options.max_message_bytes) + " bytes";
      return fail(info);
    }
    if (ec) {
      // Once any of a response has arrived the server has the request: no second try.
      const bool response_started = parser_->got_some() || buffer_.size() > 0;
      return retry_or_fail("reading the response failed", ec, !response_started);
    }
    auto response = parser_->release();
    parser_.reset();
    reused_ = true;
    if (!response.keep_alive())
      close_stream();

    PostResult result;
    const int status = static_cast<int>(response.result_int());
    if (status < 200 || status > 299) {
      result.failure.http_status = status;
      result.failure.retry_after = retry_after_for(status, response);
      result.failure.message_too_large = status == 413;
      result.failure.reason = "HTTP " + std::to_string(status) + " " +
                              std::string(response.reason()) + " from " + setup_->peer +
                              location_for_logs(status, response);
      return complete(std::move(result));
    }
    const auto encoding = response[http::field::content_encoding];
    if (beast::iequals(encoding, "gzip") || beast::iequals(encoding, "x-gzip") ||
        beast::iequals(encoding, "deflate")) {
      auto inflated = gzip_inflate(response.body(), setup_->options.max_message_bytes);
      if (inflated.status != InflateStatus::ok) {
        result.failure.message_too_large = inflated.status == InflateStatus::too_large;
        result.failure.reason = "response from " + setup_->peer + ": " + inflated.error;
        close_stream();
        return complete(std::move(result));
      }
      result.body = std::move(inflated.data);
    } else {
      result.body = std::move(response.body());
    }
    result.ok = true;
    complete(std::move(result));
  }

  // A kept-alive connection may have been closed by the server meanwhile: try once more,
  // unless the request may have been processed (`resend_safe` false).
  void retry_or_fail(const std::string &what, const boost::system::error_code &ec,
                     bool resend_safe = true) {
    const bool fresh_attempt_possible = resend_safe && reused_ && !retried_ && !timed_out_;
    close_stream();
    if (fresh_attempt_possible) {
      retried_ = true;
      return open_stream();
    }
    if (timed_out_) {
      return fail(disconnect("request to " + setup_->peer + " timed out after " +
                             std::to_string(setup_->options.connect_timeout.count()) + " ms"));
    }
    fail(disconnect(what + " (" + setup_->peer + "): " + ec.message()));
  }

  void fail(DisconnectInfo info) {
    close_stream();
    PostResult result;
    result.failure = std::move(info);
    complete(std::move(result));
  }

  void complete(PostResult result) {
    deadline_.cancel();
    if (auto done = std::exchange(done_, nullptr))
      done(std::move(result));
  }

  void close_stream() {
    open_ = false;
    if (stream_)
      beast::get_lowest_layer(*stream_).close();
  }

  asio::io_context &io_;
  std::shared_ptr<const ClientSetup> setup_;
  asio::steady_timer deadline_;
  std::unique_ptr<Stream> stream_;
  std::shared_ptr<ClientConnector<Stream>> connector_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  std::optional<http::response_parser<http::string_body>> parser_;
  std::string body_;
  std::function<void(PostResult)> done_;
  bool open_ = false;
  bool reused_ = false;
  bool retried_ = false;
  bool timed_out_ = false;
  bool aborted_ = false;
};

class HttpClientTransport final : public ClientTransport {
 public:
  HttpClientTransport(asio::io_context &io, ClientSetup setup, ClientTransportHandler &handler)
      : io_(io),
        setup_(std::make_shared<const ClientSetup>(std::move(setup))),
        handler_(&handler),
        shutdown_timer_(io) {
    if (setup_->tls) {
      connection_ = std::make_shared<HttpConnection<TlsStream>>(io, setup_);
    } else {
      connection_ = std::make_shared<HttpConnection<PlainStream>>(io, setup_);
    }
  }
  ~HttpClientTransport() override { abort(); }

  void connect() override {
    if (stopped_)
      return;
    armed_ = true;
    pending_ = true;
    send_if_possible();
  }

  void notify_pending() override {
    pending_ = true;
    send_if_possible();
  }

  void shutdown(std::string last_message, std::chrono::milliseconds timeout,
                std::function<void()> done) override {
    handler_ = nullptr;
    stopped_ = true;
    last_message_ = std::move(last_message);
    shutdown_done_ = std::move(done);
    shutdown_timer_.expires_after(timeout);
    shutdown_timer_.async_wait([this](boost::system::error_code ec) {
      if (ec)
        return;
      spdlog::warn("OpAMP client: the last request to {} did not finish in time", setup_->peer);
      connection_->abort();
      in_flight_ = false;
      finish_shutdown();
    });
    if (!in_flight_)
      send_last();
  }

  void abort() override {
    handler_ = nullptr;
    stopped_ = true;
    connected_ = false;
    shutdown_done_ = nullptr;
    shutdown_timer_.cancel();
    connection_->abort();
  }

  void refuse() override { abort(); }

  bool is_http() const override { return true; }
  bool is_connected() const override { return connected_; }

 private:
  void send_if_possible() {
    if (in_flight_ || !armed_ || !pending_ || handler_ == nullptr)
      return;
    auto message = handler_->next_message();
    if (!message) {
      pending_ = false;  // drained; the next notify_pending() asks again
      return;
    }
    if (in_flight_ || stopped_)
      return;
    in_flight_ = true;
    connection_->post(std::move(*message),
                      [this](PostResult result) { on_result(std::move(result)); });
  }

  void on_result(PostResult result) {
    in_flight_ = false;
    if (stopped_) {
      if (last_message_)
        send_last();
      return;
    }
    if (!result.ok) {
      armed_ = false;
      connected_ = false;
      spdlog::debug("OpAMP client: {}", result.failure.reason);
      if (handler_ != nullptr)
        handler_->on_disconnected(result.failure);
      return;
    }
    if (!connected_) {
      connected_ = true;
      if (handler_ != nullptr)
        handler_->on_connected();
    }
    if (handler_ != nullptr)
      handler_->on_message(result.body);
    send_if_possible();
  }

  void send_last() {
    if (!last_message_)
      return;
    in_flight_ = true;
    std::string body = std::move(*last_message_);
    last_message_.reset();
    connection_->post(std::move(body), [this](PostResult) {
      in_flight_ = false;
      finish_shutdown();
    });
  }

  void finish_shutdown() {
    shutdown_timer_.cancel();
    connected_ = false;
    connection_->abort();
    if (auto done = std::exchange(shutdown_done_, nullptr))
      asio::post(io_, std::move(done));
  }

  asio::io_context &io_;
  std::shared_ptr<const ClientSetup> setup_;
  ClientTransportHandler *handler_;
  asio::steady_timer shutdown_timer_;
  std::shared_ptr<HttpExchangeBase> connection_;
  bool armed_ = false;
  bool pending_ = false;
  bool in_flight_ = false;
  bool connected_ = false;
  bool stopped_ = false;
  std::optional<std::string> last_message_;
  std::function<void()> shutdown_done_;
};

}  // namespace

std::unique_ptr<ClientTransport> make_http_client(asio::io_context &io, ClientSetup setup,
                                                  ClientTransportHandler &handler) {
  return std::make_unique<HttpClientTransport>(io, std::move(setup), handler);
}

}  // namespace opsup::transport::internal
