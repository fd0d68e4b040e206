// The WebSocket OpAMP client: one WsSession per connect(), replaced on the next connect().
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "transport/internal/client_common.hpp"
#include "transport/internal/ws_message.hpp"

namespace opsup::transport::internal {

namespace {

namespace websocket = beast::websocket;

constexpr const char *kUserAgent = "opampsupervisor";
constexpr std::size_t kReadChunkBytes = 64 * 1024;
// After refusing an oversized message, at most this much more is read before closing.
constexpr std::size_t kMaxDrainedBytes = 1024 * 1024;
// A read buffer larger than this is released after its message.
constexpr std::size_t kKeptReadBufferBytes = 1024 * 1024;

// Implemented by the transport; a session reports through it while attached.
class WsSessionOwner {
 public:
  virtual ~WsSessionOwner() = default;
  virtual void session_open() = 0;
  virtual void session_message(std::string_view payload) = 0;
  virtual void session_ended(const DisconnectInfo &info) = 0;
  virtual std::optional<std::string> session_next_message() = 0;
};

class WsSessionBase {
 public:
  virtual ~WsSessionBase() = default;
  virtual void start() = 0;
  // Sends what the owner has, if the connection is open and idle.
  virtual void pump() = 0;
  // Sends `last`, runs the close handshake, then calls `closed` (instead of session_ended).
  virtual void close_gracefully(std::string last, std::function<void()> closed) = 0;
  // Stops everything at once; the owner hears nothing more.
  virtual void detach_and_abort() = 0;
  // The owner refused what the server sent: closes with 1007 (bounded by the handshake
  // timeout), reading and dropping whatever still arrives; the owner hears nothing more.
  virtual void detach_and_refuse() = 0;
};

template <class Stream>
websocket::stream<Stream> make_websocket(asio::io_context &io, const ClientSetup &setup) {
  if constexpr (std::is_same_v<Stream, TlsStream>) {
    return websocket::stream<Stream>(io.get_executor(), *setup.tls);
  } else {
    return websocket::stream<Stream>(io.get_executor());
  }
}

template <class Stream>
class WsSession final : public WsSessionBase,
                        public std::enable_shared_from_this<WsSession<Stream>> {
 public:
  WsSession(asio::io_context &io, std::shared_ptr<const ClientSetup> setup, WsSessionOwner *owner)
      : setup_(std::move(setup)),
        owner_(owner),
        ws_(make_websocket<Stream>(io, *setup_)),
        deadline_(io) {}

  void start() override {
    const auto timeout = setup_->options.connect_timeout;
    deadline_.expires_after(timeout);
    deadline_.async_wait([weak = this->weak_from_this(), timeout](boost::system::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->state_ != State::connecting)
        return;
      self->connector_->cancel("timed out after " + std::to_string(timeout.count()) + " ms");
    });
    connector_ = std::make_shared<ClientConnector<Stream>>(ws_.next_layer(), setup_->target());
    connector_->start([self = this->shared_from_this()](std::string error) {
      self->on_transport_ready(std::move(error));
    });
  }

  void pump() override {
    if (state_ != State::open || writing_ || owner_ == nullptr)
      return;
    auto message = owner_->session_next_message();
    if (!message || state_ != State::open)
      return;
    write(encode_ws_message(*message));
  }

  void close_gracefully(std::string last, std::function<void()> closed) override {
    if (state_ != State::open) {
      detach_and_abort();
      closed();
      return;
    }
    state_ = State::closing;
    owner_ = nullptr;
    closed_ = std::move(closed);
    last_message_ = encode_ws_message(last);
    if (!writing_)
      send_last_and_close();
  }

  void detach_and_refuse() override {
    owner_ = nullptr;
    closed_ = nullptr;
    if (state_ != State::open)
      return detach_and_abort();
    refused_ = true;
    state_ = State::closing;
    // The close handshake has its own timeout; this bounds a peer that never reads.
    deadline_.expires_after(setup_->options.connect_timeout);
    deadline_.async_wait([weak = this->weak_from_this()](boost::system::error_code ec) {
      if (auto self = weak.lock(); self && !ec)
        self->detach_and_abort();
    });
    start_close(websocket::close_code::bad_payload);
  }

