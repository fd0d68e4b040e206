#include <gtest/gtest.h>

#include "settings.hpp"

namespace opsup::config_policy {
namespace {

std::string error_of(std::string_view yaml) {
  try {
    parse_settings(yaml);
  } catch (const SettingsError &e) {
    return e.what();
  }
  return "";
}

TEST(ConfigPolicySettings, EmptySectionGivesPermissiveDefaults) {
  for (std::string_view yaml : {"", "~", "{}"}) {
    const Settings s = parse_settings(yaml);
    EXPECT_EQ(s.mode, Mode::refuse);
    EXPECT_TRUE(s.read_dirs.allow.empty() && s.read_dirs.deny.empty());
    EXPECT_TRUE(s.write_dirs.allow.empty() && s.write_dirs.deny.empty());
    EXPECT_TRUE(s.components.empty());
    EXPECT_TRUE(s.allowed_hosts.empty());
    EXPECT_TRUE(s.redact);
    EXPECT_EQ(s.secret_key_patterns.size(), 6u);
  }
}

TEST(ConfigPolicySettings, ReadsEveryKey) {
  const Settings s = parse_settings(R"(
mode: sanitise
access_dirs:
  read: {allow: [/var/log], deny: [/var/log/secure]}
  write: {allow: [/var/lib/otelcol]}
components:
  receivers: {deny: [exec]}
endpoints:
  allowed_hosts: [localhost, "*.example.com"]
redaction:
  enabled: false
  key_patterns: [pin]
)");
  EXPECT_EQ(s.mode, Mode::sanitise);
  EXPECT_EQ(s.read_dirs.allow, std::vector<std::string>{"/var/log"});
  EXPECT_EQ(s.read_dirs.deny, std::vector<std::string>{"/var/log/secure"});
  EXPECT_EQ(s.write_dirs.allow, std::vector<std::string>{"/var/lib/otelcol"});
  EXPECT_EQ(s.components.at("receivers").deny, std::vector<std::string>{"exec"});
  EXPECT_EQ(s.allowed_hosts.size(), 2u);
  EXPECT_FALSE(s.redact);
  EXPECT_EQ(s.secret_key_patterns, std::vector<std::string>{"pin"});
}

TEST(ConfigPolicySettings, ErrorsNameTheKey) {
  EXPECT_EQ(error_of("mode: lenient"),
            "plugins.config_policy.mode: must be 'refuse' or 'sanitise', got 'lenient'");
  EXPECT_EQ(error_of("access_dirs: {read: {allow: [var/log]}}"),
            "plugins.config_policy.access_dirs.read.allow[0]: must be an absolute path, got "
            "'var/log'");
  EXPECT_EQ(error_of("access_dirs: {read: {allow: /var/log}}"),
            "plugins.config_policy.access_dirs.read.allow: must be a list of strings");
  EXPECT_EQ(error_of("components: {pipelines: {deny: [x]}}")
                .rfind("plugins.config_policy.components.pipelines: unknown key", 0),
            0u);
  EXPECT_EQ(error_of("colour: blue").rfind("plugins.config_policy.colour: unknown key", 0), 0u);
  EXPECT_EQ(error_of("redaction: {enabled: maybe}"),
            "plugins.config_policy.redaction.enabled: must be true or false, got 'maybe'");
  EXPECT_EQ(error_of("[unclosed").rfind("plugins.config_policy.(section): is not valid YAML", 0),
            0u);
}

TEST(ConfigPolicySettings, RefusesOversizedInput) {
  const std::string huge(kMaxSettingsBytes + 1, ' ');
  EXPECT_NE(error_of(huge).find("longer than"), std::string::npos);
}

}  // namespace
}  // namespace opsup::config_policy
