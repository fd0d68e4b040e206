#include "transport/internal/http_session.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <charconv>
#include <vector>

#include "common/log_throttle.hpp"
#include "transport/internal/gzip.hpp"
#include "transport/internal/peer_certificate.hpp"

namespace opsup::transport::internal {

namespace {

constexpr std::size_t kHeaderLimitBytes = 64 * 1024;
constexpr std::size_t kFileChunkBytes = 64 * 1024;
constexpr std::chrono::seconds kTlsShutdownTimeout{5};
constexpr std::chrono::seconds kLingerTimeout{5};

// Peers trigger these at will: logged at info, rate-limited.
common::LogThrottle refusal_log;
common::LogThrottle timeout_log;

std::string held_back(uint64_t suppressed) {
  return suppressed == 0 ? std::string()
                         : " (" + std::to_string(suppressed) + " similar lines held back)";
}

bool is_parse_error(const boost::system::error_code &ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

struct ByteRange {
  uint64_t first = 0;
  uint64_t length = 0;
};

uint64_t parse_number(std::string_view text, bool &ok) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  ok = ok && !text.empty() && ec == std::errc() && end == text.data() + text.size();
  return value;
}

// One "bytes=a-b", "bytes=a-" or "bytes=-n" range. nullopt means "serve the whole file"
// (no or unsupported Range); `unsatisfiable` asks for 416.
std::optional<ByteRange> parse_range(std::string_view header, uint64_t size, bool &unsatisfiable) {
  unsatisfiable = false;
  constexpr std::string_view kPrefix = "bytes=";
  if (header.substr(0, kPrefix.size()) != kPrefix)
    return std::nullopt;
  header.remove_prefix(kPrefix.size());
  if (header.find(',') != std::string_view::npos)
    return std::nullopt;  // multipart: no
  const auto dash = header.find('-');
  if (dash == std::string_view::npos)
    return std::nullopt;
  bool ok = true;
  ByteRange range;
  if (dash == 0) {
    const uint64_t suffix = parse_number(header.substr(1), ok);
    if (!ok)
      return std::nullopt;
    if (suffix == 0 || size == 0) {
      unsatisfiable = true;
      return std::nullopt;
    }
    range.length = std::min(suffix, size);
    range.first = size - range.length;
    return range;
  }
  range.first = parse_number(header.substr(0, dash), ok);
  uint64_t last = size == 0 ? 0 : size - 1;
  if (dash + 1 < header.size())
    last = std::min(last, parse_number(header.substr(dash + 1), ok));
  if (!ok)
    return std::nullopt;
  if (range.first >= size || last < range.first) {
    unsatisfiable = true;
    return std::nullopt;
  }
  range.length = last - range.first + 1;
  return range;
}

}  // namespace

template <class Stream>
struct HttpSession<Stream>::FileBody {
  http::response<http::buffer_body> response;
  http::response_serializer<http::buffer_body> serializer{response};
  int fd = -1;
  uint64_t offset = 0;
  uint64_t remaining = 0;
  bool close_after = false;
  std::vector<char> chunk;

