// The supervisor config as modules receive it: the whole effective config (defaults
// filled in) re-emitted with secrets replaced by "[REDACTED]".
#pragma once

#include <string>

#include "config/supervisor_config.hpp"

namespace opsup::config {

inline constexpr const char *kRedacted = "[REDACTED]";

// Redacted: server.headers values; key_pem under server.tls, healthcheck.tls and every
// extension's tls; extension credentials (token, tokens, password, client_secret, ...).
// Paths to key or token files are kept (their contents are never read here).
// plugins.<module id> sections are passed as written: they belong to their module.
std::string redacted_yaml(const SupervisorConfig &config);

}  // namespace opsup::config
