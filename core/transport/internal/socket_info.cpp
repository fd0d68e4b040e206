#include "transport/internal/socket_info.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <fmt/format.h>

#include <cstring>

namespace opsup::transport::internal {

std::string describe_endpoint(const GenericProtocol::endpoint &endpoint) {
  const auto *address = endpoint.data();
  char text[INET6_ADDRSTRLEN] = {};
  switch (address->sa_family) {
    case AF_INET: {
      const auto *in = reinterpret_cast<const sockaddr_in *>(address);
      inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
      return fmt::format("{}:{}", text, ntohs(in->sin_port));
    }
    case AF_INET6: {
      const auto *in6 = reinterpret_cast<const sockaddr_in6 *>(address);
      inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
      return fmt::format("[{}]:{}", text, ntohs(in6->sin6_port));
    }
    case AF_UNIX: {
      const auto *un = reinterpret_cast<const sockaddr_un *>(address);
      const std::size_t path_bytes = endpoint.size() > offsetof(sockaddr_un, sun_path)
                                         ? endpoint.size() - offsetof(sockaddr_un, sun_path)
                                         : 0;
      return fmt::format("unix:{}",
                         std::string_view(un->sun_path, strnlen(un->sun_path, path_bytes)));
    }
    default:
      return fmt::format("address family {}", address->sa_family);
  }
}

std::optional<PeerCredentials> read_peer_credentials(int fd) {
  sockaddr_storage local{};
  socklen_t length = sizeof(local);
  if (getsockname(fd, reinterpret_cast<sockaddr *>(&local), &length) != 0 ||
      local.ss_family != AF_UNIX) {
    return std::nullopt;
  }
  ucred credentials{};
  socklen_t credentials_length = sizeof(credentials);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &credentials_length) != 0) {
    return std::nullopt;
  }
  return PeerCredentials{credentials.pid, credentials.uid, credentials.gid};
}

void set_tcp_no_delay(GenericProtocol::socket &socket) {
  sockaddr_storage local{};
  socklen_t length = sizeof(local);
  const int fd = socket.native_handle();
  if (getsockname(fd, reinterpret_cast<sockaddr *>(&local), &length) != 0)
    return;
  if (local.ss_family != AF_INET && local.ss_family != AF_INET6)
    return;
  int on = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

}  // namespace opsup::transport::internal
