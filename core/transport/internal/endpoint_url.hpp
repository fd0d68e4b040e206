// Splits a ws/wss/http/https URL into what a connection needs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace opsup::transport::internal {

struct EndpointUrl {
  std::string scheme;       // "ws", "wss", "http" or "https"
  std::string host;         // without IPv6 brackets: used for DNS and certificate checks
  std::string host_header;  // "host[:port]" as the Host header wants it
  uint16_t port = 0;
  std::string target;  // path + query, "/" when empty
  bool tls = false;
  bool websocket = false;
};

// Throws std::invalid_argument naming `option_name` when the URL is not usable.
// `allowed_schemes` lists what the caller accepts, e.g. {"ws", "wss", "http", "https"}.
EndpointUrl parse_endpoint_url(std::string_view url, std::string_view option_name,
                               std::initializer_list<std::string_view> allowed_schemes);

// True when `host` is an IPv4 or IPv6 literal (no SNI is sent for those).
bool is_ip_literal(std::string_view host);

}  // namespace opsup::transport::internal
