// The remote_config module's settings and what it persists, without the module.
#include <gtest/gtest.h>

#include "settings.hpp"
#include "stored_status.hpp"

namespace opsup::remote_config {
namespace {

using namespace std::chrono_literals;

TEST(RemoteConfigSettings, GoDurationsReadLikeGo) {
  EXPECT_EQ(parse_go_duration("5s"), 5000ms);
  EXPECT_EQ(parse_go_duration("1m30s"), 90000ms);
  EXPECT_EQ(parse_go_duration("250ms"), 250ms);
  EXPECT_EQ(parse_go_duration("1.5h"), 5400000ms);
  EXPECT_EQ(parse_go_duration("0"), 0ms);
  EXPECT_FALSE(parse_go_duration("-1s"));
  EXPECT_FALSE(parse_go_duration("5"));
  EXPECT_FALSE(parse_go_duration("5 s"));
  EXPECT_FALSE(parse_go_duration(""));
}

TEST(RemoteConfigSettings, TheAgentKeysAreReadWithUpstreamDefaults) {
  const Settings defaults = parse_settings("agent:\n  executable: /x\n");
  EXPECT_EQ(defaults.apply_timeout, 5000ms);
  EXPECT_FALSE(defaults.validate_config);
  EXPECT_FALSE(defaults.automatic_rollback);
  EXPECT_TRUE(defaults.startup_fallback_configs.empty());

  const Settings set = parse_settings(
      "agent:\n  config_apply_timeout: 3s\n  validate_config: true\n"
      "  automatic_config_rollback: true\n  startup_fallback_configs: [/a.yaml, /b.yaml]\n");
  EXPECT_EQ(set.apply_timeout, 3000ms);
  EXPECT_TRUE(set.validate_config);
  EXPECT_TRUE(set.automatic_rollback);
  ASSERT_EQ(set.startup_fallback_configs.size(), 2u);
  EXPECT_EQ(set.startup_fallback_configs[1], "/b.yaml");

  EXPECT_THROW(parse_settings("agent:\n  config_apply_timeout: soon\n"), std::invalid_argument);
}

TEST(RemoteConfigStoredStatus, RoundTripsInTheGoSupervisorsFormat) {
  const StoredStatus status{3, std::string("\x9f\x86\x00\x81", 4), "bad: \"quoted\"\nline"};
  const std::string yaml = status_yaml(status);
  EXPECT_NE(yaml.find("last_remote_config_hash: \"9f860081\""), std::string::npos) << yaml;
  const auto back = parse_status_yaml(yaml);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->status, 3);
  EXPECT_EQ(back->hash, status.hash);
  EXPECT_EQ(back->error_message, status.error_message);
  // As the Go supervisor writes it (block style).
  const auto go =
      parse_status_yaml("status: 1\nlast_remote_config_hash: \"0a0b\"\nerror_message: \"\"\n");
  ASSERT_TRUE(go);
  EXPECT_EQ(go->hash, "\x0a\x0b");
  EXPECT_FALSE(parse_status_yaml("status: 1\nlast_remote_config_hash: xyz\n"));
  EXPECT_FALSE(parse_status_yaml("- not a map\n"));
}

TEST(RemoteConfigFailedHashes, RememberReasonsBoundedAndSurviveTheirYaml) {
  FailedHashes hashes;
  hashes.add("a", "first reason");
  hashes.add("b", "second");
  EXPECT_EQ(hashes.reason("a"), "first reason");
  EXPECT_FALSE(hashes.reason("c"));
  const FailedHashes back = FailedHashes::from_yaml(hashes.to_yaml());
  EXPECT_EQ(back.reason("b"), "second");
  EXPECT_EQ(back.size(), 2u);

  FailedHashes many;
  for (int i = 0; i < 40; ++i)
    many.add("hash" + std::to_string(i), "r");
  EXPECT_EQ(many.size(), FailedHashes::kMaxFailedHashes);
  EXPECT_FALSE(many.reason("hash0"));  // the oldest went first
  EXPECT_TRUE(many.reason("hash39"));
  EXPECT_EQ(FailedHashes::from_yaml("{not: a list}").size(), 0u);
}

}  // namespace
}  // namespace opsup::remote_config
