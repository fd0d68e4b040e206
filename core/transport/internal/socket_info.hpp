// Naming peers and reading Unix-socket peer credentials.
#pragma once

#include <optional>
#include <string>

#include "transport/internal/streams.hpp"
#include "transport/transport_types.hpp"

namespace opsup::transport::internal {

// "127.0.0.1:5555", "[::1]:5555" or "unix:<path>".
std::string describe_endpoint(const GenericProtocol::endpoint &endpoint);

// SO_PEERCRED of a connected Unix-domain socket; nullopt for other sockets.
std::optional<PeerCredentials> read_peer_credentials(int fd);

// Turns off Nagle on TCP sockets (OpAMP messages are small and latency matters).
void set_tcp_no_delay(GenericProtocol::socket &socket);

}  // namespace opsup::transport::internal
