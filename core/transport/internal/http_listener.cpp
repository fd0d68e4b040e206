#include "transport/internal/http_listener.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <cerrno>
#include <system_error>

#include "common/log_throttle.hpp"
#include "transport/internal/socket_info.hpp"

namespace opsup::transport::internal {

namespace {
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};

common::LogThrottle accept_log;

std::string held_back(uint64_t suppressed) {
  return suppressed == 0 ? std::string()
                         : " (" + std::to_string(suppressed) + " similar lines held back)";
}

std::size_t soft_descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY)
    return 0;
  return static_cast<std::size_t>(limit.rlim_cur);
}

[[noreturn]] void throw_system(int error, const std::string &what) {
  throw std::system_error(error, std::generic_category(), what);
}
}  // namespace

HttpListener::HttpListener(asio::io_context &io, ListenerConfig config, HttpDispatcher &dispatcher)
    : io_(io),
      config_(std::move(config)),
      dispatcher_target_(dispatcher),
      acceptor_(io),
      accept_retry_timer_(io) {}

HttpListener::~HttpListener() {
  stop();
}

void HttpListener::start() {
  if (running_)
    return;
  if (config_.unix_socket_path.empty()) {
    open_tcp();
  } else {
    open_unix();
  }
  running_ = true;
  dispatcher_ = &dispatcher_target_;
  descriptor_limit_ = soft_descriptor_limit();
  accept_next();
}

void HttpListener::open_tcp() {
  const std::string where =
      config_.name + " at " + config_.listen_address + ":" + std::to_string(config_.port);
  boost::system::error_code ec;
  asio::ip::tcp::resolver resolver(io_);
  auto results = resolver.resolve(config_.listen_address, std::to_string(config_.port),
                                  asio::ip::tcp::resolver::passive, ec);
  if (ec || results.empty()) {
    throw std::system_error(ec ? ec.value() : EINVAL, std::generic_category(),
                            "cannot resolve the listen address of the " + where);
  }
  GenericProtocol::endpoint endpoint(results.begin()->endpoint());
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec)
    acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec)
    acceptor_.bind(endpoint, ec);
  if (!ec)
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    acceptor_.close();
    throw std::system_error(ec.value(), std::generic_category(), "cannot listen: " + where);
  }
  const auto local = acceptor_.local_endpoint();
  const auto *address = local.data();
  if (address->sa_family == AF_INET) {
    port_ = ntohs(reinterpret_cast<const sockaddr_in *>(address)->sin_port);
  } else if (address->sa_family == AF_INET6) {
    port_ = ntohs(reinterpret_cast<const sockaddr_in6 *>(address)->sin6_port);
  }
}

void HttpListener::open_unix() {
  const std::string &path = config_.unix_socket_path;
  const std::string where = config_.name + " at unix:" + path;
  struct stat info {};
  if (lstat(path.c_str(), &info) == 0) {
    if (!S_ISSOCK(info.st_mode))
      throw_system(EEXIST, where + ": the path exists and is not a socket");
    if (unlink(path.c_str()) != 0)
      throw_system(errno, where + ": cannot remove the stale socket");
  }
  boost::system::error_code ec;
  GenericProtocol::endpoint endpoint{asio::local::stream_protocol::endpoint(path)};
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec)
    acceptor_.bind(endpoint, ec);
  if (!ec && chmod(path.c_str(), config_.unix_socket_mode) != 0) {
    ec.assign(errno, boost::system::generic_category());
  }
  if (!ec)
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    acceptor_.close();
    throw std::system_error(ec.value(), std::generic_category(), "cannot listen: " + where);
  }
}

void HttpListener::accept_next() {
  acceptor_.async_accept([self = shared_from_this()](const boost::system::error_code &ec,
                                                     GenericProtocol::socket socket) {
    self->on_accept(ec, std::move(socket));
  });
}

