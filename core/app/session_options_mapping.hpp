// Maps the supervisor config onto the OpAMP client session's options.
#pragma once

#include <cstdint>

#include "config/supervisor_config.hpp"
#include "session/session_options.hpp"

namespace opsup::app {

// Throws std::invalid_argument naming the key when a value cannot be used (for example an
// unreadable basicauth password_file).
session::SessionOptions make_session_options(const config::SupervisorConfig &config,
                                             uint64_t advertised_capabilities);

transport::ClientTlsSettings make_client_tls(const config::TlsClientConfig &tls);

}  // namespace opsup::app
