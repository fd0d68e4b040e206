#include <gtest/gtest.h>

#include "checker.hpp"
#include "redact.hpp"

namespace opsup::config_policy {
namespace {

constexpr const char *kConfig = R"(
exporters:
  otlphttp:
    endpoint: https://example.com
    headers:
      Authorization: "Bearer abc123"
      X-Custom: "Basic dXNlcjpwYXNz"
      X-Tenant: team-a
  prometheusremotewrite:
    auth: {password: hunter2, username: bob}
    bearer_token: tok-xyz
    client_secret: [s1, s2]
    api_key: {value: k}
)";

TEST(ConfigPolicyRedact, RedactsTokensPasswordsAndAuthorizationHeaders) {
  const YAML::Node out = redact_secrets(parse_config(kConfig), parse_settings(""));
  const YAML::Node headers = out["exporters"]["otlphttp"]["headers"];
  EXPECT_EQ(headers["Authorization"].as<std::string>(), kRedacted);
  EXPECT_EQ(headers["X-Custom"].as<std::string>(), kRedacted);
  EXPECT_EQ(headers["X-Tenant"].as<std::string>(), "team-a");
  EXPECT_EQ(out["exporters"]["otlphttp"]["endpoint"].as<std::string>(), "https://example.com");
  const YAML::Node prw = out["exporters"]["prometheusremotewrite"];
  EXPECT_EQ(prw["auth"]["password"].as<std::string>(), kRedacted);
  EXPECT_EQ(prw["auth"]["username"].as<std::string>(), "bob");
  EXPECT_EQ(prw["bearer_token"].as<std::string>(), kRedacted);
  EXPECT_EQ(prw["client_secret"][0].as<std::string>(), kRedacted);
  EXPECT_EQ(prw["client_secret"][1].as<std::string>(), kRedacted);
  EXPECT_EQ(prw["api_key"]["value"].as<std::string>(), kRedacted);
  EXPECT_EQ(YAML::Dump(out).find("hunter2"), std::string::npos);
  EXPECT_EQ(YAML::Dump(out).find("abc123"), std::string::npos);
}

TEST(ConfigPolicyRedact, OperatorCanTurnItOffOrChangePatterns) {
  const YAML::Node config = parse_config(kConfig);
  const YAML::Node off = redact_secrets(config, parse_settings("redaction: {enabled: false}"));
  EXPECT_EQ(YAML::Dump(off), YAML::Dump(config));
  const YAML::Node custom =
      redact_secrets(config, parse_settings("redaction: {key_patterns: [tenant]}"));
  const YAML::Node headers = custom["exporters"]["otlphttp"]["headers"];
  EXPECT_EQ(headers["X-Tenant"].as<std::string>(), kRedacted);
  EXPECT_EQ(custom["exporters"]["prometheusremotewrite"]["auth"]["password"].as<std::string>(),
            "hunter2");
  // The input is not modified.
  EXPECT_EQ(config["exporters"]["prometheusremotewrite"]["auth"]["password"].as<std::string>(),
            "hunter2");
}

}  // namespace
}  // namespace opsup::config_policy
