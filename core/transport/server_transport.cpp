#include "transport/server_transport.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <deque>
#include <unordered_map>

#include "common/log_throttle.hpp"
#include "transport/internal/gzip.hpp"
#include "transport/internal/http_handler_adapter.hpp"
#include "transport/internal/http_listener.hpp"
#include "transport/internal/tls_context.hpp"
#include "transport/internal/ws_message.hpp"

namespace opsup::transport {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using internal::HttpSession;
using internal::HttpSessionBase;
using internal::PlainStream;
using internal::RawRequest;
using internal::TlsStream;

constexpr const char *kProtobufContentType = "application/x-protobuf";
// Without traffic for this long a WebSocket is pinged, and dropped after twice as long.
constexpr std::chrono::seconds kWebSocketIdleTimeout{300};
constexpr std::size_t kReadChunkBytes = 64 * 1024;

// Agents trigger these at will: logged at info, rate-limited.
common::LogThrottle bad_message_log;

std::string held_back(uint64_t suppressed) {
  return suppressed == 0 ? std::string()
                         : " (" + std::to_string(suppressed) + " similar lines held back)";
}

std::string close_code_text(const websocket::close_reason &reason) {
  std::string text = "close code " + std::to_string(reason.code);
  if (!reason.reason.empty())
    text += " (" + std::string(reason.reason.c_str()) + ")";
  return text;
}

class OpampServerCore;

// Registry entry: a connection as the core sees it, whatever its stream type.
class CoreConnection : public ServerConnection {
 public:
  // Ends the connection without telling the handler (server stopping).
  virtual void shutdown_silently() = 0;
};

template <class Stream>
class WebSocketConnection final : public CoreConnection,
                                  public std::enable_shared_from_this<WebSocketConnection<Stream>> {
 public:
  WebSocketConnection(std::shared_ptr<OpampServerCore> core, uint64_t id, RequestInfo request,
                      Stream &&stream);

  void accept(RawRequest &&upgrade);

  uint64_t id() const override { return id_; }
  const RequestInfo &request() const override { return request_; }
  bool is_websocket() const override { return true; }
  void send(std::string server_to_agent) override;
  void close(uint16_t code, std::string reason) override;
  void shutdown_silently() override;

 private:
  void read_next();
  void on_read(const boost::system::error_code &ec);
  void write_next();
  void start_close();
  void finish(const std::string &reason);

  std::shared_ptr<OpampServerCore> core_;
  uint64_t id_;
  RequestInfo request_;
  websocket::stream<Stream> ws_;
  beast::flat_buffer read_buffer_;
  std::deque<std::string> queue_;
  bool accepted_ = false;
  bool writing_ = false;
  bool close_requested_ = false;
  bool close_started_ = false;
  bool finished_ = false;
  bool silent_ = false;
  bool too_large_ = false;
  websocket::close_reason close_reason_;
};

// The HTTP keep-alive stream of one agent; its responses go through the session.
class HttpOpampConnection final : public CoreConnection {
 public:
  HttpOpampConnection(uint64_t id, RequestInfo request, std::weak_ptr<HttpSessionBase> session)
      : id_(id), request_(std::move(request)), session_(std::move(session)) {}

  uint64_t id() const override { return id_; }
  const RequestInfo &request() const override { return request_; }
  bool is_websocket() const override { return false; }

  void send(std::string server_to_agent) override {
    if (!handling_) {
      spdlog::warn("OpAMP server: send() to HTTP agent {} outside its request is dropped",
                   request_.peer);
      return;
    }
    response_ = std::move(server_to_agent);
  }

  void close(uint16_t code, std::string reason) override {
    if (handling_) {
      close_code_ = code;
      close_reason_ = std::move(reason);
      return;
    }
    if (auto session = session_.lock())
      session->close("closed by the server");
  }

  void shutdown_silently() override {}