  ~FileBody() {
    if (fd >= 0)
      ::close(fd);
  }
};

template <class Stream>
HttpSession<Stream>::HttpSession(Stream &&stream, const SessionLimits &limits,
                                 HttpSessionOwner *owner, uint64_t id, std::string peer,
                                 std::optional<PeerCredentials> credentials)
    : HttpSessionBase(id, std::move(peer), std::move(credentials)),
      stream_(std::move(stream)),
      limits_(limits),
      owner_(owner),
      body_timer_(stream_.get_executor()) {}

template <class Stream>
HttpSession<Stream>::~HttpSession() = default;

template <class Stream>
void HttpSession<Stream>::start(std::chrono::milliseconds handshake_timeout) {
  if constexpr (std::is_same_v<Stream, TlsStream>) {
    beast::get_lowest_layer(stream_).expires_after(handshake_timeout);
    stream_.async_handshake(
        asio::ssl::stream_base::server,
        [self = this->shared_from_this()](const boost::system::error_code &ec) {
          if (self->closed_)
            return;
          if (ec) {
            uint64_t suppressed = 0;
            if (timeout_log.admit(suppressed)) {
              spdlog::info("TLS handshake with {} failed: {}{}", self->peer(), ec.message(),
                           held_back(suppressed));
            }
            return self->finish("TLS handshake failed: " + ec.message());
          }
          self->set_peer_certificate(read_peer_certificate(self->stream_.native_handle()));
          self->read_request();
        });
  } else {
    (void)handshake_timeout;
    read_request();
  }
}

template <class Stream>
void HttpSession<Stream>::read_request() {
  parser_.emplace();
  parser_->header_limit(kHeaderLimitBytes);
  parser_->body_limit(limits_.max_body_bytes);
  beast::get_lowest_layer(stream_).expires_after(
      before_first_request_ ? limits_.first_request_timeout : limits_.idle_timeout);
  http::async_read_header(stream_, buffer_, *parser_,
                          [self = this->shared_from_this()](const boost::system::error_code &ec,
                                                            std::size_t) { self->on_header(ec); });
}

template <class Stream>
void HttpSession<Stream>::on_header(const boost::system::error_code &ec) {
  if (closed_)
    return;
  if (ec == http::error::header_limit)
    return reject(431, "request header fields too large");
  if (ec == http::error::body_limit) {  // a Content-Length over the limit
    return reject(413, "request body exceeds " + std::to_string(limits_.max_body_bytes) + " bytes");
  }
  if (ec && is_parse_error(ec))
    return reject(400, "bad request: " + ec.message());
  if (ec == beast::error::timeout && before_first_request_) {
    const std::string reason =
        "no request within " + std::to_string(limits_.first_request_timeout.count()) + " ms";
    uint64_t suppressed = 0;
    if (timeout_log.admit(suppressed))
      spdlog::info("HTTP connection from {} closed: {}{}", peer(), reason, held_back(suppressed));
    return finish(reason);
  }
  if (ec == beast::error::timeout)
    return finish("idle timeout");
  if (ec)
    return finish(ec == http::error::end_of_stream ? "closed by peer" : ec.message());

  before_first_request_ = false;
  request_deadline_ = std::chrono::steady_clock::now() + limits_.request_timeout;
  if (const auto length = parser_->content_length();
      length && *length > 0 && !reserve_body_bytes(static_cast<std::size_t>(*length))) {
    return reject(503, "request bodies in flight would exceed " +
                           std::to_string(limits_.body_budget->limit_bytes()) + " bytes");
  }
  const auto &header = parser_->get();
  if (beast::iequals(header[http::field::expect], "100-continue")) {
    auto interim = std::make_shared<http::response<http::empty_body>>(http::status::continue_,
                                                                      header.version());
    beast::get_lowest_layer(stream_).expires_after(limits_.body_timeout);
    http::async_write(stream_, *interim,
                      [self = this->shared_from_this(), interim](
                          const boost::system::error_code &write_ec, std::size_t) {
                        if (self->closed_)
                          return;
                        if (write_ec)
                          return self->finish(write_ec.message());
                        self->read_body_some();
                      });
    return;
  }
  read_body_some();
}

// Reads the body piece by piece: each piece must come within body_timeout, the whole
// request within request_timeout; bodies without Content-Length reserve as they grow.
template <class Stream>
void HttpSession<Stream>::read_body_some() {
  if (parser_->is_done())
    return on_body({});
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      request_deadline_ - std::chrono::steady_clock::now());
  body_deadline_is_overall_ = left <= limits_.body_timeout;
  body_timer_.expires_after(
      std::max(std::min(left, limits_.body_timeout), std::chrono::milliseconds(1)));
  body_timer_.async_wait(
      [self = this->shared_from_this(), read = ++body_reads_](const boost::system::error_code &ec) {
        if (ec || self->closed_ || read != self->body_reads_)
          return;  // cancelled, or a late wake-up for a read that already finished
        self->body_timed_out_ = true;
        beast::get_lowest_layer(self->stream_).cancel();
      });
  beast::get_lowest_layer(stream_).expires_never();
  http::async_read_some(stream_, buffer_, *parser_,
                        [self = this->shared_from_this()](const boost::system::error_code &ec,
                                                          std::size_t) { self->on_body_some(ec); });
}

