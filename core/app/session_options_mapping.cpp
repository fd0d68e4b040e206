#include "app/session_options_mapping.hpp"

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <variant>

#include "common/uuid.hpp"

namespace opsup::app {
namespace {

std::chrono::milliseconds to_ms(config::Duration duration) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(duration);
}

// Credentials may live in files (the *_file keys); the value is the file's first line.
std::string read_secret(const std::string &inline_value, const std::string &file,
                        const std::string &key) {
  if (file.empty())
    return inline_value;
  std::ifstream in(file);
  if (!in)
    throw std::invalid_argument(key + ": cannot read " + file);
  std::string value;
  std::getline(in, value);
  return value;
}

session::AuthSettings make_auth(const config::SupervisorConfig &config) {
  if (config.server.auth.empty())
    return std::monostate{};
  const config::ExtensionConfig *extension = config.find_extension(config.server.auth);
  if (extension == nullptr) {
    throw std::invalid_argument("server.auth: no extension \"" + config.server.auth +
                                "\" under extensions");
  }
  const std::string prefix = "extensions." + extension->id + ".";
  if (const auto *bearer = std::get_if<config::BearerTokenAuthConfig>(&extension->settings)) {
    session::BearerTokenAuth auth;
    auth.token =
        !bearer->token.empty() || bearer->tokens.empty() ? bearer->token : bearer->tokens.front();
    auth.token_file = bearer->filename;
    auth.header = bearer->header;
    auth.scheme = bearer->scheme;
    return auth;
  }
  if (const auto *basic = std::get_if<config::BasicAuthConfig>(&extension->settings)) {
    session::BasicAuth auth;
    auth.username =
        read_secret(basic->username, basic->username_file, prefix + "client_auth.username_file");
    auth.password =
        read_secret(basic->password, basic->password_file, prefix + "client_auth.password_file");
    return auth;
  }
  const auto &oauth = std::get<config::OAuth2ClientConfig>(extension->settings);
  session::OAuth2ClientCredentialsAuth auth;
  auth.client_id = oauth.client_id;
  auth.client_secret = oauth.client_secret;
  auth.client_id_file = oauth.client_id_file;
  auth.client_secret_file = oauth.client_secret_file;
  auth.token_url = oauth.token_url;
  auth.scopes = oauth.scopes;
  for (const auto &[name, values] : oauth.endpoint_params) {
    for (const auto &value : values)
      auth.endpoint_params.emplace_back(name, value);
  }
  if (oauth.timeout.count() > 0)
    auth.timeout = to_ms(oauth.timeout);
  auth.tls = make_client_tls(oauth.tls);
  return auth;
}

}  // namespace

transport::ClientTlsSettings make_client_tls(const config::TlsClientConfig &tls) {
  transport::ClientTlsSettings settings;
  settings.ca_file = tls.ca_file;
  settings.ca_pem = tls.ca_pem;
  settings.include_system_ca_certs_pool = tls.include_system_ca_certs_pool;
  settings.cert_file = tls.cert_file;
  settings.cert_pem = tls.cert_pem;
  settings.key_file = tls.key_file;
  settings.key_pem = tls.key_pem;
  settings.insecure_skip_verify = tls.insecure_skip_verify;
  settings.server_name_override = tls.server_name_override;
  settings.min_version = tls.min_version;
  settings.max_version = tls.max_version;
  return settings;
}

session::SessionOptions make_session_options(const config::SupervisorConfig &config,
                                             uint64_t advertised_capabilities) {
  session::SessionOptions options;
  options.endpoint = config.server.endpoint;
  for (const auto &header : config.server.headers) {
    options.headers.push_back({header.name, header.value});
  }
  // Upstream loads server.tls only for wss/https (I#35283); so do we.
  if (config.server.uses_tls())
    options.tls = make_client_tls(config.server.tls);
  options.proxy.url = config.server.proxy.url;
  for (const auto &header : config.server.proxy.connect_headers)
    options.proxy.connect_headers.push_back({header.name, header.value});
  options.auth = make_auth(config);
  options.max_message_bytes = config.server.max_message_size_bytes;
  options.connect_timeout = to_ms(config.server.connect_timeout);
  options.reconnect_initial_interval = to_ms(config.server.reconnect.initial_interval);
  options.reconnect_max_interval = to_ms(config.server.reconnect.max_interval);
  options.reconnect_max_server_delay = to_ms(config.server.reconnect.max_server_delay);
  options.shutdown_timeout = to_ms(config.server.shutdown_timeout);
  // OpAMP counts heartbeats in whole seconds; rounding down would turn "500ms" into 0,
  // which means "heartbeats off".
  options.heartbeat_interval =
      std::chrono::ceil<std::chrono::seconds>(config.server.heartbeat_interval);
  options.storage_directory = config.storage.directory;
  if (!config.agent.instance_id.empty()) {
    if (auto uid = common::parse_uuid(config.agent.instance_id))
      options.instance_id = *uid;
  }
  options.capabilities = advertised_capabilities;
  options.description_overrides.identifying_attributes =
      config.agent.description.identifying_attributes;
  options.description_overrides.non_identifying_attributes =
      config.agent.description.non_identifying_attributes;
  return options;
}

}  // namespace opsup::app
