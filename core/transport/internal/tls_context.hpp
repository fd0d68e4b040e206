// OpenSSL contexts from the TLS settings, and per-connection peer verification.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "transport/transport_types.hpp"

namespace opsup::transport::internal {

// Throws std::invalid_argument naming the key (e.g. "tls::ca_file") for unusable material.
// `key_prefix` is prepended to key names in messages ("server::tls").
std::shared_ptr<boost::asio::ssl::context> make_client_tls_context(
    const ClientTlsSettings &settings, const std::string &key_prefix = "tls");
std::shared_ptr<boost::asio::ssl::context> make_server_tls_context(
    const ServerTlsSettings &settings, const std::string &key_prefix = "tls");

// Sets SNI and the name the server certificate must match on a client SSL handle:
// `server_name_override` when set, else `url_host`. Returns false when OpenSSL refused.
bool prepare_client_tls(SSL *ssl, const ClientTlsSettings &settings, const std::string &url_host);

}  // namespace opsup::transport::internal
