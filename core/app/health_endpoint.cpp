#include "app/health_endpoint.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <stdexcept>

#include "transport/http_server.hpp"

namespace opsup::app {
namespace {

boost::json::array strings(const std::vector<std::string> &items) {
  boost::json::array array;
  for (const auto &item : items)
    array.emplace_back(item);
  return array;
}

// "host:port" → host and port; an empty host listens on every interface, as Go does.
std::pair<std::string, std::uint16_t> split_endpoint(const std::string &endpoint) {
  const std::size_t colon = endpoint.rfind(':');
  if (colon == std::string::npos)
    throw std::invalid_argument("healthcheck.endpoint: no port in \"" + endpoint + "\"");
  std::string host = endpoint.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty())
    host = "0.0.0.0";
  else if (host == "localhost")
    host = "127.0.0.1";
  const int port = std::stoi(endpoint.substr(colon + 1));
  return {host, static_cast<std::uint16_t>(port)};
}

}  // namespace

bool ready(const HealthSnapshot &snapshot) {
  const bool collector_ok =
      snapshot.collector_expected_to_run
          ? snapshot.collector_running && snapshot.collector_health == "healthy"
          : true;
  return snapshot.server_connected && collector_ok;
}

std::string health_json(const HealthSnapshot &snapshot) {
  boost::json::object body;
  body["status"] = ready(snapshot) ? "ready" : "not ready";
  body["server"] = boost::json::object{{"connected", snapshot.server_connected},
                                       {"since", snapshot.server_since},
                                       {"last_error", snapshot.server_last_error}};
  body["collector"] = boost::json::object{{"running", snapshot.collector_running},
                                          {"expected_to_run", snapshot.collector_expected_to_run},
                                          {"health", snapshot.collector_health},
                                          {"pid", snapshot.collector_pid},
                                          {"restarts", snapshot.collector_restarts},
                                          {"generation", snapshot.collector_generation},
                                          {"last_error", snapshot.collector_last_error}};
  body["modules"] = boost::json::object{{"started", strings(snapshot.modules_started)},
                                        {"refused", strings(snapshot.modules_refused)},
                                        {"failed", strings(snapshot.modules_failed)}};
  return boost::json::serialize(body) + "\n";
}

struct HealthEndpoint::Impl {
  std::unique_ptr<transport::HttpServer> server;
};

HealthEndpoint::HealthEndpoint(boost::asio::io_context &io, const config::HealthCheckConfig &config,
                               std::function<HealthSnapshot()> snapshot)
    : impl_(std::make_unique<Impl>()) {
  transport::HttpServerOptions options;
  std::tie(options.listen_address, options.port) = split_endpoint(config.endpoint);
  options.max_request_body_bytes = 4096;  // probes send no body
  if (config.tls) {
    transport::ServerTlsSettings tls;
    tls.cert_file = config.tls->cert_file;
    tls.cert_pem = config.tls->cert_pem;
    tls.key_file = config.tls->key_file;
    tls.key_pem = config.tls->key_pem;
    tls.client_ca_file = config.tls->client_ca_file;
    tls.require_client_certificate = !config.tls->client_ca_file.empty();
    options.tls = tls;
  }
  auto handler = [snapshot = std::move(snapshot)](
                     const transport::HttpServerRequest &request,
                     std::function<void(transport::HttpServerResponse)> respond) {
    if (request.method != "GET" && request.method != "HEAD") {
      respond(transport::HttpServerResponse::text(405, "only GET\n"));
      return;
    }
    const HealthSnapshot now = snapshot();
    int status = 0;
    if (request.path == "/health" || request.path == "/health/live") {
      status = 200;
    } else if (request.path == "/health/ready") {
      status = ready(now) ? 200 : 503;
    } else {
      respond(transport::HttpServerResponse::text(404, "not found\n"));
      return;
    }
    respond(transport::HttpServerResponse::text(status, health_json(now), "application/json"));
  };
  try {
    impl_->server = transport::HttpServer::create(io, options, std::move(handler));
  } catch (const std::invalid_argument &error) {
    throw std::invalid_argument(std::string("healthcheck.tls: ") + error.what());
  }
}

HealthEndpoint::~HealthEndpoint() {
  if (impl_->server)
    impl_->server->stop();
}

void HealthEndpoint::start() {
  impl_->server->start();
}

std::uint16_t HealthEndpoint::port() const {
  return impl_->server->port();
}

}  // namespace opsup::app