template <class Stream>
void HttpSession<Stream>::on_body_some(const boost::system::error_code &ec) {
  body_timer_.cancel();
  const bool timed_out = std::exchange(body_timed_out_, false);
  ++body_reads_;
  if (closed_)
    return;
  if (ec && timed_out) {
    return reject(408, body_deadline_is_overall_
                           ? "request not complete within " +
                                 std::to_string(limits_.request_timeout.count()) + " ms"
                           : "no request body bytes for " +
                                 std::to_string(limits_.body_timeout.count()) + " ms");
  }
  if (ec)
    return on_body(ec);
  if (!parser_->content_length()) {
    const std::size_t size = parser_->get().body().size();
    if (size > reserved_body_bytes_ && !reserve_body_bytes(size - reserved_body_bytes_)) {
      return reject(503, "request bodies in flight would exceed " +
                             std::to_string(limits_.body_budget->limit_bytes()) + " bytes");
    }
  }
  read_body_some();
}

template <class Stream>
bool HttpSession<Stream>::reserve_body_bytes(std::size_t bytes) {
  if (!limits_.body_budget)
    return true;
  if (!limits_.body_budget->try_reserve(bytes))
    return false;
  reserved_body_bytes_ += bytes;
  return true;
}

template <class Stream>
void HttpSession<Stream>::release_body_bytes() {
  if (limits_.body_budget && reserved_body_bytes_ > 0)
    limits_.body_budget->release(reserved_body_bytes_);
  reserved_body_bytes_ = 0;
}

template <class Stream>
void HttpSession<Stream>::on_body(const boost::system::error_code &ec) {
  if (closed_)
    return;
  if (ec == http::error::body_limit) {
    return reject(413, "request body exceeds " + std::to_string(limits_.max_body_bytes) + " bytes");
  }
  if (ec && is_parse_error(ec))
    return reject(400, "bad request: " + ec.message());
  if (ec == beast::error::timeout)
    return finish("timed out reading the request");
  if (ec)
    return finish(ec.message());
  handle_request();
}

template <class Stream>
void HttpSession<Stream>::handle_request() {
  RawRequest request = parser_->release();
  parser_.reset();
  request_version_ = request.version();
  request_keep_alive_ = request.keep_alive();
  request_is_head_ = request.method() == http::verb::head;
  request_is_get_ = request.method() == http::verb::get;
  request_range_ = std::string(request[http::field::range]);

  const auto encoding = request[http::field::content_encoding];
  if (beast::iequals(encoding, "gzip") || beast::iequals(encoding, "x-gzip")) {
    auto inflated = gzip_inflate(request.body(), limits_.max_body_bytes);
    if (inflated.status == InflateStatus::too_large) {
      return reject(413, "request body exceeds " + std::to_string(limits_.max_body_bytes) +
                             " bytes after decompression");
    }
    if (inflated.status == InflateStatus::corrupt) {
      return reject(400, "invalid gzip request body: " + inflated.error);
    }
    request.body() = std::move(inflated.data);
    request.erase(http::field::content_encoding);
    request.content_length(request.body().size());
  } else if (!encoding.empty() && !beast::iequals(encoding, "identity")) {
    return reject(415, "unsupported Content-Encoding '" + std::string(encoding) + "'");
  }

  awaiting_response_ = true;
  beast::get_lowest_layer(stream_).expires_never();
  auto self = this->shared_from_this();
  if (owner_ != nullptr)
    owner_->dispatch(self, std::move(request));
  release_body_bytes();  // the handler has consumed or copied the body
}

