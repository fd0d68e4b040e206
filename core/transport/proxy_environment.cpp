#include "transport/proxy_environment.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/url/parse.hpp>
#include <cctype>
#include <cstdlib>
#include <vector>

namespace opsup::transport {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char &c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trim(std::string_view text) {
  const auto begin = text.find_first_not_of(" \t");
  if (begin == std::string_view::npos)
    return {};
  const auto end = text.find_last_not_of(" \t");
  return std::string(text.substr(begin, end - begin + 1));
}

std::optional<std::string> first_set(const EnvironmentLookup &lookup, const char *upper,
                                     const char *lower_name) {
  for (const char *name : {upper, lower_name}) {
    if (auto value = lookup(name); value && !value->empty())
      return value;
  }
  return std::nullopt;
}

bool is_loopback(const std::string &host) {
  if (host == "localhost")
    return true;
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(host, ec);
  return !ec && address.is_loopback();
}

// Does one NO_PROXY entry exempt `host`:`port`?
bool exempts(std::string entry, const std::string &host, uint16_t port) {
  entry = lower(trim(entry));
  if (entry.empty())
    return false;
  if (entry == "*")
    return true;
  // An optional :port (not for a bare IPv6 literal); [v6]:port keeps its brackets off.
  std::optional<uint16_t> entry_port;
  if (entry.front() == '[') {
    const auto close = entry.find(']');
    if (close == std::string::npos)
      return false;
    if (close + 1 < entry.size() && entry[close + 1] == ':')
      entry_port = static_cast<uint16_t>(std::atoi(entry.c_str() + close + 2));
    entry = entry.substr(1, close - 1);
  } else if (const auto colon = entry.rfind(':');
             colon != std::string::npos && entry.find(':') == colon) {
    entry_port = static_cast<uint16_t>(std::atoi(entry.c_str() + colon + 1));
    entry = entry.substr(0, colon);
  }
  if (entry_port && *entry_port != port)
    return false;
  if (!entry.empty() && entry.front() == '.')
    entry.erase(0, 1);
  if (entry.empty())
    return false;
  return host == entry || (host.size() > entry.size() && host.ends_with(entry) &&
                           host[host.size() - entry.size() - 1] == '.');
}

}  // namespace

EnvironmentLookup process_environment() {
  return [](const char *name) -> std::optional<std::string> {
    const char *value = std::getenv(name);
    if (value == nullptr)
      return std::nullopt;
    return std::string(value);
  };
}

ProxySettings proxy_from_environment(std::string_view endpoint, const EnvironmentLookup &lookup) {
  ProxySettings none;
  auto parsed = boost::urls::parse_uri(endpoint);
  if (!parsed)
    return none;
  const std::string scheme = lower(parsed->scheme());
  const bool secure = scheme == "wss" || scheme == "https";
  const auto proxy = secure ? first_set(lookup, "HTTPS_PROXY", "https_proxy")
                            : first_set(lookup, "HTTP_PROXY", "http_proxy");
  if (!proxy)
    return none;
  const std::string host = lower(parsed->host_address());
  const uint16_t port = parsed->has_port() ? parsed->port_number() : (secure ? 443 : 80);
  if (is_loopback(host))
    return none;
  if (const auto no_proxy = first_set(lookup, "NO_PROXY", "no_proxy")) {
    std::string_view list = *no_proxy;
    while (!list.empty()) {
      const auto comma = list.find(',');
      if (exempts(std::string(list.substr(0, comma)), host, port))
        return none;
      if (comma == std::string_view::npos)
        break;
      list.remove_prefix(comma + 1);
    }
  }
  ProxySettings settings;
  settings.url = proxy->find("://") == std::string::npos ? "http://" + *proxy : *proxy;
  return settings;
}

}  // namespace opsup::transport
