#include "config/supervisor_config.hpp"

#include <boost/url/parse.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "config/internal/sections.hpp"

namespace opsup::config {

std::string ServerConfig::scheme() const {
  const auto url = boost::urls::parse_uri(endpoint);
  if (!url)
    return {};
  std::string scheme(url->scheme());
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return scheme;
}

bool ServerConfig::uses_websocket() const {
  const std::string value = scheme();
  return value == "ws" || value == "wss";
}

bool ServerConfig::uses_tls() const {
  const std::string value = scheme();
  return value == "wss" || value == "https";
}

std::string RunAsConfig::describe() const {
  const std::string who = user_name.empty()
                              ? "uid " + std::to_string(uid)
                              : "user " + user_name + " (uid " + std::to_string(uid) + ")";
  const std::string in = group_name.empty()
                             ? "gid " + std::to_string(gid)
                             : "group " + group_name + " (gid " + std::to_string(gid) + ")";
  return who + ", " + in;
}

uint32_t AgentConfig::unix_socket_file_mode() const {
  if (opamp_server_unix_socket_mode.empty())
    return 0600;
  uint32_t mode = 0;
  for (char c : opamp_server_unix_socket_mode) {
    if (c < '0' || c > '7')
      return 0600;  // unreachable after validation; fail closed
    mode = mode * 8 + static_cast<uint32_t>(c - '0');
    if (mode > 0777)
      return 0600;
  }
  return mode;
}

int HealthCheckConfig::port() const {
  const auto port = internal::endpoint_port(endpoint);
  if (!port || *port < 0 || *port > 65535)
    return 0;
  return static_cast<int>(*port);
}

const ExtensionConfig *SupervisorConfig::find_extension(std::string_view id) const {
  for (const auto &extension : extensions) {
    if (extension.id == id)
      return &extension;
  }
  return nullptr;
}

namespace internal {

std::optional<int64_t> endpoint_port(std::string_view endpoint) {
  std::string_view port;
  if (endpoint.starts_with('[')) {
    const auto close = endpoint.find("]:");
    if (close == std::string_view::npos)
      return std::nullopt;
    port = endpoint.substr(close + 2);
  } else {
    const auto colon = endpoint.find(':');
    if (colon == std::string_view::npos ||
        endpoint.find(':', colon + 1) != std::string_view::npos) {
      return std::nullopt;
    }
    port = endpoint.substr(colon + 1);
  }
  if (port.empty())
    return 0;
  int64_t value = 0;
  const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (error != std::errc() || end != port.data() + port.size())
    return -1;
  return value;
}

}  // namespace internal
}  // namespace opsup::config
