#include "transport/internal/endpoint_url.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/url/parse.hpp>

#include <stdexcept>
#include "common/redact.hpp"

namespace opsup::transport::internal {

namespace {
std::string join(std::initializer_list<std::string_view> items) {
  std::string out;
  for (auto item : items) {
    if (!out.empty())
      out += ", ";
    out += item;
  }
  return out;
}
}  // namespace

EndpointUrl parse_endpoint_url(std::string_view url, std::string_view option_name,
                               std::initializer_list<std::string_view> allowed_schemes) {
  const std::string where(option_name);
  if (url.empty())
    throw std::invalid_argument(where + " must be specified");
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) {
    throw std::invalid_argument(where + ": '" + common::url_for_logs(url) +
                                "' is not a valid URL: " + parsed.error().message());
  }
  EndpointUrl result;
  result.scheme = std::string(parsed->scheme());
  bool allowed = false;
  for (auto scheme : allowed_schemes)
    allowed = allowed || scheme == result.scheme;
  if (!allowed) {
    throw std::invalid_argument(where + ": invalid scheme '" + result.scheme +
                                "', must be one of " + join(allowed_schemes));
  }
  result.tls = result.scheme == "wss" || result.scheme == "https";
  result.websocket = result.scheme == "ws" || result.scheme == "wss";
  result.host = parsed->host_address();
  if (result.host.empty())
    throw std::invalid_argument(where + ": '" + common::url_for_logs(url) + "' has no host");
  if (parsed->has_port()) {
    if (parsed->port().empty() || parsed->port_number() == 0) {
      throw std::invalid_argument(where + ": '" + common::url_for_logs(url) +
                                  "' has an invalid port");
    }
    result.port = parsed->port_number();
  } else {
    result.port = result.tls ? 443 : 80;
  }
  result.host_header = std::string(parsed->encoded_host_and_port());
  result.target = std::string(parsed->encoded_target());
  if (result.target.empty() || result.target.front() != '/')
    result.target = std::string("/").append(result.target);
  return result;
}

bool is_ip_literal(std::string_view host) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(std::string(host), ec);
  return !ec;
}

}  // namespace opsup::transport::internal
