// The proxy the environment names for an OpAMP endpoint, read as Go's
// http.ProxyFromEnvironment reads it (what the Go supervisor's client does): HTTPS_PROXY for
// wss:// and https://, HTTP_PROXY for ws:// and http:// (the upper-case name first, then the
// lower-case one), a URL without a scheme taken as http://, and NO_PROXY (or no_proxy): a
// comma-separated list of `*`, host names (which also match their subdomains; a leading dot
// is allowed) and IP addresses, each with an optional :port. localhost and loopback
// addresses are never proxied.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "transport/transport_types.hpp"

namespace opsup::transport {

using EnvironmentLookup = std::function<std::optional<std::string>(const char *name)>;

// The process environment (getenv).
EnvironmentLookup process_environment();

// The proxy for `endpoint`, or settings with an empty url for a direct connection.
ProxySettings proxy_from_environment(std::string_view endpoint, const EnvironmentLookup &lookup);

}  // namespace opsup::transport
