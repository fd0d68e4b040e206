#include "transport/client_transport.hpp"

#include <boost/beast/http/field.hpp>

#include "common/redact.hpp"
#include "transport/internal/client_common.hpp"
#include "transport/internal/retry_after.hpp"
#include "transport/internal/tls_context.hpp"

namespace opsup::transport {

namespace internal {

ConnectTarget ClientSetup::target() const {
  ConnectTarget target;
  target.host = url.host;
  target.port = url.port;
  target.unix_socket_path = options.unix_socket_path;
  target.tls = &options.tls;
  target.proxy = proxy;
  return target;
}

void ClientSetup::apply_headers(beast::http::fields &fields) const {
  HeaderList headers = options.headers;
  if (options.dynamic_headers) {
    for (auto &header : options.dynamic_headers())
      headers.push_back(std::move(header));
  }
  for (const auto &header : headers)
    fields.erase(header.name);
  for (const auto &header : headers)
    fields.insert(header.name, header.value);
}

ClientSetup make_client_setup(ClientOptions options) {
  ClientSetup setup;
  setup.url = parse_endpoint_url(options.endpoint, "endpoint", {"ws", "wss", "http", "https"});
  if (setup.url.tls)
    setup.tls = make_client_tls_context(options.tls);
  if (options.max_message_bytes == 0) {
    throw std::invalid_argument("max_message_bytes: must be greater than 0");
  }
  if (options.connect_timeout.count() <= 0) {
    throw std::invalid_argument("connect_timeout: must be positive");
  }
  setup.proxy = parse_proxy(options.proxy);
  setup.peer = common::url_for_logs(options.endpoint);
  if (!options.unix_socket_path.empty())
    setup.peer += " via unix:" + options.unix_socket_path;
  else if (setup.proxy)
    setup.peer += " via " + setup.proxy->describe();
  setup.options = std::move(options);
  return setup;
}

std::optional<std::chrono::milliseconds> retry_after_for(int status,
                                                         const beast::http::fields &fields) {
  if (status != 429 && status != 503)
    return std::nullopt;
  auto found = fields.find(beast::http::field::retry_after);
  if (found == fields.end())
    return std::nullopt;
  return parse_retry_after(found->value(), std::chrono::system_clock::now());
}

std::string location_for_logs(int status, const beast::http::fields &fields) {
  if (status < 300 || status > 399)
    return {};
  auto found = fields.find(beast::http::field::location);
  if (found == fields.end())
    return " (no Location)";
  constexpr std::size_t kMaxLoggedBytes = 512;
  std::string location = common::url_for_logs(std::string(found->value()));
  if (location.size() > kMaxLoggedBytes)
    location = location.substr(0, kMaxLoggedBytes) + "...";
  return " (Location: " + location + ")";
}

}  // namespace internal

std::unique_ptr<ClientTransport> ClientTransport::create(boost::asio::io_context &io,
                                                         ClientOptions options,
                                                         ClientTransportHandler &handler) {
  auto setup = internal::make_client_setup(std::move(options));
  if (setup.url.websocket)
    return internal::make_websocket_client(io, std::move(setup), handler);
  return internal::make_http_client(io, std::move(setup), handler);
}

}  // namespace opsup::transport
