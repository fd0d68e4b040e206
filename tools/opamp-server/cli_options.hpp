// Command line of opamp-server.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace opsup::opamp_server {

struct ListenAddress {
  std::string host;
  uint16_t port = 0;
};

struct CliOptions {
  bool help = false;
  ListenAddress opamp{"127.0.0.1", 4320};
  ListenAddress ui{"127.0.0.1", 4321};
  // --packages-listen: a listener serving only package downloads, over TLS when OpAMP is.
  std::optional<ListenAddress> packages;
  std::string opamp_path = "/v1/opamp";
  std::string tls_cert_file;
  std::string tls_key_file;
  bool tls_self_signed = false;
  std::string tls_ca_out;
  std::string tls_client_ca_file;
  // --tls-client-certs request|require: ask TLS clients for a certificate issued by the
  // server's own CA (the one that signs CSRs); "require" refuses clients without one.
  std::string tls_client_certs;
  std::string public_ui_url;            // base of package download URLs; default: the UI listener
  std::string data_dir;                 // uploaded packages; default: a temporary directory
  std::string package_signing_key;      // PEM ECDSA P-256 private key; default: generated
  std::string package_signing_key_out;  // where a generated key is written (0600)
  // --require-header "Name: value": OpAMP requests without it are refused with 401.
  std::vector<std::pair<std::string, std::string>> required_headers;
  std::chrono::seconds http_poll_interval{30};
  std::size_t message_log_size = 200;
  std::chrono::seconds forget_disconnected_after{600};
  std::size_t max_disconnected_agents = 1000;
  std::chrono::milliseconds handshake_timeout{10000};
  std::chrono::milliseconds body_timeout{10000};
  std::size_t max_body_bytes_in_flight = 256 * 1024 * 1024;
  std::size_t descriptor_reserve = 64;
  std::string log_level = "info";

  bool tls_enabled() const { return tls_self_signed || !tls_cert_file.empty(); }
};

class CliError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws CliError naming the bad argument.
CliOptions parse_cli(const std::vector<std::string> &args);
// "host:port" or "[v6]:port"; port 0 is allowed.
ListenAddress parse_listen_address(const std::string &text, const std::string &flag);
std::string usage();

}  // namespace opsup::opamp_server
