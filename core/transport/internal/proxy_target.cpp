#include "transport/internal/proxy_target.hpp"

#include <openssl/evp.h>

#include <boost/url/parse.hpp>
#include <stdexcept>
#include <vector>

#include "common/redact.hpp"

namespace opsup::transport::internal {
namespace {

std::string base64(std::string_view bytes) {
  std::vector<unsigned char> out(4 * ((bytes.size() + 2) / 3) + 1);
  const int length =
      EVP_EncodeBlock(out.data(), reinterpret_cast<const unsigned char *>(bytes.data()),
                      static_cast<int>(bytes.size()));
  return std::string(reinterpret_cast<const char *>(out.data()), static_cast<std::size_t>(length));
}

}  // namespace

std::string ProxyTarget::describe() const {
  if (host.find(':') != std::string::npos)
    return "proxy [" + host + "]:" + std::to_string(port);
  return "proxy " + host + ":" + std::to_string(port);
}

std::optional<ProxyTarget> parse_proxy(const ProxySettings &settings) {
  if (settings.url.empty())
    return std::nullopt;
  const std::string shown = common::url_for_logs(settings.url);
  auto parsed = boost::urls::parse_uri(settings.url);
  if (!parsed) {
    throw std::invalid_argument("proxy.url: '" + shown +
                                "' is not a valid URL: " + parsed.error().message());
  }
  if (parsed->scheme() != "http") {
    throw std::invalid_argument("proxy.url: '" + shown +
                                "' must be an http:// URL (the connection to the proxy is not "
                                "encrypted; TLS to the server goes through the tunnel)");
  }
  ProxyTarget target;
  target.host = parsed->host_address();
  if (target.host.empty())
    throw std::invalid_argument("proxy.url: '" + shown + "' has no host");
  target.port = 80;
  if (parsed->has_port()) {
    if (parsed->port().empty() || parsed->port_number() == 0)
      throw std::invalid_argument("proxy.url: '" + shown + "' has an invalid port");
    target.port = parsed->port_number();
  }
  for (const auto &header : settings.connect_headers) {
    if (header.name.empty())
      throw std::invalid_argument("proxy.connect_headers: a header without a name");
    target.headers.push_back(header);
  }
  if (parsed->has_userinfo()) {
    const std::string credentials = parsed->user() + ":" + parsed->password();
    target.headers.push_back({"Proxy-Authorization", "Basic " + base64(credentials)});
  }
  return target;
}

}  // namespace opsup::transport::internal