  void detach_and_abort() override {
    owner_ = nullptr;
    closed_ = nullptr;
    if (state_ == State::ended)
      return;
    state_ = State::ended;
    deadline_.cancel();
    if (connector_)
      connector_->cancel("aborted");
    beast::get_lowest_layer(ws_).close();
  }

 private:
  enum class State { connecting, handshaking, open, closing, ended };

  void on_transport_ready(std::string error) {
    if (state_ == State::ended)
      return;
    if (!error.empty())
      return end(disconnect(error));
    state_ = State::handshaking;
    websocket::stream_base::timeout timeout{};
    timeout.handshake_timeout = setup_->options.connect_timeout;
    const auto ping_interval = setup_->options.ping_interval;
    timeout.idle_timeout =
        ping_interval.count() > 0 ? 2 * ping_interval : websocket::stream_base::none();
    timeout.keep_alive_pings = ping_interval.count() > 0;
    beast::get_lowest_layer(ws_).expires_never();
    ws_.set_option(timeout);
    // The size limit is enforced while reading: Beast's own check drops the connection
    // without waiting for the close reply, so the server might never see the 1009.
    ws_.read_message_max(0);
    ws_.set_option(
        websocket::stream_base::decorator([setup = setup_](websocket::request_type &request) {
          request.set(beast::http::field::user_agent, kUserAgent);
          setup->apply_headers(request);
        }));
    ws_.binary(true);
    ws_.async_handshake(upgrade_response_, setup_->url.host_header, setup_->url.target,
                        [self = this->shared_from_this()](const boost::system::error_code &ec) {
                          self->on_handshake(ec);
                        });
  }

  void on_handshake(const boost::system::error_code &ec) {
    if (state_ == State::ended)
      return;
    deadline_.cancel();
    if (ec) {
      DisconnectInfo info;
      if (ec == websocket::error::upgrade_declined) {
        info.http_status = static_cast<int>(upgrade_response_.result_int());
        info.retry_after = retry_after_for(info.http_status, upgrade_response_);
        info.message_too_large = info.http_status == 413;
        info.reason = "WebSocket upgrade refused by " + setup_->peer + ": HTTP " +
                      std::to_string(info.http_status) + " " +
                      std::string(upgrade_response_.reason()) +
                      location_for_logs(info.http_status, upgrade_response_);
      } else if (ec == beast::error::timeout) {
        info.reason = "WebSocket upgrade with " + setup_->peer + " timed out";
      } else {
        info.reason = "WebSocket upgrade with " + setup_->peer + " failed: " + ec.message();
      }
      return end(info);
    }
    state_ = State::open;
    if (owner_ != nullptr)
      owner_->session_open();
    if (state_ != State::open)
      return;
    read_next();
    pump();
  }

  void read_next() {
    ws_.async_read_some(read_buffer_, kReadChunkBytes,
                        [self = this->shared_from_this()](const boost::system::error_code &ec,
                                                          std::size_t) { self->on_read(ec); });
  }

