// A hostile OpAMP server for tests: a loopback TCP listener that hands each accepted
// connection to a test-supplied handler on its own thread (blocking I/O), and records
// when each connection came, so tests can count reconnects over a window.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace opsup::testing {

class HostileServer {
 public:
  using Clock = std::chrono::steady_clock;
  using Socket = boost::asio::ip::tcp::socket;
  // Runs on the connection's own thread; the connection closes when it returns.
  using Handler = std::function<void(Socket &socket)>;

  explicit HostileServer(Handler handler);
  ~HostileServer();  // stops accepting, unblocks and joins every handler
  HostileServer(const HostileServer &) = delete;
  HostileServer &operator=(const HostileServer &) = delete;

  uint16_t port() const { return port_; }
  std::size_t connections() const;
  // Connections accepted in [from, to).
  std::size_t connections_between(Clock::time_point from, Clock::time_point to) const;
  // When connection `index` (0-based) was accepted; waits up to `timeout` for it. false
  // on timeout.
  bool wait_for_connection(std::size_t index, std::chrono::milliseconds timeout,
                           Clock::time_point *accepted_at = nullptr) const;

 private:
  void accept_loop();
  void run_connection(std::shared_ptr<Socket> socket, uint64_t id);

  Handler handler_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<Clock::time_point> accepted_;
  std::map<uint64_t, int> open_fds_;  // live connections, to unblock them at stop
  std::vector<std::thread> threads_;
  bool stopping_ = false;
  std::thread acceptor_thread_;
};

// WebSocket helpers for handlers (blocking, Beast on the raw socket).
namespace hostile {

// Accepts the upgrade and reads the supervisor's first AgentToServer. false when the
// supervisor went away first.
class WebSocket {
 public:
  explicit WebSocket(HostileServer::Socket &socket);
  ~WebSocket();
  bool accept_and_read_first();
  bool send_binary(const std::string &payload);
  // Reads until the supervisor closes; the close code it sent (0: TCP dropped without a
  // close frame, or the socket failed).
  int read_until_closed();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Reads one HTTP request (headers and body); false when the peer went away.
bool read_http_request(HostileServer::Socket &socket);
// Writes raw bytes; false on failure.
bool write_all(HostileServer::Socket &socket, const std::string &bytes);
// A ServerToAgent holding error_response UNAVAILABLE with retry_after_nanoseconds.
std::string unavailable_message(uint64_t retry_after_ns);
// `bytes` of zeros, gzip-compressed.
std::string gzip_of_zeros(std::size_t bytes);

}  // namespace hostile

// VmHWM (peak resident set) of `pid` in bytes, from /proc/<pid>/status; 0 if unreadable.
uint64_t peak_rss_bytes(int pid);

}  // namespace opsup::testing