  // Runs the handler's on_message and builds the HTTP answer from what it did.
  template <class Handler>
  HttpServerResponse handle(Handler &&deliver, RequestInfo request, bool gzip_response) {
    request_ = std::move(request);
    handling_ = true;
    response_.reset();
    close_code_.reset();
    deliver();
    handling_ = false;
    if (close_code_ && *close_code_ != 1000) {
      auto refused = HttpServerResponse::text(
          400, close_reason_.empty() ? "bad request\n" : close_reason_ + "\n");
      refused.close_connection = true;
      return refused;
    }
    HttpServerResponse response;
    response.headers.push_back({"Content-Type", kProtobufContentType});
    response.body = response_.value_or(std::string());
    if (gzip_response && !response.body.empty()) {
      response.body = internal::gzip_compress(response.body);
      response.headers.push_back({"Content-Encoding", "gzip"});
    }
    response.close_connection = close_code_.has_value();
    return response;
  }

  void update_request(RequestInfo request) { request_ = std::move(request); }

 private:
  uint64_t id_;
  RequestInfo request_;
  std::weak_ptr<HttpSessionBase> session_;
  bool handling_ = false;
  std::optional<std::string> response_;
  std::optional<uint16_t> close_code_;
  std::string close_reason_;
};

class OpampServerCore final : public internal::HttpDispatcher,
                              public std::enable_shared_from_this<OpampServerCore> {
 public:
  OpampServerCore(asio::io_context &io, ServerOptions options, ServerHandler &handler)
      : io_(io), options_(std::move(options)), handler_(&handler) {}

  const ServerOptions &options() const { return options_; }
  bool stopped() const { return handler_ == nullptr; }
  ServerHandler *handler() const { return handler_; }
  std::size_t connection_count() const { return connections_.size(); }

  void on_request(const std::shared_ptr<HttpSession<PlainStream>> &session,
                  RawRequest &&request) override {
    route(session, std::move(request));
  }
  void on_request(const std::shared_ptr<HttpSession<TlsStream>> &session,
                  RawRequest &&request) override {
    route(session, std::move(request));
  }

  void on_session_closed(HttpSessionBase &session, const std::string &reason) override {
    auto found = http_connections_.find(session.id());
    if (found == http_connections_.end())
      return;
    auto connection = found->second;
    http_connections_.erase(found);
    unregister(connection->id());
    if (handler_ != nullptr)
      handler_->on_closed(connection, session.peer() + ": " + reason);
  }

  void register_connection(const std::shared_ptr<CoreConnection> &connection) {
    connections_.emplace(connection->id(), connection);
  }
  void unregister(uint64_t id) { connections_.erase(id); }

  void stop() {
    handler_ = nullptr;
    auto connections = std::move(connections_);
    connections_.clear();
    http_connections_.clear();
    for (auto &[id, weak] : connections) {
      if (auto connection = weak.lock())
        connection->shutdown_silently();
    }
  }

 private:
  template <class Stream>
  void route(const std::shared_ptr<HttpSession<Stream>> &session, RawRequest &&request);
  template <class Stream>
  void upgrade(const std::shared_ptr<HttpSession<Stream>> &session, RawRequest &&request,
               RequestInfo info);
  void handle_post(const std::shared_ptr<HttpSessionBase> &session, RawRequest &&request,
                   RequestInfo info);

  asio::io_context &io_;
  ServerOptions options_;
  ServerHandler *handler_;
  uint64_t next_connection_id_ = 1;
  std::unordered_map<uint64_t, std::weak_ptr<CoreConnection>> connections_;
  // HTTP agents by session id.
  std::unordered_map<uint64_t, std::shared_ptr<HttpOpampConnection>> http_connections_;
};

HttpServerResponse rejection_response(const Rejection &rejection) {
  auto response = HttpServerResponse::text(rejection.http_status, rejection.body);
  if (rejection.retry_after) {
    response.headers.push_back({"Retry-After", std::to_string(rejection.retry_after->count())});
  }
  return response;
}

template <class Stream>
void OpampServerCore::route(const std::shared_ptr<HttpSession<Stream>> &session,
                            RawRequest &&request) {
  if (handler_ == nullptr)
    return session->close("server stopped");
  const std::string_view target = request.target();
  const std::string_view path = target.substr(0, target.find('?'));
  if (path != options_.path) {
    if (options_.fallback_http_handler) {
      return internal::invoke_http_handler(options_.fallback_http_handler, session,
                                           std::move(request), io_.get_executor());
    }
    return session->respond(HttpServerResponse::text(404, "not found\n"));
  }
  RequestInfo info;
  info.peer = session->peer();
  info.target = std::string(target);
  info.headers = internal::to_header_list(request);
  info.websocket_upgrade = websocket::is_upgrade(request);
  info.peer_credentials = session->peer_credentials();
  info.peer_certificate = session->peer_certificate();

  if (!info.websocket_upgrade && request.method() != http::verb::post) {
    auto response = HttpServerResponse::text(405, "OpAMP expects a POST or a WebSocket upgrade\n");
    response.headers.push_back({"Allow", "POST"});
    return session->respond(std::move(response));
  }
  if (auto rejection = handler_->admit(info)) {
    spdlog::debug("OpAMP server: refused {} with {}", info.peer, rejection->http_status);
    return session->respond(rejection_response(*rejection));
  }
  if (handler_ == nullptr)
    return session->close("server stopped");
  if (info.websocket_upgrade)
    return upgrade(session, std::move(request), std::move(info));
  handle_post(session, std::move(request), std::move(info));
}

template <class Stream>
void OpampServerCore::upgrade(const std::shared_ptr<HttpSession<Stream>> &session,
                              RawRequest &&request, RequestInfo info) {
  auto connection = std::make_shared<WebSocketConnection<Stream>>(
      shared_from_this(), next_connection_id_++, std::move(info), session->release_stream());
  connection->accept(std::move(request));
}

void OpampServerCore::handle_post(const std::shared_ptr<HttpSessionBase> &session,
                                  RawRequest &&request, RequestInfo info) {
  std::shared_ptr<HttpOpampConnection> connection;
  auto found = http_connections_.find(session->id());
  if (found != http_connections_.end()) {
    connection = found->second;
    connection->update_request(info);
  } else {
    connection = std::make_shared<HttpOpampConnection>(next_connection_id_++, info, session);
    http_connections_.emplace(session->id(), connection);
    register_connection(connection);
    handler_->on_connected(connection);
    if (handler_ == nullptr)
      return;
  }
  const auto accept_encoding = request[http::field::accept_encoding];
  const bool gzip_response = accept_encoding.find("gzip") != beast::string_view::npos;
  const std::string body = std::move(request.body());
  auto response = connection->handle(
      [&] {
        if (handler_ != nullptr)
          handler_->on_message(connection, body);
      },
      std::move(info), gzip_response);
  session->respond(std::move(response));
}

template <class Stream>
WebSocketConnection<Stream>::WebSocketConnection(std::shared_ptr<OpampServerCore> core, uint64_t id,
                                                 RequestInfo request, Stream &&stream)
    : core_(std::move(core)), id_(id), request_(std::move(request)), ws_(std::move(stream)) {}

template <class Stream>
void WebSocketConnection<Stream>::accept(RawRequest &&upgrade) {
  const auto &options = core_->options();
  websocket::stream_base::timeout timeout{};
  timeout.handshake_timeout = options.handshake_timeout;
  timeout.idle_timeout = kWebSocketIdleTimeout;
  timeout.keep_alive_pings = true;
  ws_.set_option(timeout);
  // The size limit is enforced while reading (on_read): Beast's own check drops the
  // connection without waiting for the close reply, so the agent might never see the 1009.
  ws_.read_message_max(0);
  ws_.set_option(websocket::stream_base::decorator([](websocket::response_type &response) {
    response.set(http::field::server, "opsup-opamp");
  }));
  ws_.binary(true);
  ws_.async_accept(upgrade, [self = this->shared_from_this()](const boost::system::error_code &ec) {
    if (self->finished_)
      return;
    if (ec) {
      spdlog::debug("OpAMP server: WebSocket upgrade from {} failed: {}", self->request_.peer,
                    ec.message());
      self->finished_ = true;
      return;
    }
    self->accepted_ = true;
    if (self->core_->stopped())
      return self->shutdown_silently();
    self->core_->register_connection(self);
    self->core_->handler()->on_connected(self);
    if (!self->finished_)
      self->read_next();
  });
}

template <class Stream>
void WebSocketConnection<Stream>::read_next() {
  ws_.async_read_some(read_buffer_, kReadChunkBytes,
                      [self = this->shared_from_this()](const boost::system::error_code &ec,
                                                        std::size_t) { self->on_read(ec); });
}

template <class Stream>
void WebSocketConnection<Stream>::on_read(const boost::system::error_code &ec) {
  if (finished_)
    return;
  if (ec) {
    std::string reason;
    if (too_large_) {
      reason = "message larger than " + std::to_string(core_->options().max_message_bytes) +
               " bytes, closed with 1009";
    } else if (close_started_) {
      reason = "closed by the server, " + close_code_text(close_reason_);
    } else if (ec == websocket::error::closed) {
      reason = "closed by the agent, " + close_code_text(ws_.reason());
    } else {
      reason = ec.message();
      spdlog::info("OpAMP server: WebSocket {} failed: {}", request_.peer, reason);
    }
    return finish(reason);
  }
  if (read_buffer_.size() > core_->options().max_message_bytes + internal::kMaxWsHeaderBytes) {
    uint64_t suppressed = 0;
    if (bad_message_log.admit(suppressed)) {
      spdlog::info("OpAMP server: {} sent a message larger than {} bytes; closing with 1009{}",
                   request_.peer, core_->options().max_message_bytes, held_back(suppressed));
    }
    too_large_ = true;
    read_buffer_.clear();  // the close handshake discards the rest of the message
    queue_.clear();
    close(websocket::close_code::too_big, "message too big");
    return read_next();
  }
  if (!ws_.is_message_done())
    return read_next();
  if (!ws_.got_binary()) {
    uint64_t suppressed = 0;
    if (bad_message_log.admit(suppressed)) {
      spdlog::info("OpAMP server: {} sent a text frame; closing{}", request_.peer,
                   held_back(suppressed));
    }
    close(websocket::close_code::bad_payload, "OpAMP messages are binary");
  } else if (!close_requested_) {
    const std::string data = beast::buffers_to_string(read_buffer_.data());
    if (auto *handler = core_->handler()) {
      handler->on_message(this->shared_from_this(), internal::decode_ws_message(data));
    }
  }
  read_buffer_.consume(read_buffer_.size());
  if (!finished_)
    read_next();
}

template <class Stream>
void WebSocketConnection<Stream>::send(std::string server_to_agent) {
  if (finished_ || close_requested_)
    return;
  if (queue_.size() >= core_->options().max_queued_messages) {
    spdlog::warn("OpAMP server: send queue of {} is full ({} messages); closing it", request_.peer,
                 queue_.size());
    return close(websocket::close_code::try_again_later, "send queue full");
  }
  queue_.push_back(internal::encode_ws_message(server_to_agent));
  if (accepted_ && !writing_)
    write_next();
}

template <class Stream>
void WebSocketConnection<Stream>::write_next() {
  if (queue_.empty()) {
    writing_ = false;
    if (close_requested_ && !close_started_)
      start_close();
    return;
  }
  writing_ = true;
  ws_.async_write(
      asio::buffer(queue_.front()),
      [self = this->shared_from_this()](const boost::system::error_code &ec, std::size_t) {
        if (self->finished_)
          return;
        if (!self->queue_.empty())
          self->queue_.pop_front();
        if (ec) {
          self->writing_ = false;
          self->queue_.clear();
          return;  // the read side reports the failure
        }
        self->write_next();
      });
}

template <class Stream>
void WebSocketConnection<Stream>::close(uint16_t code, std::string reason) {
  if (finished_ || close_requested_)
    return;
  close_requested_ = true;
  close_reason_.code = code;
  close_reason_.reason = reason.substr(0, 120);  // a close frame carries at most 123 bytes
  if (accepted_ && !writing_)
    start_close();
}

template <class Stream>
void WebSocketConnection<Stream>::start_close() {
  close_started_ = true;
  ws_.async_close(close_reason_,
                  [self = this->shared_from_this()](const boost::system::error_code &ec) {
                    if (ec && !self->finished_) {
                      beast::get_lowest_layer(self->ws_).close();
                    }
                  });
}

template <class Stream>
void WebSocketConnection<Stream>::shutdown_silently() {
  silent_ = true;
  if (finished_)
    return;
  if (!accepted_) {
    finished_ = true;
    beast::get_lowest_layer(ws_).close();
    return;
  }
  queue_.clear();
  close(websocket::close_code::going_away, "server stopping");
}

template <class Stream>
void WebSocketConnection<Stream>::finish(const std::string &reason) {
  if (finished_)
    return;
  finished_ = true;
  queue_.clear();
  core_->unregister(id_);
  if (!silent_) {
    if (auto *handler = core_->handler()) {
      handler->on_closed(this->shared_from_this(), request_.peer + ": " + reason);
    }
  }
}

class ServerTransportImpl final : public ServerTransport {
 public:
  ServerTransportImpl(asio::io_context &io, ServerOptions options, ServerHandler &handler)
      : options_(options) {
    if (options_.path.empty() || options_.path.front() != '/') {
      throw std::invalid_argument("path: '" + options_.path + "' must start with '/'");
    }
    internal::ListenerConfig config;
    config.name = "OpAMP server";
    config.listen_address = options_.listen_address;
    config.port = options_.port;
    config.unix_socket_path = options_.unix_socket_path;
    config.unix_socket_mode = options_.unix_socket_mode;
    if (options_.tls)
      config.tls = internal::make_server_tls_context(*options_.tls);
    config.handshake_timeout = options_.handshake_timeout;
    config.limits.max_body_bytes = options_.max_message_bytes;
    config.limits.request_timeout = options_.handshake_timeout;
    config.limits.idle_timeout = options_.idle_http_timeout;
    config.limits.first_request_timeout = options_.handshake_timeout;
    config.limits.body_timeout = options_.body_timeout;
    config.limits.body_budget =
        std::make_shared<internal::BodyBudget>(options_.max_body_bytes_in_flight);
    config.descriptor_reserve = options_.descriptor_reserve;
    core_ = std::make_shared<OpampServerCore>(io, std::move(options), handler);
    listener_ = std::make_shared<internal::HttpListener>(
        io, std::move(config), static_cast<internal::HttpDispatcher &>(*core_));
  }
  ~ServerTransportImpl() override { stop(); }