template <class Stream>
void HttpSession<Stream>::reject(int status, const std::string &text) {
  uint64_t suppressed = 0;
  if (refusal_log.admit(suppressed)) {
    spdlog::info("HTTP request from {} refused with {}: {}{}", peer(), status, text,
                 held_back(suppressed));
  }
  release_body_bytes();
  parser_.reset();
  awaiting_response_ = true;
  request_keep_alive_ = false;
  auto response = HttpServerResponse::text(status, text + "\n");
  if (status == 503)
    response.headers.push_back({"Retry-After", "1"});
  response.close_connection = true;
  respond(std::move(response));
}

template <class Stream>
void HttpSession<Stream>::respond(HttpServerResponse response) {
  if (closed_ || !awaiting_response_)
    return;
  awaiting_response_ = false;
  if (!response.file_path.empty()) {
    write_file(std::move(response));
  } else {
    write_memory(std::move(response));
  }
}

template <class Stream>
void HttpSession<Stream>::write_memory(HttpServerResponse &&response) {
  auto message = std::make_shared<http::response<http::string_body>>(
      static_cast<http::status>(response.status), request_version_);
  for (const auto &header : response.headers)
    message->insert(header.name, header.value);
  const bool close_after = response.close_connection || !request_keep_alive_;
  message->keep_alive(!close_after);
  const std::size_t body_bytes = response.body.size();
  if (!request_is_head_)
    message->body() = std::move(response.body);
  message->content_length(body_bytes);
  beast::get_lowest_layer(stream_).expires_after(limits_.request_timeout);
  http::async_write(stream_, *message,
                    [self = this->shared_from_this(), message, close_after](
                        const boost::system::error_code &ec, std::size_t) {
                      self->after_write(ec, close_after);
                    });
}

