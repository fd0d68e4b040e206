// The client certificate a TLS server saw in the handshake, as plain facts for the server's
// handler (RequestInfo::peer_certificate).
#pragma once

#include <openssl/ssl.h>

#include <optional>

#include "transport/transport_types.hpp"

namespace opsup::transport::internal {

// Subject, issuer, serial and expiry of the certificate the peer presented in the TLS
// handshake of `ssl`; nullopt without one.
std::optional<PeerCertificate> read_peer_certificate(SSL *ssl);

}  // namespace opsup::transport::internal
