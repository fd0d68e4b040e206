// opamp-server: wires the OpAMP listener, the agent registry and the web UI/JSON API onto
// one io_context thread.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "actions.hpp"
#include "agent_registry.hpp"
#include "agent_sweeper.hpp"
#include "cli_options.hpp"
#include "http_api.hpp"
#include "opamp_endpoint.hpp"
#include "package_signer.hpp"
#include "package_store.hpp"
#include "tls_selfsigned.hpp"
#include "transport/http_server.hpp"
#include "transport/server_transport.hpp"

namespace server = opsup::opamp_server;
namespace transport = opsup::transport;

namespace {
// Hundreds of agents need more descriptors than the usual soft limit of 1024.
void raise_open_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

void write_private_file(const std::string &path, const std::string &content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out)
    throw std::runtime_error("cannot write " + path);
}

std::filesystem::path make_data_dir(const server::CliOptions &options, bool &temporary) {
  temporary = options.data_dir.empty();
  if (!temporary) {
    std::filesystem::create_directories(options.data_dir);
    return options.data_dir;
  }
  std::string pattern = (std::filesystem::temp_directory_path() / "opamp-server-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("cannot create a temporary directory from " + pattern);
  }
  return pattern;
}

std::optional<transport::ServerTlsSettings> tls_settings(const server::CliOptions &options,
                                                         const server::CertificateAuthority &ca) {
  if (!options.tls_enabled())
    return std::nullopt;
  transport::ServerTlsSettings tls;
  if (options.tls_self_signed) {
    std::vector<std::string> hosts{"localhost", "127.0.0.1", "::1"};
    const std::string &host = options.opamp.host;
    if (!host.empty() && host != "0.0.0.0" && host != "::" && host != "localhost" &&
        host != "127.0.0.1" && host != "::1") {
      hosts.insert(hosts.begin(), host);
    }
    server::IssuedCertificate issued = ca.issue_server_certificate(hosts);
    tls.cert_pem = issued.cert_pem;
    tls.key_pem = issued.key_pem;
    if (!options.tls_ca_out.empty()) {
      write_private_file(options.tls_ca_out, ca.ca_cert_pem());
      std::cout << "opamp-server: ca certificate written to " << options.tls_ca_out << std::endl;
    }
  } else {
    tls.cert_file = options.tls_cert_file;
    tls.key_file = options.tls_key_file;
  }
  if (!options.tls_client_ca_file.empty()) {
    tls.client_ca_file = options.tls_client_ca_file;
    tls.require_client_certificate = true;
  }
  if (!options.tls_client_certs.empty()) {
    tls.client_ca_pem = ca.ca_cert_pem();
    if (options.tls_client_certs == "require")
      tls.require_client_certificate = true;
  }
  return tls;
}