template <class Stream>
void HttpSession<Stream>::write_file(HttpServerResponse &&response) {
  const int fd = ::open(response.file_path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat info {};
  if (fd < 0 || fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    if (fd >= 0)
      ::close(fd);
    spdlog::debug("HTTP response file '{}' is not readable", response.file_path);
    awaiting_response_ = true;
    return respond(HttpServerResponse::text(404, "not found\n"));
  }
  auto file = std::make_shared<FileBody>();
  file->fd = fd;
  const auto size = static_cast<uint64_t>(info.st_size);
  file->remaining = size;
  auto status = static_cast<http::status>(response.status);
  std::string content_range;
  if (request_is_get_ && !request_range_.empty() && response.status == 200) {
    bool unsatisfiable = false;
    auto range = parse_range(request_range_, size, unsatisfiable);
    if (unsatisfiable) {
      awaiting_response_ = true;
      auto refused = HttpServerResponse::text(416, "range not satisfiable\n");
      refused.headers.push_back({"Content-Range", "bytes */" + std::to_string(size)});
      return respond(std::move(refused));
    }
    if (range) {
      status = http::status::partial_content;
      file->offset = range->first;
      file->remaining = range->length;
      content_range = "bytes " + std::to_string(range->first) + "-" +
                      std::to_string(range->first + range->length - 1) + "/" + std::to_string(size);
    }
  }
  auto &message = file->response;
  message.result(status);
  message.version(request_version_);
  for (const auto &header : response.headers)
    message.insert(header.name, header.value);
  message.set(http::field::accept_ranges, "bytes");
  if (!content_range.empty())
    message.set(http::field::content_range, content_range);
  file->close_after = response.close_connection || !request_keep_alive_;
  message.keep_alive(!file->close_after);
  message.content_length(file->remaining);
  if (request_is_head_)
    file->remaining = 0;
  file->chunk.resize(std::min<uint64_t>(kFileChunkBytes, std::max<uint64_t>(file->remaining, 1)));
  write_next_file_chunk(file);
}

template <class Stream>
void HttpSession<Stream>::write_next_file_chunk(const std::shared_ptr<FileBody> &file) {
  auto &body = file->response.body();
  if (file->remaining == 0) {
    body.data = nullptr;
    body.size = 0;
    body.more = false;
  } else {
    const auto wanted =
        static_cast<std::size_t>(std::min<uint64_t>(file->remaining, file->chunk.size()));
    const ssize_t got =
        ::pread(file->fd, file->chunk.data(), wanted, static_cast<off_t>(file->offset));
    if (got <= 0)
      return finish("reading the response file failed");
    file->offset += static_cast<uint64_t>(got);
    file->remaining -= static_cast<uint64_t>(got);
    body.data = file->chunk.data();
    body.size = static_cast<std::size_t>(got);
    body.more = file->remaining > 0;
  }
  beast::get_lowest_layer(stream_).expires_after(limits_.request_timeout);
  http::async_write(
      stream_, file->serializer,
      [self = this->shared_from_this(), file](boost::system::error_code ec, std::size_t) {
        if (ec == http::error::need_buffer)
          ec = {};
        if (ec || file->serializer.is_done()) {
          return self->after_write(ec, file->close_after);
        }
        if (!self->closed_)
          self->write_next_file_chunk(file);
      });
}

template <class Stream>
void HttpSession<Stream>::after_write(const boost::system::error_code &ec, bool close_after) {
  if (closed_)
    return;
  if (ec)
    return finish("writing the response failed: " + ec.message());
  if (close_after)
    return graceful_close("closed after the response");
  read_request();
}

template <class Stream>
void HttpSession<Stream>::graceful_close(const std::string &reason) {
  if constexpr (std::is_same_v<Stream, TlsStream>) {
    beast::get_lowest_layer(stream_).expires_after(kTlsShutdownTimeout);
    stream_.async_shutdown([self = this->shared_from_this(),
                            reason](const boost::system::error_code &) { self->finish(reason); });
  } else {
    boost::system::error_code ignored;
    beast::get_lowest_layer(stream_).socket().shutdown(GenericProtocol::socket::shutdown_send,
                                                       ignored);
    beast::get_lowest_layer(stream_).expires_after(kLingerTimeout);
    drain_then_finish(reason);
  }
}

// Reads and drops what the client still sends (say the rest of a refused body) until it
// closes: closing with unread data would reset the connection before the client has read
// the response.
template <class Stream>
void HttpSession<Stream>::drain_then_finish(const std::string &reason) {
  if (closed_)
    return;
  beast::get_lowest_layer(stream_).async_read_some(
      asio::buffer(drain_buffer_),
      [self = this->shared_from_this(), reason](const boost::system::error_code &ec, std::size_t) {
        if (ec)
          return self->finish(reason);
        self->drain_then_finish(reason);
      });
}

template <class Stream>
void HttpSession<Stream>::finish(const std::string &reason) {
  if (closed_)
    return;
  closed_ = true;
  release_body_bytes();
  body_timer_.cancel();
  beast::get_lowest_layer(stream_).close();
  if (auto *owner = std::exchange(owner_, nullptr))
    owner->session_closed(*this, reason);
}

template <class Stream>
void HttpSession<Stream>::close(const std::string &reason) {
  finish(reason);
}

template <class Stream>
void HttpSession<Stream>::detach_and_close() {
  owner_ = nullptr;
  finish("server stopped");
}

template <class Stream>
Stream HttpSession<Stream>::release_stream() {
  released_ = true;
  closed_ = true;
  awaiting_response_ = false;
  if (auto *owner = std::exchange(owner_, nullptr))
    owner->session_released(*this);
  beast::get_lowest_layer(stream_).expires_never();
  return std::move(stream_);
}

template class HttpSession<PlainStream>;
template class HttpSession<TlsStream>;

}  // namespace opsup::transport::internal
