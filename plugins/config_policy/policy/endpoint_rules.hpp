// Allowed hosts for the endpoints and listen addresses of receivers and exporters.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace opsup::config_policy {

// The host of an endpoint: "http://a.b:4318/v1" -> "a.b", "[::1]:4317" -> "::1",
// "localhost:4317" -> "localhost", ":4317" -> "0.0.0.0" (every interface). Lower case.
std::string endpoint_host(const std::string &endpoint);

// The rule broken by `endpoint`, or nullopt. An allowed entry is a host name or address,
// or "*.suffix" for any host under suffix. An empty list allows everything.
std::optional<std::string> check_endpoint(const std::string &endpoint,
                                          const std::vector<std::string> &allowed_hosts);

}  // namespace opsup::config_policy
