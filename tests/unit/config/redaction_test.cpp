// redacted_yaml: the whole effective config for modules, secrets hidden, types kept.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "config/redaction.hpp"
#include "test_support.hpp"

namespace opsup::config {
namespace {

using testing::expect_loads;
using testing::load_text;
using testing::options_with;

const char *kSecrets[] = {"hdr-secret-1",  "hdr-secret-2", "PEM-KEY-MATERIAL", "HC-KEY-MATERIAL",
                          "bearer-secret", "basic-secret", "oauth-secret",     "oauth-tls-key"};

const std::string kConfig = R"(server:
  endpoint: wss://opamp.example.com/v1/opamp
  headers:
    Authorization: "Bearer hdr-secret-1"
    X-Api-Keys: [hdr-secret-2]
  tls:
    cert_file: /etc/ssl/client.pem
    key_pem: "PEM-KEY-MATERIAL"
  auth: bearertokenauth
agent:
  executable: /usr/bin/otelcol
  description:
    identifying_attributes:
      build: "0123"
      enabled: 'true'
      ref: ${env:MISSING_IS_FINE:-kept}
healthcheck:
  endpoint: localhost:13133
  tls:
    cert_file: /etc/ssl/hc.pem
    key_pem: HC-KEY-MATERIAL
extensions:
  bearertokenauth:
    token: bearer-secret
  basicauth/upstream:
    client_auth:
      username: collector
      password: basic-secret
  oauth2client:
    client_id: supervisor
    client_secret: oauth-secret
    token_url: https://auth.example.com/token
    tls:
      cert_pem: cert
      key_pem: oauth-tls-key
plugins:
  com.example.inventory:
    count: "42"
    raw: 42
    flag: 'false'
)";

YAML::Node redacted() {
  const SupervisorConfig config =
      expect_loads(load_text(kConfig, options_with({}, {kExtensionsFeatureGate})));
  return YAML::Load(redacted_yaml(config));
}

TEST(Redaction, HidesEverySecret) {
  const SupervisorConfig config =
      expect_loads(load_text(kConfig, options_with({}, {kExtensionsFeatureGate})));
  const std::string text = redacted_yaml(config);
  for (const char *secret : kSecrets) {
    EXPECT_EQ(text.find(secret), std::string::npos) << secret << " leaked:\n" << text;
  }
  const YAML::Node node = YAML::Load(text);
  EXPECT_EQ(node["server"]["headers"]["Authorization"].as<std::string>(), kRedacted);
  EXPECT_EQ(node["server"]["headers"]["X-Api-Keys"][0].as<std::string>(), kRedacted);
  EXPECT_EQ(node["server"]["tls"]["key_pem"].as<std::string>(), kRedacted);
  EXPECT_EQ(node["healthcheck"]["tls"]["key_pem"].as<std::string>(), kRedacted);
  EXPECT_EQ(node["extensions"]["bearertokenauth"]["token"].as<std::string>(), kRedacted);
  EXPECT_EQ(node["extensions"]["basicauth/upstream"]["client_auth"]["password"].as<std::string>(),
            kRedacted);
  EXPECT_EQ(node["extensions"]["oauth2client"]["client_secret"].as<std::string>(), kRedacted);
  EXPECT_EQ(node["extensions"]["oauth2client"]["tls"]["key_pem"].as<std::string>(), kRedacted);
  // Not secrets: kept.
  EXPECT_EQ(node["server"]["tls"]["cert_file"].as<std::string>(), "/etc/ssl/client.pem");
  EXPECT_EQ(node["extensions"]["basicauth/upstream"]["client_auth"]["username"].as<std::string>(),
            "collector");
  EXPECT_EQ(node["extensions"]["oauth2client"]["client_id"].as<std::string>(), "supervisor");
  // The typed config itself is untouched.
  EXPECT_EQ(config.server.headers[0].value, "Bearer hdr-secret-1");
}

TEST(Redaction, KeepsScalarTypes) {
  const YAML::Node node = redacted();
  const YAML::Node attributes = node["agent"]["description"]["identifying_attributes"];
  EXPECT_EQ(attributes["build"].Tag(), "!");
  EXPECT_EQ(attributes["build"].Scalar(), "0123");
  EXPECT_EQ(attributes["enabled"].Tag(), "!");
  EXPECT_EQ(attributes["ref"].Scalar(), "kept");
  const YAML::Node module = node["plugins"]["com.example.inventory"];
  EXPECT_EQ(module["count"].Tag(), "!");
  EXPECT_EQ(module["raw"].Tag(), "?");
  EXPECT_EQ(module["raw"].as<int>(), 42);
  EXPECT_EQ(module["flag"].Tag(), "!");
  EXPECT_EQ(module["flag"].Scalar(), "false");
}

TEST(Redaction, FillsInDefaultsForModules) {
  const YAML::Node node = redacted();
  EXPECT_EQ(node["agent"]["config_apply_timeout"].as<std::string>(), "5s");
  EXPECT_EQ(node["agent"]["bootstrap_timeout"].as<std::string>(), "3s");
  EXPECT_TRUE(node["capabilities"]["reports_health"].as<bool>());
  EXPECT_FALSE(node["capabilities"]["accepts_remote_config"].as<bool>());
  EXPECT_EQ(node["storage"]["directory"].as<std::string>(), "/var/lib/otelcol/supervisor");
  EXPECT_EQ(node["server"]["reconnect"]["max_interval"].as<std::string>(), "1m0s");
  EXPECT_EQ(node["server"]["reconnect"]["max_server_delay"].as<std::string>(), "1h0m0s");
  EXPECT_EQ(node["extensions"]["bearertokenauth"]["header"].as<std::string>(), "Authorization");
  // Written values win over defaults and keep their place.
  EXPECT_EQ(node["server"]["endpoint"].as<std::string>(), "wss://opamp.example.com/v1/opamp");
  EXPECT_EQ(node.begin()->first.Scalar(), "server");
}

TEST(Redaction, OutputLoadsAsASupervisorConfigAgain) {
  const SupervisorConfig config =
      expect_loads(load_text(kConfig, options_with({}, {kExtensionsFeatureGate})));
  const LoadResult again =
      load_text(redacted_yaml(config), options_with({}, {kExtensionsFeatureGate}));
  const SupervisorConfig reloaded = expect_loads(again);
  EXPECT_EQ(reloaded.agent.config_apply_timeout, config.agent.config_apply_timeout);
  EXPECT_EQ(reloaded.agent.description.identifying_attributes,
            config.agent.description.identifying_attributes);
  EXPECT_EQ(reloaded.server.headers[0].value, kRedacted);
}

}  // namespace
}  // namespace opsup::config