void HttpListener::on_accept(const boost::system::error_code &ec, GenericProtocol::socket socket) {
  if (!running_)
    return;
  if (ec) {
    uint64_t suppressed = 0;
    if (accept_log.admit(suppressed)) {
      spdlog::warn("{}: accept failed: {}{}", config_.name, ec.message(), held_back(suppressed));
    }
    // Out of descriptors: make room by closing a connection that never sent a request and
    // try again at once; otherwise wait a little instead of spinning.
    if ((ec == boost::system::errc::too_many_files_open ||
         ec == boost::system::errc::too_many_files_open_in_system) &&
        evict_idle_connection("out of descriptors")) {
      return accept_next();
    }
    accept_retry_timer_.expires_after(kAcceptRetryDelay);
    accept_retry_timer_.async_wait([self = shared_from_this()](const boost::system::error_code &e) {
      if (!e && self->running_)
        self->accept_next();
    });
    return;
  }
  if (!admit_descriptor(socket)) {
    boost::system::error_code ignored;
    socket.close(ignored);
    return accept_next();
  }
  set_tcp_no_delay(socket);
  std::optional<PeerCredentials> credentials;
  std::string peer;
  if (!config_.unix_socket_path.empty()) {
    credentials = read_peer_credentials(socket.native_handle());
    peer = "unix:" + config_.unix_socket_path;
    if (credentials)
      peer += " (pid " + std::to_string(credentials->pid) + ")";
  } else {
    boost::system::error_code remote_ec;
    auto remote = socket.remote_endpoint(remote_ec);
    peer = remote_ec ? std::string("unknown peer") : describe_endpoint(remote);
  }
  const uint64_t id = next_session_id_++;
  if (config_.tls) {
    auto session = std::make_shared<HttpSession<TlsStream>>(
        TlsStream(PlainStream(std::move(socket)), *config_.tls), config_.limits, this, id, peer,
        credentials);
    sessions_.emplace(id, session);
    session->start(config_.handshake_timeout);
  } else {
    auto session = std::make_shared<HttpSession<PlainStream>>(
        PlainStream(std::move(socket)), config_.limits, this, id, peer, credentials);
    sessions_.emplace(id, session);
    session->start(config_.handshake_timeout);
  }
  accept_next();
}

bool HttpListener::admit_descriptor(GenericProtocol::socket &socket) {
  if (config_.descriptor_reserve == 0 || descriptor_limit_ == 0)
    return true;
  // Descriptors are allocated lowest first, so the new one's number is the count of
  // descriptors below it that are all in use.
  const auto fd = static_cast<std::size_t>(socket.native_handle());
  if (fd + config_.descriptor_reserve < descriptor_limit_)
    return true;
  if (evict_idle_connection("descriptors are running low")) {
    keep_descriptors_dense(socket);
    return true;
  }
  uint64_t suppressed = 0;
  if (accept_log.admit(suppressed)) {
    spdlog::warn("{}: refused a connection: {} of {} descriptors in use, {} kept in reserve{}",
                 config_.name, fd + 1, descriptor_limit_, config_.descriptor_reserve,
                 held_back(suppressed));
  }
  return false;
}

// Moves the socket to the lowest free descriptor (the one the eviction just freed), so
// that the next socket's number again counts the descriptors in use. Without it, sockets
// would fill the freed low numbers unchecked and the count would creep into the reserve.
void HttpListener::keep_descriptors_dense(GenericProtocol::socket &socket) {
  boost::system::error_code ec;
  const auto protocol = socket.local_endpoint(ec).protocol();
  if (ec)
    return;
  const int high = socket.native_handle();
  const int low = ::fcntl(high, F_DUPFD_CLOEXEC, 0);
  if (low < 0)
    return;
  if (low > high) {
    ::close(low);
    return;
  }
  socket.release(ec);
  if (ec) {
    ::close(low);
    return;
  }
  ::close(high);
  GenericProtocol::socket moved(io_);
  moved.assign(protocol, low, ec);
  if (ec) {
    ::close(low);
    return;
  }
  socket = std::move(moved);
}

bool HttpListener::evict_idle_connection(const std::string &why) {
  for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
    auto session = it->second.lock();
    if (!session || session->closed() || !session->before_first_request())
      continue;
    uint64_t suppressed = 0;
    if (accept_log.admit(suppressed)) {
      spdlog::info("{}: {}; closing the oldest connection without a request ({}){}", config_.name,
                   why, session->peer(), held_back(suppressed));
    }
    session->close("closed to make room: " + why);  // erases it from sessions_
    return true;
  }
  return false;
}

void HttpListener::stop() {
  if (!running_)
    return;
  running_ = false;
  dispatcher_ = nullptr;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  accept_retry_timer_.cancel();
  auto sessions = std::move(sessions_);
  sessions_.clear();
  for (auto &[id, weak] : sessions) {
    if (auto session = weak.lock())
      session->detach_and_close();
  }
  if (!config_.unix_socket_path.empty()) {
    struct stat info {};
    if (lstat(config_.unix_socket_path.c_str(), &info) == 0 && S_ISSOCK(info.st_mode)) {
      unlink(config_.unix_socket_path.c_str());
    }
  }
}

void HttpListener::dispatch(const std::shared_ptr<HttpSession<PlainStream>> &session,
                            RawRequest &&request) {
  if (dispatcher_ != nullptr)
    dispatcher_->on_request(session, std::move(request));
}

void HttpListener::dispatch(const std::shared_ptr<HttpSession<TlsStream>> &session,
                            RawRequest &&request) {
  if (dispatcher_ != nullptr)
    dispatcher_->on_request(session, std::move(request));
}

void HttpListener::session_closed(HttpSessionBase &session, const std::string &reason) {
  sessions_.erase(session.id());
  if (dispatcher_ != nullptr)
    dispatcher_->on_session_closed(session, reason);
}

void HttpListener::session_released(HttpSessionBase &session) {
  sessions_.erase(session.id());
}

}  // namespace opsup::transport::internal
