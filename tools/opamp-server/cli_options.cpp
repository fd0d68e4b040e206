#include "cli_options.hpp"

#include <charconv>

namespace opsup::opamp_server {

namespace {
uint64_t parse_number(const std::string &text, const std::string &flag, uint64_t max) {
  uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value > max) {
    throw CliError(flag + ": expected a number up to " + std::to_string(max) + ", got '" + text +
                   "'");
  }
  return value;
}
}  // namespace

ListenAddress parse_listen_address(const std::string &text, const std::string &flag) {
  std::size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    throw CliError(flag + ": expected host:port, got '" + text + "'");
  }
  ListenAddress address;
  address.host = text.substr(0, colon);
  if (address.host.size() >= 2 && address.host.front() == '[' && address.host.back() == ']') {
    address.host = address.host.substr(1, address.host.size() - 2);
  }
  address.port = static_cast<uint16_t>(parse_number(text.substr(colon + 1), flag, 65535));
  return address;
}

CliOptions parse_cli(const std::vector<std::string> &args) {
  CliOptions options;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i];
    std::optional<std::string> inline_value;
    if (auto equals = flag.find('='); flag.rfind("--", 0) == 0 && equals != std::string::npos) {
      inline_value = flag.substr(equals + 1);
      flag = flag.substr(0, equals);
    }
    auto value = [&]() -> std::string {
      if (inline_value)
        return *inline_value;
      if (i + 1 >= args.size())
        throw CliError(flag + ": needs a value");
      return args[++i];
    };
    if (flag == "--help" || flag == "-h") {
      options.help = true;
    } else if (flag == "--opamp-listen") {
      options.opamp = parse_listen_address(value(), flag);
    } else if (flag == "--ui-listen") {
      options.ui = parse_listen_address(value(), flag);
    } else if (flag == "--packages-listen") {
      options.packages = parse_listen_address(value(), flag);
    } else if (flag == "--opamp-path") {
      options.opamp_path = value();
      if (options.opamp_path.empty() || options.opamp_path.front() != '/') {
        throw CliError(flag + ": must start with '/'");
      }
    } else if (flag == "--tls-cert") {
      options.tls_cert_file = value();
    } else if (flag == "--tls-key") {
      options.tls_key_file = value();
    } else if (flag == "--tls-self-signed") {
      options.tls_self_signed = true;
    } else if (flag == "--tls-ca-out") {
      options.tls_ca_out = value();
    } else if (flag == "--tls-client-ca") {
      options.tls_client_ca_file = value();
    } else if (flag == "--tls-client-certs") {
      options.tls_client_certs = value();
      if (options.tls_client_certs != "request" && options.tls_client_certs != "require")
        throw CliError("--tls-client-certs: \"" + options.tls_client_certs +
                       "\" is neither request nor require");
    } else if (flag == "--require-header") {
      const std::string header = value();
      const auto colon = header.find(':');
      if (colon == std::string::npos || colon == 0)
        throw CliError(flag + ": expected \"Name: value\", got \"" + header + "\"");
      std::string text = header.substr(colon + 1);
      text.erase(0, text.find_first_not_of(' '));
      options.required_headers.emplace_back(header.substr(0, colon), text);
    } else if (flag == "--public-ui-url") {
      options.public_ui_url = value();
      while (!options.public_ui_url.empty() && options.public_ui_url.back() == '/') {
        options.public_ui_url.pop_back();
      }
    } else if (flag == "--package-signing-key") {
      options.package_signing_key = value();
    } else if (flag == "--package-signing-key-out") {
      options.package_signing_key_out = value();
    } else if (flag == "--data-dir") {
      options.data_dir = value();
    } else if (flag == "--http-poll-interval") {
      options.http_poll_interval = std::chrono::seconds(parse_number(value(), flag, 86400));
      if (options.http_poll_interval.count() == 0)
        throw CliError(flag + ": must be at least 1");
    } else if (flag == "--message-log-size") {
      options.message_log_size = parse_number(value(), flag, 100000);
      if (options.message_log_size == 0)
        throw CliError(flag + ": must be at least 1");
    } else if (flag == "--forget-disconnected-after-seconds") {
      options.forget_disconnected_after =
          std::chrono::seconds(parse_number(value(), flag, 100L * 365 * 86400));
    } else if (flag == "--max-disconnected-agents") {
      options.max_disconnected_agents = parse_number(value(), flag, 100000000);
    } else if (flag == "--handshake-timeout-ms") {
      options.handshake_timeout = std::chrono::milliseconds(parse_number(value(), flag, 3600000));
      if (options.handshake_timeout.count() == 0)
        throw CliError(flag + ": must be at least 1");
    } else if (flag == "--body-timeout-ms") {
      options.body_timeout = std::chrono::milliseconds(parse_number(value(), flag, 3600000));
      if (options.body_timeout.count() == 0)
        throw CliError(flag + ": must be at least 1");
    } else if (flag == "--max-body-bytes-in-flight") {
      options.max_body_bytes_in_flight = parse_number(value(), flag, uint64_t{1} << 40);
      if (options.max_body_bytes_in_flight == 0)
        throw CliError(flag + ": must be at least 1");
    } else if (flag == "--descriptor-reserve") {
      options.descriptor_reserve = parse_number(value(), flag, 100000);
    } else if (flag == "--log-level") {
      options.log_level = value();
      static const char *kLevels[] = {"trace", "debug", "info", "warn", "error", "off"};
      bool known = false;
      for (const char *level : kLevels)
        known = known || options.log_level == level;
      if (!known)
        throw CliError(flag + ": expected trace, debug, info, warn, error or off");
    } else {
      throw CliError("unknown argument '" + args[i] + "' (see --help)");
    }
  }
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    throw CliError("--tls-cert and --tls-key go together");
  }
  if (options.tls_self_signed && !options.tls_cert_file.empty()) {
    throw CliError("--tls-self-signed and --tls-cert exclude each other");
  }
  if (!options.tls_ca_out.empty() && !options.tls_self_signed) {
    throw CliError("--tls-ca-out needs --tls-self-signed");
  }
  if (!options.tls_client_certs.empty() && !options.tls_enabled()) {
    throw CliError("--tls-client-certs needs --tls-cert/--tls-key or --tls-self-signed");
  }
  if (!options.tls_client_ca_file.empty() && !options.tls_enabled()) {
    throw CliError("--tls-client-ca needs --tls-cert/--tls-key or --tls-self-signed");
  }
  if (!options.package_signing_key.empty() && !options.package_signing_key_out.empty()) {
    throw CliError("--package-signing-key and --package-signing-key-out exclude each other");
  }
  return options;
}

