// What a SIGHUP reload sees as changed, and which changes a running supervisor applies.
#include "config/config_diff.hpp"

#include <gtest/gtest.h>

#include <string>

#include "test_support.hpp"

namespace opsup::config {
namespace {

using testing::expect_loads;
using testing::kBase;
using testing::load_text;

SupervisorConfig load(std::string_view extra) {
  return expect_loads(load_text(std::string(kBase) + std::string(extra)));
}

std::string describe(const std::vector<ConfigChange> &changes) {
  std::string text;
  for (const auto &change : changes)
    text += change.key + (change.live ? " (live)\n" : " (restart)\n");
  return text.empty() ? "(none)\n" : text;
}

TEST(ConfigDiff, TheSameFileHasNoChanges) {
  const std::string extra =
      "  config_files: [/etc/otelcol/a.yaml]\n"
      "  description:\n    identifying_attributes:\n      service.name: x\n"
      "telemetry:\n  logs:\n    level: debug\n"
      "plugins:\n  com.example.x:\n    depth: 3\n";
  EXPECT_TRUE(diff_configs(load(extra), load(extra)).empty());
}

TEST(ConfigDiff, AWrittenDefaultIsNoChange) {
  EXPECT_TRUE(diff_configs(load(""), load("  bootstrap_timeout: 3s\n")).empty())
      << describe(diff_configs(load(""), load("  bootstrap_timeout: 3s\n")));
}

TEST(ConfigDiff, LiveKeysAreMarkedLive) {
  const SupervisorConfig before = load("");
  const SupervisorConfig after = load(
      "  config_files: [/etc/otelcol/a.yaml]\n"
      "  description:\n    identifying_attributes:\n      service.name: x\n"
      "    non_identifying_attributes:\n      team: y\n"
      "telemetry:\n  logs:\n    level: debug\n    encoding: console\n"
      "    output_paths: [stderr]\n    error_output_paths: [stdout]\n"
      "    rotation:\n      max_megabytes: 10\n");
  const auto changes = diff_configs(before, after);
  ASSERT_FALSE(changes.empty());
  for (const auto &change : changes)
    EXPECT_TRUE(change.live) << describe(changes);
  std::string keys;
  for (const auto &change : changes)
    keys += change.key + ";";
  for (const char *key :
       {"agent.config_files;", "agent.description.identifying_attributes.service.name;",
        "agent.description.non_identifying_attributes.team;", "telemetry.logs.level;",
        "telemetry.logs.encoding;", "telemetry.logs.output_paths;",
        "telemetry.logs.error_output_paths;", "telemetry.logs.rotation.max_megabytes;"}) {
    EXPECT_NE(keys.find(key), std::string::npos) << key << " in " << keys;
  }
}

TEST(ConfigDiff, HeartbeatIntervalIsLive) {
  const SupervisorConfig before = load("");
  SupervisorConfig after = before;
  after.server.heartbeat_interval = std::chrono::seconds(5);
  const auto changes = diff_configs(before, after);
  ASSERT_EQ(changes.size(), 1u) << describe(changes);
  EXPECT_EQ(changes[0].key, "server.heartbeat_interval");
  EXPECT_TRUE(changes[0].live);
}

TEST(ConfigDiff, KeysThatNeedARestartAreNotLive) {
  const SupervisorConfig before = load("");
  SupervisorConfig after = before;
  after.server.endpoint = "ws://127.0.0.1:9999/v1/opamp";
  after.storage.directory = "/tmp/elsewhere";
  after.agent.executable = "/usr/bin/otelcol-contrib";
  after.agent.config_apply_timeout = std::chrono::seconds(9);
  after.agent.bootstrap_timeout = std::chrono::seconds(9);
  after.agent.description.include_resource_attributes = true;
  after.capabilities.accepts_remote_config.enabled = true;
  after.healthcheck.endpoint = "127.0.0.1:13133";
  after.telemetry.metrics.level = "detailed";
  after.plugins.disable = {"com.example.x"};
  const auto changes = diff_configs(before, after);
  std::string keys;
  for (const auto &change : changes) {
    EXPECT_FALSE(change.live) << change.key;
    keys += change.key + ";";
  }
  EXPECT_EQ(keys,
            "server.endpoint;capabilities.accepts_remote_config;storage.directory;"
            "agent.executable;agent.description.include_resource_attributes;"
            "agent.config_apply_timeout;agent.bootstrap_timeout;telemetry.metrics.level;"
            "healthcheck.endpoint;plugins.disable;");
}

TEST(ConfigDiff, APluginSectionChangeNamesItsKeyAndNeedsARestart) {
  const auto changes = diff_configs(load("plugins:\n  com.example.x:\n    depth: 3\n"),
                                    load("plugins:\n  com.example.x:\n    depth: 4\n"
                                         "  com.example.y:\n    on: true\n"));
  ASSERT_EQ(changes.size(), 2u) << describe(changes);
  EXPECT_EQ(changes[0].key, "plugins.com.example.x.depth");
  EXPECT_EQ(changes[1].key, "plugins.com.example.y.on");
  EXPECT_FALSE(changes[0].live);
  EXPECT_FALSE(changes[1].live);
}

TEST(ConfigDiff, AddedAndRemovedAgentRunAsIsAChange) {
  const SupervisorConfig before = load("");
  SupervisorConfig after = before;
  RunAsConfig run_as;
  run_as.user = "otelcol";
  after.agent.run_as = run_as;
  const auto added = diff_configs(before, after);
  ASSERT_FALSE(added.empty());
  EXPECT_EQ(added[0].key, "agent.run_as.user");
  EXPECT_FALSE(added[0].live);
  EXPECT_FALSE(diff_configs(after, before).empty());
}

TEST(ConfigDiff, ValuesNeverAppearInTheKeys) {
  const SupervisorConfig before = load("");
  SupervisorConfig after = before;
  after.server.headers = {{"Authorization", "Bearer s3cret"}};
  const auto changes = diff_configs(before, after);
  ASSERT_FALSE(changes.empty());
  for (const auto &change : changes)
    EXPECT_EQ(change.key.find("s3cret"), std::string::npos) << change.key;
}

TEST(ConfigDiff, AppliesWhileRunningMatchesWholeKeysOnly) {
  EXPECT_TRUE(applies_while_running("agent.config_files"));
  EXPECT_TRUE(applies_while_running("agent.description.identifying_attributes.host.name"));
  EXPECT_FALSE(applies_while_running("agent.config_files_extra"));
  EXPECT_FALSE(applies_while_running("agent.description"));
  EXPECT_FALSE(applies_while_running("telemetry.logs.processors"));
}

}  // namespace
}  // namespace opsup::config
