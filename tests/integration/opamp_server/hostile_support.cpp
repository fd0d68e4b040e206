#include "hostile_support.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <regex>

#include "support/http.hpp"

namespace opsup::testing {

namespace {
using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<int64_t>(left.count(), 0));
}
}  // namespace

AgentRoundTrip post_agent_message(const std::string &http_url, const proto::AgentToServer &message,
                                  std::chrono::milliseconds timeout) {
  AgentRoundTrip result;
  auto response =
      http_post(http_url, message.SerializeAsString(), "application/x-protobuf", timeout);
  result.status = response.status;
  result.error = response.error;
  if (response.status == 200 && !result.reply.ParseFromString(response.body))
    result.error = "the answer is not a ServerToAgent";
  return result;
}

proto::AgentToServer first_message(const std::string &instance_uid, const std::string &name) {
  proto::AgentToServer message;
  message.set_instance_uid(instance_uid);
  message.set_sequence_num(1);
  message.set_capabilities(proto::AgentCapabilities_ReportsStatus);
  auto *attribute = message.mutable_agent_description()->add_identifying_attributes();
  attribute->set_key("service.name");
  attribute->mutable_value()->set_string_value(name);
  return message;
}

uint64_t proc_status_kib(pid_t pid, const std::string &field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0)
      return std::stoull(line.substr(field.size() + 1));
  }
  return 0;
}

RawConnection::RawConnection(uint16_t port, std::chrono::milliseconds timeout) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int rc = ::connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof address);
  if (rc != 0 && errno == EINPROGRESS) {
    pollfd waiting{fd, POLLOUT, 0};
    int error = 0;
    socklen_t length = sizeof error;
    if (::poll(&waiting, 1, static_cast<int>(timeout.count())) == 1 &&
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error == 0) {
      rc = 0;
    }
  }
  if (rc != 0) {
    ::close(fd);
    return;
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fd_ = fd;
}

RawConnection::~RawConnection() {
  if (fd_ >= 0)
    ::close(fd_);
}

RawConnection::RawConnection(RawConnection &&other) noexcept : fd_(other.fd_) {
  other.fd_ = -1;
}

bool RawConnection::send_all(const std::string &bytes) {
  std::size_t sent = 0;
  while (fd_ >= 0 && sent < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    sent += static_cast<std::size_t>(n);
  }
  return fd_ >= 0;
}

std::optional<std::string> RawConnection::read_until_closed(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::string data;
  char buffer[16384];
  while (fd_ >= 0) {
    pollfd waiting{fd_, POLLIN, 0};
    int ready = ::poll(&waiting, 1, remaining_ms(deadline));
    if (ready < 0 && errno == EINTR)
      continue;
    if (ready <= 0)
      return std::nullopt;
    ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return data;
    data.append(buffer, static_cast<std::size_t>(n));
  }
  return data;
}

bool RawConnection::read_available(std::string &received) {
  char buffer[16384];
  while (fd_ >= 0) {
    ssize_t n = ::recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return true;
    if (n <= 0)
      return false;
    received.append(buffer, static_cast<std::size_t>(n));
  }
  return false;
}

std::string RawConnection::read_until(const std::string &marker,
                                      std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::string data;
  char buffer[16384];
  while (fd_ >= 0 && data.find(marker) == std::string::npos) {
    pollfd waiting{fd_, POLLIN, 0};
    int ready = ::poll(&waiting, 1, remaining_ms(deadline));
    if (ready < 0 && errno == EINTR)
      continue;
    if (ready <= 0)
      break;
    ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    data.append(buffer, static_cast<std::size_t>(n));
  }
  return data;
}

uint16_t port_of(const std::string &url) {
  std::smatch match;
  if (!std::regex_search(url, match, std::regex(R"(://[^/]*:(\d+))")))
    return 0;
  return static_cast<uint16_t>(std::stoi(match[1]));
}

int status_of(const std::string &raw_response) {
  std::smatch match;
  if (!std::regex_search(raw_response, match, std::regex(R"(^HTTP/1\.[01] (\d{3}))")))
    return 0;
  return std::stoi(match[1]);
}

}  // namespace opsup::testing