  void on_read(const boost::system::error_code &ec) {
    if (state_ == State::ended)
      return;
    if (ec)
      return end(describe_read_error(ec));
    if (refused_) {
      // Closing: what still arrives before the peer's close frame is dropped.
      read_buffer_.clear();
      return read_next();
    }
    // What the message needs at least: what arrived plus the rest of the current frame,
    // as its header announced. Refused at once, before the payload is downloaded.
    const std::size_t limit = setup_->options.max_message_bytes + kMaxWsHeaderBytes;
    const std::size_t frame_rest = ws_.is_message_done() ? 0 : ws_.read_size_hint(1);
    const std::size_t announced = read_buffer_.size() + frame_rest;
    if (frame_rest > limit || announced > limit) {
      announced_bytes_ = announced;
      return refuse_too_large();
    }
    if (!ws_.is_message_done()) {
      // One allocation of the announced size instead of doubling (which copies).
      if (announced > read_buffer_.capacity()) {
        try {
          read_buffer_.reserve(announced);
        } catch (const std::bad_alloc &) {
          announced_bytes_ = announced;
          return refuse_too_large();  // the peer announced more than this machine can hold
        }
      }
      return read_next();
    }
    if (!ws_.got_binary()) {
      protocol_error_ = setup_->peer + " sent a text frame; OpAMP messages are binary";
      start_close(websocket::close_code::bad_payload);
      read_buffer_.consume(read_buffer_.size());
      return read_next();
    }
    if (state_ == State::open && owner_ != nullptr) {
      const auto data = read_buffer_.data();
      owner_->session_message(
          decode_ws_message(std::string_view(static_cast<const char *>(data.data()), data.size())));
    }
    read_buffer_.consume(read_buffer_.size());
    if (read_buffer_.capacity() > kKeptReadBufferBytes)
      read_buffer_.shrink_to_fit();  // do not hold on to one large message's memory
    if (state_ != State::ended)
      read_next();
  }

  // The peer cannot answer a close frame before its oversized frame ends, so a close
  // handshake would download the whole payload. Instead: the owner hears at once, the
  // close frame (1009) is written directly, our side is shut down, and at most
  // kMaxDrainedBytes more are read (so a peer that answers gets no reset) before the
  // socket is closed.
  void refuse_too_large() {
    too_large_ = true;
    state_ = State::closing;
    read_buffer_.clear();
    read_buffer_.shrink_to_fit();
    // Beast must not write pings behind our back while we use the socket directly.
    websocket::stream_base::timeout no_timeouts{};
    no_timeouts.handshake_timeout = websocket::stream_base::none();
    no_timeouts.idle_timeout = websocket::stream_base::none();
    no_timeouts.keep_alive_pings = false;
    ws_.set_option(no_timeouts);
    deadline_.expires_after(setup_->options.connect_timeout);
    deadline_.async_wait([weak = this->weak_from_this()](boost::system::error_code ec) {
      if (auto self = weak.lock(); self && !ec)
        self->end(self->describe_read_error(ec));
    });
    if (!writing_)
      send_close_frame();  // else on_write sends it once the socket is free
    if (auto *owner = std::exchange(owner_, nullptr))
      owner->session_ended(describe_read_error({}));
  }

  void send_close_frame() {
    // A masked client close frame: FIN + opcode 8, mask bit + length 2, key, code.
    static constexpr unsigned char kKey[4] = {0x5a, 0x3c, 0x96, 0xe1};
    constexpr unsigned code = websocket::close_code::too_big;
    close_frame_ = {'\x88', '\x82'};
    for (unsigned char byte : kKey)
      close_frame_.push_back(static_cast<char>(byte));
    close_frame_.push_back(static_cast<char>(((code >> 8) & 0xff) ^ kKey[0]));
    close_frame_.push_back(static_cast<char>((code & 0xff) ^ kKey[1]));
    close_sent_ = true;
    asio::async_write(
        ws_.next_layer(), asio::buffer(close_frame_),
        [self = this->shared_from_this()](const boost::system::error_code &ec, std::size_t) {
          if (self->state_ == State::ended)
            return;
          if (ec)
            return self->end(self->describe_read_error(ec));
          boost::system::error_code ignored;
          beast::get_lowest_layer(self->ws_).socket().shutdown(asio::socket_base::shutdown_send,
                                                               ignored);
          self->drain();
        });
  }

  void drain() {
    drain_buffer_.resize(kReadChunkBytes);
    ws_.next_layer().async_read_some(
        asio::buffer(drain_buffer_),
        [self = this->shared_from_this()](const boost::system::error_code &ec, std::size_t n) {
          if (self->state_ == State::ended)
            return;
          self->drained_bytes_ += n;
          if (ec || self->drained_bytes_ > kMaxDrainedBytes)
            return self->end(self->describe_read_error(ec));
          self->drain();
        });
  }