  void start() override { listener_->start(); }
  void stop() override {
    listener_->stop();
    core_->stop();
  }
  uint16_t port() const override { return listener_->port(); }
  std::string websocket_url() const override { return url(listener_->tls() ? "wss" : "ws"); }
  std::string http_url() const override { return url(listener_->tls() ? "https" : "http"); }
  std::size_t connection_count() const override { return core_->connection_count(); }

 private:
  std::string url(const std::string &scheme) const {
    if (!options_.unix_socket_path.empty())
      return scheme + "://localhost" + options_.path;
    std::string host = options_.listen_address;
    if (host == "0.0.0.0")
      host = "127.0.0.1";
    if (host == "::")
      host = "::1";
    if (host.find(':') != std::string::npos)
      host = "[" + host + "]";
    return scheme + "://" + host + ":" + std::to_string(port()) + options_.path;
  }

  ServerOptions options_;
  std::shared_ptr<OpampServerCore> core_;
  std::shared_ptr<internal::HttpListener> listener_;
};

}  // namespace

std::unique_ptr<ServerTransport> ServerTransport::create(boost::asio::io_context &io,
                                                         ServerOptions options,
                                                         ServerHandler &handler) {
  return std::make_unique<ServerTransportImpl>(io, std::move(options), handler);
}

}  // namespace opsup::transport
