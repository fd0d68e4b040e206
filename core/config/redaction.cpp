#include "config/redaction.hpp"

#include <yaml-cpp/yaml.h>

#include <array>

#include "common/redact.hpp"
#include "common/yaml_emit.hpp"
#include "config/config_to_yaml.hpp"
#include "config/internal/map_reader.hpp"

namespace opsup::config {
namespace {

using internal::child;

// Credential keys of the auth extensions (and common names third-party ones use).
constexpr std::array<std::string_view, 8> kSecretKeys{
    "token", "tokens", "password", "client_secret", "key_pem", "secret", "api_key", "inline"};

// Replaces every non-empty scalar under `node` (node itself included).
void redact_all(YAML::Node node) {
  if (node.IsScalar()) {
    if (!node.Scalar().empty()) {
      node = std::string(kRedacted);
      node.SetTag("!");
    }
    return;
  }
  if (node.IsMap()) {
    for (auto it = node.begin(); it != node.end(); ++it)
      redact_all(it->second);
  } else if (node.IsSequence()) {
    for (auto it = node.begin(); it != node.end(); ++it)
      redact_all(*it);
  }
}

// Redacts the values of secret-named keys anywhere under `node`.
void redact_secret_keys(YAML::Node node) {
  if (node.IsMap()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      const bool secret = it->first.IsScalar() &&
                          std::find(kSecretKeys.begin(), kSecretKeys.end(), it->first.Scalar()) !=
                              kSecretKeys.end();
      if (secret) {
        redact_all(it->second);
      } else {
        redact_secret_keys(it->second);
      }
    }
  } else if (node.IsSequence()) {
    for (auto it = node.begin(); it != node.end(); ++it)
      redact_secret_keys(*it);
  }
}

}  // namespace

std::string redacted_yaml(const SupervisorConfig &config) {
  YAML::Node tree = effective_config_yaml(config);
  const YAML::Node server = child(tree, "server");
  redact_all(child(server, "headers"));
  redact_all(child(child(server, "proxy"), "connect_headers"));
  if (const YAML::Node url = child(child(server, "proxy"), "url"); url && url.IsScalar())
    child(server, "proxy")["url"] = common::url_for_logs(url.Scalar());  // no credentials
  redact_all(child(child(server, "tls"), "key_pem"));
  redact_all(child(child(child(tree, "healthcheck"), "tls"), "key_pem"));
  redact_secret_keys(child(tree, "extensions"));
  return common::emit_yaml(tree);
}

}  // namespace opsup::config