  DisconnectInfo describe_read_error(const boost::system::error_code &ec) {
    DisconnectInfo info;
    if (too_large_) {
      info.message_too_large = true;
      info.reason = "message from " + setup_->peer + " larger than " +
                    std::to_string(setup_->options.max_message_bytes) + " bytes";
      if (announced_bytes_ > 0)
        info.reason += " (at least " + std::to_string(announced_bytes_) + " announced)";
      info.reason += "; closed with 1009";
    } else if (!protocol_error_.empty()) {
      info.reason = protocol_error_;
    } else if (refused_) {
      info.reason = "connection to " + setup_->peer + " closed after a protocol error";
    } else if (ec == websocket::error::closed) {
      const auto &reason = ws_.reason();
      info.message_too_large = reason.code == websocket::close_code::too_big;
      info.reason =
          "connection closed by " + setup_->peer + " with code " + std::to_string(reason.code);
      if (!reason.reason.empty())
        info.reason += " (" + std::string(reason.reason.c_str()) + ")";
    } else if (ec == beast::error::timeout) {
      info.reason = "no traffic from " + setup_->peer + " (ping timeout)";
    } else {
      info.reason = "connection to " + setup_->peer + " lost: " + ec.message();
    }
    return info;
  }

  void write(std::string frame) {
    writing_ = true;
    outgoing_ = std::move(frame);
    ws_.async_write(asio::buffer(outgoing_),
                    [self = this->shared_from_this()](const boost::system::error_code &ec,
                                                      std::size_t) { self->on_write(ec); });
  }

  void on_write(const boost::system::error_code &ec) {
    writing_ = false;
    if (state_ == State::ended)
      return;
    if (too_large_ && !close_sent_)
      return send_close_frame();
    if (ec) {
      // The read side reports the failure once the socket is gone.
      beast::get_lowest_layer(ws_).close();
      return;
    }
    if (state_ == State::closing)
      return send_last_and_close();
    pump();
  }

  void send_last_and_close() {
    if (!last_message_)
      return;
    writing_ = true;
    outgoing_ = std::move(*last_message_);
    last_message_.reset();
    ws_.async_write(asio::buffer(outgoing_), [self = this->shared_from_this()](
                                                 const boost::system::error_code &ec, std::size_t) {
      self->writing_ = false;
      if (self->state_ == State::ended)
        return;
      if (ec)
        return self->end(disconnect("sending the last message failed: " + ec.message()));
      self->start_close(websocket::close_code::normal);
    });
  }

  void start_close(websocket::close_code code) {
    if (close_sent_)
      return;
    close_sent_ = true;
    ws_.async_close(code, [self = this->shared_from_this()](const boost::system::error_code &ec) {
      // A clean close completes the pending read with error::closed, which ends the session.
      if (ec && self->state_ != State::ended)
        beast::get_lowest_layer(self->ws_).close();
    });
  }

  void end(const DisconnectInfo &info) {
    if (state_ == State::ended)
      return;
    state_ = State::ended;
    deadline_.cancel();
    beast::get_lowest_layer(ws_).close();
    if (auto closed = std::move(closed_)) {
      closed_ = nullptr;
      closed();
      return;
    }
    if (auto *owner = std::exchange(owner_, nullptr))
      owner->session_ended(info);
  }

  std::shared_ptr<const ClientSetup> setup_;
  WsSessionOwner *owner_;
  websocket::stream<Stream> ws_;
  asio::steady_timer deadline_;
  std::shared_ptr<ClientConnector<Stream>> connector_;
  websocket::response_type upgrade_response_;
  beast::flat_buffer read_buffer_;
  State state_ = State::connecting;
  bool writing_ = false;
  bool close_sent_ = false;
  bool too_large_ = false;
  bool refused_ = false;  // refuse() closed it with 1007
  std::size_t announced_bytes_ = 0;
  std::string close_frame_;
  std::string drain_buffer_;
  std::size_t drained_bytes_ = 0;
  std::string outgoing_;
  std::optional<std::string> last_message_;
  std::function<void()> closed_;
  std::string protocol_error_;
};

class WsClientTransport final : public ClientTransport, private WsSessionOwner {
 public:
  WsClientTransport(asio::io_context &io, ClientSetup setup, ClientTransportHandler &handler)
      : io_(io),
        setup_(std::make_shared<const ClientSetup>(std::move(setup))),
        handler_(&handler),
        shutdown_timer_(io) {}
  ~WsClientTransport() override { abort(); }

