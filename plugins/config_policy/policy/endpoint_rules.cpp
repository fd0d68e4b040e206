#include "endpoint_rules.hpp"

#include <algorithm>
#include <cctype>

namespace opsup::config_policy {
namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

}  // namespace

std::string endpoint_host(const std::string &endpoint) {
  std::string rest = endpoint;
  if (const size_t scheme = rest.find("://"); scheme != std::string::npos)
    rest = rest.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (const size_t at = rest.rfind('@'); at != std::string::npos)
    rest = rest.substr(at + 1);
  std::string host;
  if (!rest.empty() && rest.front() == '[') {
    const size_t close = rest.find(']');
    host = rest.substr(1, close == std::string::npos ? std::string::npos : close - 1);
  } else if (std::count(rest.begin(), rest.end(), ':') > 1) {
    host = rest;  // a bare IPv6 address
  } else {
    host = rest.substr(0, rest.find(':'));
  }
  return host.empty() ? "0.0.0.0" : lower(host);
}

std::optional<std::string> check_endpoint(const std::string &endpoint,
                                          const std::vector<std::string> &allowed_hosts) {
  if (allowed_hosts.empty())
    return std::nullopt;
  const std::string host = endpoint_host(endpoint);
  for (const std::string &entry : allowed_hosts) {
    const std::string allowed = lower(entry);
    if (allowed == host)
      return std::nullopt;
    if (allowed.size() > 2 && allowed.starts_with("*.") && host.size() > allowed.size() - 1 &&
        host.ends_with(allowed.substr(1)))
      return std::nullopt;
  }
  return "endpoints.allowed_hosts (host " + host + ")";
}

}  // namespace opsup::config_policy
