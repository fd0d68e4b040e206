// The TLS settings of a module's package downloads (download_start, ABI 1.4), read from the
// module's own settings: plugins.<id>.tls. Downloads verify the server's certificate always;
// these settings only say against what, and which client certificate to show.
#pragma once

#include <string_view>

#include "transport/transport_types.hpp"

namespace opsup::modules {

// `own_settings_yaml` is the module's section as YAML ("" when absent). PEM files are read
// here (so call it off the loop thread) and returned as *_pem. Throws std::runtime_error
// naming the key (and the file) when the section cannot be used.
//   tls:
//     ca_file: <PEM file>                    # trust these CAs instead of the system pool
//     include_system_ca_certs_pool: false    # with ca_file: also trust the system pool
//     cert_file: <PEM file>                  # a client certificate for the package server
//     key_file: <PEM file>                   #   and its key (both or neither)
//     server_name_override: <name>
//     min_version: "1.2"                     # "1.2" or "1.3"
// There is no insecure_skip_verify: the content hash and the signature protect the file,
// TLS protects the headers (tokens) sent with it, so verification is never turned off.
transport::ClientTlsSettings download_tls_from(std::string_view own_settings_yaml);

}  // namespace opsup::modules
