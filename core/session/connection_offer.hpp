// How an OpAMPConnectionSettings offer becomes the settings of the OpAMP connection: the
// rule for endpoint, headers (against the configured headers and auth), client certificate
// and TLS, written down once for the session and its tests (module.h,
// try_opamp_connection_settings, says the same to module authors).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "session/session_options.hpp"
#include "transport/transport_types.hpp"

namespace opsup::session {

// The parts of the OpAMP connection an offer can change.
struct ConnectionSettings {
  std::string endpoint;
  transport::HeaderList headers;
  transport::ClientTlsSettings tls;
  transport::ProxySettings proxy;  // empty url: the environment decides
};

struct ConnectionOffer {
  ConnectionSettings settings;
  // heartbeat_interval_seconds as offered (0: heartbeats off).
  std::chrono::seconds heartbeat_interval{0};
  // What the rule changed or dropped, for the log (no secret values).
  std::vector<std::string> notes;
};

// The header a configured server.auth extension sets ("Authorization", or the bearer
// extension's `header`); nullopt without auth.
std::optional<std::string> auth_header_name(const AuthSettings &auth);

// Reads `serialized_offer` (an OpAMPConnectionSettings) against the configured settings
// (`configured`: server.endpoint, headers, tls and auth) and the endpoint in use now:
//   - destination_endpoint: "" keeps `current_endpoint`;
//   - headers: start from the configured headers; an offered header replaces configured
//     ones of the same name (case-insensitive) and is added otherwise; the configured auth
//     extension's header is never replaced (the offered one is dropped, noted);
//   - certificate: cert + private_key become the client certificate; absent, the
//     configured one stays;
//   - CAs: tls.ca_pem_contents and certificate.ca_cert (joined) replace the configured CA
//     that verifies the server; neither offered keeps it;
//   - tls: include_system_ca_certs_pool,
//     min_version, max_version apply; insecure_skip_verify only when the configuration
//     already skips verification; cipher_suites are ignored (noted);
//   - proxy: a url replaces the configured server.proxy (url and connect_headers); none
//     offered keeps it.
// Throws std::invalid_argument naming the field when the offer cannot be used (does not
// parse, a certificate without its key, a refused insecure_skip_verify).
ConnectionOffer read_connection_offer(std::string_view serialized_offer,
                                      const SessionOptions &configured,
                                      std::string_view current_endpoint);

}  // namespace opsup::session