std::string usage() {
  return R"(Usage: opamp-server [options]

A reference OpAMP server (WebSocket and plain HTTP on one port) with a web page and a
JSON API to see agents and act on them.

  --opamp-listen HOST:PORT   OpAMP listener (default 127.0.0.1:4320; port 0 picks one)
  --opamp-path PATH          OpAMP path (default /v1/opamp)
  --packages-listen HOST:PORT
                             serve package downloads (GET /packages/NAME, nothing else) on
                             this listener too, over TLS with the OpAMP certificate when
                             OpAMP uses TLS (without asking for client certificates);
                             offered download URLs then point here
  --ui-listen HOST:PORT      web page, JSON API and package downloads (default 127.0.0.1:4321)
  --tls-cert FILE            serve OpAMP over TLS with this certificate (PEM) ...
  --tls-key FILE             ... and this private key (PEM)
  --tls-self-signed          generate a CA and a server certificate at start
  --tls-ca-out FILE          with --tls-self-signed: write the CA certificate (PEM) here
  --tls-client-ca FILE       require client certificates signed by this CA (PEM)
  --tls-client-certs MODE    request|require client certificates issued by the server's own
                             CA (the one signing CSRs); request also admits clients without
  --require-header 'N: V'    refuse OpAMP requests (HTTP 401) that lack header N with value V
                             (repeatable; e.g. an Authorization a client must send)
  --public-ui-url URL        base URL of package downloads (default: the --packages-listen
                             listener's URL, else the UI listener's)
  --data-dir DIR             where uploaded packages are kept (default: a temporary
                             directory removed at exit)
  --package-signing-key FILE ECDSA P-256 private key (PEM) that signs offered packages
                             given without a signature (default: one generated at start;
                             its public key is at GET /api/package-signing-key)
  --package-signing-key-out FILE
                             write the generated signing key here (PEM, mode 0600)
  --http-poll-interval SECS  poll interval assumed for plain-HTTP agents that were not
                             offered a heartbeat interval (default 30)
  --message-log-size N       messages kept per agent and direction (default 200)
  --forget-disconnected-after-seconds SECS
                             forget an agent this long after it disconnected
                             (default 600)
  --max-disconnected-agents N
                             keep at most this many disconnected agents, forgetting
                             the longest disconnected first (default 1000)
  --handshake-timeout-ms MS  an OpAMP connection must finish its TLS handshake and send
                             its first request (POST or WebSocket upgrade) within this
                             (default 10000)
  --body-timeout-ms MS       a request body with no new bytes for this long gets 408
                             (default 10000)
  --max-body-bytes-in-flight BYTES
                             request bodies read at once, per listener; more gets 503
                             (default 268435456)
  --descriptor-reserve N     descriptors the OpAMP listener leaves free for the UI and
                             files (the UI listener keeps a quarter of it) (default 64)
  --log-level LEVEL          trace, debug, info, warn, error, off (default info)
  -h, --help                 this text

On start it prints the bound addresses, then "opamp-server: ready":
  opamp-server: opamp listening on ws://127.0.0.1:4320/v1/opamp
  opamp-server: opamp http endpoint http://127.0.0.1:4320/v1/opamp
  opamp-server: ui listening on http://127.0.0.1:4321/
(and "opamp-server: packages listening on URL" with --packages-listen).
SIGTERM or SIGINT stops it (exit status 0). The JSON API is described in README.md.
)";
}

}  // namespace opsup::opamp_server
