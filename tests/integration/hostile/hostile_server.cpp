#include "hostile_server.hpp"

#include <sys/socket.h>
#include <zlib.h>

#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <fstream>
#include <stdexcept>

#include "opamp.pb.h"

namespace opsup::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;

// Enough for any sane test; a reconnect storm beyond it is counted but not served.
constexpr std::size_t kMaxLiveConnections = 64;

HostileServer::HostileServer(Handler handler)
    : handler_(std::move(handler)),
      acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
  port_ = acceptor_.local_endpoint().port();
  acceptor_thread_ = std::thread([this] { accept_loop(); });
}

HostileServer::~HostileServer() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    // shutdown() wakes a thread blocked in accept() or read() on Linux.
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    for (const auto &[id, fd] : open_fds_)
      ::shutdown(fd, SHUT_RDWR);
  }
  acceptor_thread_.join();
  {
    std::lock_guard lock(mutex_);
    threads.swap(threads_);
  }
  for (auto &thread : threads)
    thread.join();
}

void HostileServer::accept_loop() {
  uint64_t next_id = 0;
  while (true) {
    auto socket = std::make_shared<Socket>(io_);
    boost::system::error_code ec;
    acceptor_.accept(*socket, ec);
    std::lock_guard lock(mutex_);
    if (stopping_)
      return;
    if (ec)
      continue;
    accepted_.push_back(Clock::now());
    changed_.notify_all();
    if (open_fds_.size() >= kMaxLiveConnections)
      continue;  // dropped: the supervisor is storming
    const uint64_t id = next_id++;
    open_fds_[id] = socket->native_handle();
    threads_.emplace_back([this, socket, id] { run_connection(socket, id); });
  }
}

void HostileServer::run_connection(std::shared_ptr<Socket> socket, uint64_t id) {
  try {
    handler_(*socket);
  } catch (const std::exception &) {
    // The peer went away mid-write; nothing to report.
  }
  std::lock_guard lock(mutex_);
  open_fds_.erase(id);
  boost::system::error_code ignored;
  socket->close(ignored);
}

std::size_t HostileServer::connections() const {
  std::lock_guard lock(mutex_);
  return accepted_.size();
}

std::size_t HostileServer::connections_between(Clock::time_point from, Clock::time_point to) const {
  std::lock_guard lock(mutex_);
  std::size_t count = 0;
  for (const auto &at : accepted_)
    count += at >= from && at < to ? 1 : 0;
  return count;
}

bool HostileServer::wait_for_connection(std::size_t index, std::chrono::milliseconds timeout,
                                        Clock::time_point *accepted_at) const {
  std::unique_lock lock(mutex_);
  if (!changed_.wait_for(lock, timeout, [&] { return accepted_.size() > index; }))
    return false;
  if (accepted_at != nullptr)
    *accepted_at = accepted_[index];
  return true;
}

namespace hostile {

struct WebSocket::Impl {
  explicit Impl(HostileServer::Socket &socket) : ws(socket) {}
  beast::websocket::stream<HostileServer::Socket &> ws;
  beast::flat_buffer buffer;
};

WebSocket::WebSocket(HostileServer::Socket &socket) : impl_(std::make_unique<Impl>(socket)) {}
WebSocket::~WebSocket() = default;

bool WebSocket::accept_and_read_first() {
  boost::system::error_code ec;
  impl_->ws.accept(ec);
  if (ec)
    return false;
  impl_->ws.binary(true);
  impl_->ws.read(impl_->buffer, ec);
  impl_->buffer.clear();
  return !ec;
}

bool WebSocket::send_binary(const std::string &payload) {
  boost::system::error_code ec;
  impl_->ws.write(asio::buffer(payload), ec);
  return !ec;
}

int WebSocket::read_until_closed() {
  while (true) {
    boost::system::error_code ec;
    impl_->ws.read(impl_->buffer, ec);
    impl_->buffer.clear();
    if (ec == beast::websocket::error::closed)
      return impl_->ws.reason().code;
    if (ec)
      return 0;
  }
}

bool read_http_request(HostileServer::Socket &socket) {
  beast::flat_buffer buffer;
  beast::http::request<beast::http::string_body> request;
  boost::system::error_code ec;
  beast::http::read(socket, buffer, request, ec);
  return !ec;
}

bool write_all(HostileServer::Socket &socket, const std::string &bytes) {
  boost::system::error_code ec;
  asio::write(socket, asio::buffer(bytes), ec);
  return !ec;
}

std::string unavailable_message(uint64_t retry_after_ns) {
  opamp::proto::v1::ServerToAgent message;
  auto *error = message.mutable_error_response();
  error->set_type(opamp::proto::v1::ServerErrorResponseType_Unavailable);
  error->set_error_message("hostile test server");
  error->mutable_retry_info()->set_retry_after_nanoseconds(retry_after_ns);
  return message.SerializeAsString();
}

std::string gzip_of_zeros(std::size_t bytes) {
  z_stream stream{};
  if (deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    throw std::runtime_error("deflateInit2 failed");
  }
  const std::string zeros(1024 * 1024, '\0');
  std::string out;
  char chunk[64 * 1024];
  std::size_t left = bytes;
  int flush = Z_NO_FLUSH;
  do {
    const std::size_t take = std::min(left, zeros.size());
    left -= take;
    flush = left == 0 ? Z_FINISH : Z_NO_FLUSH;
    stream.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(zeros.data()));
    stream.avail_in = static_cast<uInt>(take);
    do {
      stream.next_out = reinterpret_cast<Bytef *>(chunk);
      stream.avail_out = sizeof chunk;
      deflate(&stream, flush);
      out.append(chunk, sizeof chunk - stream.avail_out);
    } while (stream.avail_out == 0);
  } while (flush != Z_FINISH);
  deflateEnd(&stream);
  return out;
}

}  // namespace hostile

uint64_t peak_rss_bytes(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0)
      return std::stoull(line.substr(6)) * 1024;  // "VmHWM:   12345 kB"
  }
  return 0;
}

}  // namespace opsup::testing