int run(const server::CliOptions &options) {
  raise_open_file_limit();
  boost::asio::io_context io;
  boost::asio::thread_pool workers(1);

  server::CertificateAuthority ca = server::CertificateAuthority::generate("opamp-server CA");
  bool temporary_data_dir = false;
  std::filesystem::path data_dir = make_data_dir(options, temporary_data_dir);

  server::AgentRegistry registry(
      server::RegistryOptions{options.message_log_size, options.http_poll_interval,
                              options.forget_disconnected_after, options.max_disconnected_agents});
  server::AgentSweeper sweeper(io, registry);
  server::OpampEndpoint endpoint(registry, &ca);
  endpoint.set_required_headers(options.required_headers);
  server::PackageStore packages(io, workers, data_dir);
  const server::PackageSigner signer =
      options.package_signing_key.empty()
          ? server::PackageSigner::generate(options.package_signing_key_out)
          : server::PackageSigner::load(options.package_signing_key);
  if (!options.package_signing_key_out.empty()) {
    std::cout << "opamp-server: package signing key written to " << options.package_signing_key_out
              << std::endl;
  }
  std::unique_ptr<transport::HttpServer> ui_server;
  std::unique_ptr<transport::HttpServer> packages_server;
  server::Actions actions(registry, endpoint, packages, signer, [&]() {
    if (!options.public_ui_url.empty())
      return options.public_ui_url;
    return packages_server ? packages_server->base_url() : ui_server->base_url();
  });
  server::HttpApi api(registry, actions, packages, [&io](std::function<void()> task) {
    boost::asio::post(io, std::move(task));
  });

  transport::ServerOptions opamp_options;
  opamp_options.listen_address = options.opamp.host;
  opamp_options.port = options.opamp.port;
  opamp_options.path = options.opamp_path;
  opamp_options.tls = tls_settings(options, ca);
  std::optional<transport::ServerTlsSettings> packages_tls = opamp_options.tls;
  if (packages_tls) {
    // Package clients are not OpAMP agents: no client certificate is asked of them.
    packages_tls->client_ca_file.clear();
    packages_tls->client_ca_pem.clear();
    packages_tls->require_client_certificate = false;
  }
  opamp_options.handshake_timeout = options.handshake_timeout;
  opamp_options.body_timeout = options.body_timeout;
  opamp_options.max_body_bytes_in_flight = options.max_body_bytes_in_flight;
  opamp_options.descriptor_reserve = options.descriptor_reserve;
  auto opamp_server = transport::ServerTransport::create(io, opamp_options, endpoint);

  transport::HttpServerOptions ui_options;
  ui_options.listen_address = options.ui.host;
  ui_options.port = options.ui.port;
  ui_options.body_timeout = options.body_timeout;
  ui_options.max_body_bytes_in_flight = options.max_body_bytes_in_flight;
  ui_options.descriptor_reserve = options.descriptor_reserve / 4;
  ui_server = transport::HttpServer::create(
      io, ui_options,
      [&api](const transport::HttpServerRequest &request,
             std::function<void(transport::HttpServerResponse)> respond) {
        api.handle(request, std::move(respond));
      });

  if (options.packages) {
    transport::HttpServerOptions packages_options = ui_options;
    packages_options.listen_address = options.packages->host;
    packages_options.port = options.packages->port;
    packages_options.tls = packages_tls;
    packages_server = transport::HttpServer::create(
        io, packages_options,
        [&api](const transport::HttpServerRequest &request,
               std::function<void(transport::HttpServerResponse)> respond) {
          if (!request.path.starts_with("/packages/")) {
            return respond(transport::HttpServerResponse::text(
                404, "this listener serves only /packages/NAME\n"));
          }
          api.handle(request, std::move(respond));
        });
  }

  opamp_server->start();
  ui_server->start();
  if (packages_server)
    packages_server->start();
  sweeper.start();
  endpoint.set_own_urls(opamp_server->websocket_url(), opamp_server->http_url());
  api.set_urls({opamp_server->websocket_url(), opamp_server->http_url(), ui_server->base_url()});

  std::cout << "opamp-server: opamp listening on " << opamp_server->websocket_url() << "\n"
            << "opamp-server: opamp http endpoint " << opamp_server->http_url() << "\n"
            << "opamp-server: ui listening on " << ui_server->base_url() << "/\n";
  if (packages_server)
    std::cout << "opamp-server: packages listening on " << packages_server->base_url() << "/\n";
  std::cout << "opamp-server: ready" << std::endl;

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code &error, int signal_number) {
    if (error)
      return;
    spdlog::info("received {}, stopping", signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
    sweeper.stop();
    opamp_server->stop();
    ui_server->stop();
    if (packages_server)
      packages_server->stop();
    io.stop();
  });

  io.run();
  workers.join();
  if (temporary_data_dir) {
    std::error_code ignored;
    std::filesystem::remove_all(data_dir, ignored);
  }
  spdlog::info("stopped");
  return 0;
}
}  // namespace

int main(int argc, char **argv) {
  std::signal(SIGPIPE, SIG_IGN);
  server::CliOptions options;
  try {
    options = server::parse_cli(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const server::CliError &error) {
    std::cerr << "opamp-server: " << error.what() << "\n";
    return 2;
  }
  if (options.help) {
    std::cout << server::usage();
    return 0;
  }
  auto logger = spdlog::stderr_color_mt("opamp-server");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(options.log_level));
  try {
    return run(options);
  } catch (const std::exception &error) {
    spdlog::error("{}", error.what());
    std::cerr << "opamp-server: " << error.what() << "\n";
    return 1;
  }
}