  void connect() override {
    if (stopped_)
      return;
    if (session_)
      session_->detach_and_abort();
    connected_ = false;
    if (setup_->tls) {
      session_ =
          std::make_shared<WsSession<TlsStream>>(io_, setup_, static_cast<WsSessionOwner *>(this));
    } else {
      session_ = std::make_shared<WsSession<PlainStream>>(io_, setup_,
                                                          static_cast<WsSessionOwner *>(this));
    }
    session_->start();
  }

  void notify_pending() override {
    if (session_ && connected_)
      session_->pump();
  }

  void shutdown(std::string last_message, std::chrono::milliseconds timeout,
                std::function<void()> done) override {
    handler_ = nullptr;
    stopped_ = true;
    auto finish = std::make_shared<std::function<void()>>(std::move(done));
    auto call_once = [finish] {
      if (auto callback = std::exchange(*finish, nullptr))
        callback();
    };
    if (!session_ || !connected_) {
      if (session_)
        session_->detach_and_abort();
      session_.reset();
      asio::post(io_, call_once);
      return;
    }
    auto session = session_;
    shutdown_timer_.expires_after(timeout);
    shutdown_timer_.async_wait(
        [session, call_once, peer = setup_->peer](boost::system::error_code ec) {
          if (ec)
            return;
          spdlog::warn("OpAMP client: close handshake with {} did not finish in time", peer);
          session->detach_and_abort();
          call_once();
        });
    session_->close_gracefully(std::move(last_message), [this, call_once] {
      shutdown_timer_.cancel();
      connected_ = false;
      call_once();
    });
  }

  void abort() override {
    handler_ = nullptr;
    stopped_ = true;
    connected_ = false;
    shutdown_timer_.cancel();
    if (session_)
      session_->detach_and_abort();
    session_.reset();
  }

  void refuse() override {
    handler_ = nullptr;
    stopped_ = true;
    connected_ = false;
    shutdown_timer_.cancel();
    // The session lives on through its own pending operations until the close is done.
    if (auto session = std::exchange(session_, nullptr))
      session->detach_and_refuse();
  }

  bool is_http() const override { return false; }
  bool is_connected() const override { return connected_; }

 private:
  void session_open() override {
    connected_ = true;
    if (handler_ != nullptr)
      handler_->on_connected();
  }
  void session_message(std::string_view payload) override {
    if (handler_ != nullptr)
      handler_->on_message(payload);
  }
  void session_ended(const DisconnectInfo &info) override {
    connected_ = false;
    // A session still closing (after refusing an oversized message) finishes on its own;
    // aborting it along with this transport would reset the connection.
    auto ended = std::exchange(session_, nullptr);
    spdlog::debug("OpAMP client: {}", info.reason);
    if (handler_ != nullptr)
      handler_->on_disconnected(info);
  }
  std::optional<std::string> session_next_message() override {
    if (handler_ == nullptr)
      return std::nullopt;
    return handler_->next_message();
  }

  asio::io_context &io_;
  std::shared_ptr<const ClientSetup> setup_;
  ClientTransportHandler *handler_;
  asio::steady_timer shutdown_timer_;
  std::shared_ptr<WsSessionBase> session_;
  bool connected_ = false;
  bool stopped_ = false;
};

}  // namespace

std::unique_ptr<ClientTransport> make_websocket_client(asio::io_context &io, ClientSetup setup,
                                                       ClientTransportHandler &handler) {
  return std::make_unique<WsClientTransport>(io, std::move(setup), handler);
}

}  // namespace opsup::transport::internal
