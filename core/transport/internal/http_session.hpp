// One accepted HTTP connection: reads requests (bounded, gzip bodies inflated), hands each
// to a dispatcher, writes its response (in memory or streamed from a file), keeps alive.
// A dispatcher may instead take the stream over for a WebSocket upgrade.
#pragma once

#include <array>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "transport/http_server.hpp"
#include "transport/internal/body_budget.hpp"
#include "transport/internal/streams.hpp"

namespace opsup::transport::internal {

namespace http = beast::http;
using RawRequest = http::request<http::string_body>;

struct SessionLimits {
  std::size_t max_body_bytes = kDefaultMaxMessageBytes;
  // Reading one request (header and body) must finish within this; so must writing a
  // response.
  std::chrono::milliseconds request_timeout{30000};
  // A connection's first request header must arrive within this (after the TLS handshake);
  // later ones within idle_timeout.
  std::chrono::milliseconds first_request_timeout{30000};
  std::chrono::milliseconds idle_timeout{120000};
  // A request body with no new bytes for this long is answered with 408.
  std::chrono::milliseconds body_timeout{10000};
  // Shared by the listener's sessions; null: bodies are bounded one by one only.
  std::shared_ptr<BodyBudget> body_budget;
};

class HttpSessionBase;
template <class Stream>
class HttpSession;

// Receives session events; implemented by the listener.
class HttpSessionOwner {
 public:
  virtual ~HttpSessionOwner() = default;
  virtual void dispatch(const std::shared_ptr<HttpSession<PlainStream>> &session,
                        RawRequest &&request) = 0;
  virtual void dispatch(const std::shared_ptr<HttpSession<TlsStream>> &session,
                        RawRequest &&request) = 0;
  // The connection ended (not called for a stream taken over by release_stream()).
  virtual void session_closed(HttpSessionBase &session, const std::string &reason) = 0;
  virtual void session_released(HttpSessionBase &session) = 0;
};

class HttpSessionBase {
 public:
  HttpSessionBase(uint64_t id, std::string peer, std::optional<PeerCredentials> credentials)
      : id_(id), peer_(std::move(peer)), peer_credentials_(std::move(credentials)) {}
  virtual ~HttpSessionBase() = default;

  uint64_t id() const { return id_; }
  const std::string &peer() const { return peer_; }
  const std::optional<PeerCredentials> &peer_credentials() const { return peer_credentials_; }
  // The client certificate verified in the TLS handshake; nullopt before it or without one.
  const std::optional<PeerCertificate> &peer_certificate() const { return peer_certificate_; }
  virtual bool tls() const = 0;
  virtual bool closed() const = 0;
  // Still in the TLS handshake or waiting for the first request's header: the connection
  // has not shown it is a client yet.
  virtual bool before_first_request() const = 0;
  // Answers the request being handled; then reads the next one or closes.
  virtual void respond(HttpServerResponse response) = 0;
  // Closes the connection now; the owner hears session_closed once.
  virtual void close(const std::string &reason) = 0;
  // Forgets the owner and closes: used when the server stops.
  virtual void detach_and_close() = 0;

 protected:
  void set_peer_certificate(std::optional<PeerCertificate> certificate) {
    peer_certificate_ = std::move(certificate);
  }

 private:
  uint64_t id_;
  std::string peer_;
  std::optional<PeerCredentials> peer_credentials_;
  std::optional<PeerCertificate> peer_certificate_;
};

template <class Stream>
class HttpSession : public HttpSessionBase,
                    public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  HttpSession(Stream &&stream, const SessionLimits &limits, HttpSessionOwner *owner, uint64_t id,
              std::string peer, std::optional<PeerCredentials> credentials);
  ~HttpSession() override;

  // TLS: handshake (bounded by `handshake_timeout`) first. Then reads requests.
  void start(std::chrono::milliseconds handshake_timeout);
  bool tls() const override { return std::is_same_v<Stream, TlsStream>; }
  bool closed() const override { return closed_; }
  bool before_first_request() const override { return before_first_request_; }
  void respond(HttpServerResponse response) override;
  void close(const std::string &reason) override;
  void detach_and_close() override;

  // Hands the stream to a WebSocket; the session is finished afterwards.
  Stream release_stream();

 private:
  struct FileBody;

  void read_request();
  void on_header(const boost::system::error_code &ec);
  void read_body_some();
  void on_body_some(const boost::system::error_code &ec);
  void on_body(const boost::system::error_code &ec);
  // Reserves what the body being read needs from the shared budget; false when it does
  // not fit.
  bool reserve_body_bytes(std::size_t bytes);
  void release_body_bytes();
  void handle_request();
  void reject(int status, const std::string &text);
  void write_memory(HttpServerResponse &&response);
  void write_file(HttpServerResponse &&response);
  void write_next_file_chunk(const std::shared_ptr<FileBody> &file);
  void after_write(const boost::system::error_code &ec, bool close_after);
  void graceful_close(const std::string &reason);
  void drain_then_finish(const std::string &reason);
  void finish(const std::string &reason);

  Stream stream_;
  SessionLimits limits_;
  HttpSessionOwner *owner_;
  beast::flat_buffer buffer_;
  std::array<char, 4096> drain_buffer_{};
  std::optional<http::request_parser<http::string_body>> parser_;
  bool awaiting_response_ = false;
  bool before_first_request_ = true;
  std::size_t reserved_body_bytes_ = 0;
  std::chrono::steady_clock::time_point request_deadline_;
  // Bounds each body read without the stream's own expiry, which would close the socket
  // before the 408 could be written.
  asio::steady_timer body_timer_;
  bool body_timed_out_ = false;
  uint64_t body_reads_ = 0;  // tells a stale body timer wake-up from a current one
  bool body_deadline_is_overall_ = false;
  bool closed_ = false;
  bool released_ = false;
  // What the response needs from the request being handled.
  unsigned request_version_ = 11;
  bool request_keep_alive_ = true;
  bool request_is_head_ = false;
  bool request_is_get_ = false;
  std::string request_range_;
};

}  // namespace opsup::transport::internal
