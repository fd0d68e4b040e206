// Pieces shared by the WebSocket and plain-HTTP OpAMP clients.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/fields.hpp>
#include <functional>
#include <memory>
#include <string>

#include "transport/client_transport.hpp"
#include "transport/internal/client_connector.hpp"
#include "transport/internal/endpoint_url.hpp"

namespace opsup::transport::internal {

// What both client kinds need from the options, computed once at create().
struct ClientSetup {
  ClientOptions options;
  EndpointUrl url;
  std::shared_ptr<asio::ssl::context> tls;  // wss/https only
  std::string peer;                         // "ws://host:4320/v1/opamp" (+ " via unix:...")
  std::optional<ProxyTarget> proxy;         // options.proxy, parsed

  ConnectTarget target() const;
  // Static headers, then dynamic ones; a name given here replaces a default of `fields`.
  void apply_headers(beast::http::fields &fields) const;
};

ClientSetup make_client_setup(ClientOptions options);

inline DisconnectInfo disconnect(std::string reason) {
  DisconnectInfo info;
  info.reason = std::move(reason);
  return info;
}

// Retry-After of a refused request, as opamp-go reads it: only on 429 and 503.
std::optional<std::chrono::milliseconds> retry_after_for(int status,
                                                         const beast::http::fields &fields);

// " (Location: <url>)" for a redirect that names one (userinfo redacted), else "". The
// client does not follow redirects; the log says where the server pointed.
std::string location_for_logs(int status, const beast::http::fields &fields);

std::unique_ptr<ClientTransport> make_websocket_client(asio::io_context &io, ClientSetup setup,
                                                       ClientTransportHandler &handler);
std::unique_ptr<ClientTransport> make_http_client(asio::io_context &io, ClientSetup setup,
                                                  ClientTransportHandler &handler);

}  // namespace opsup::transport::internal
