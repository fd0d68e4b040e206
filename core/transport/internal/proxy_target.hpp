// Where a proxied connection goes first and what its CONNECT request carries, from the
// proxy URL (ProxySettings).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "transport/transport_types.hpp"

namespace opsup::transport::internal {

struct ProxyTarget {
  std::string host;  // without IPv6 brackets
  uint16_t port = 0;
  // connect_headers, then Proxy-Authorization (Basic) from the URL's userinfo, if any.
  HeaderList headers;

  // "proxy 127.0.0.1:3128", for messages (never the credentials).
  std::string describe() const;
};

// nullopt when `settings.url` is empty. Throws std::invalid_argument naming proxy.url when
// the URL is not http:// with a host (an https:// proxy is not supported).
std::optional<ProxyTarget> parse_proxy(const ProxySettings &settings);

}  // namespace opsup::transport::internal
