// The built effective_config.so in the SDK's FakeHost: which config it reports (the
// Collector's own report, else the composed config), when it changes, and when it does not
// send at all, seen through the AgentToServer.effective_config fields it sets.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include <opsup/testing/loaded_module.hpp>
#include "opamp.pb.h"

namespace {

namespace proto = ::opamp::proto::v1;
using Files = std::map<std::string, std::string>;  // name -> body

// What the Collector's extension sends: an EffectiveConfig with these files (text/yaml).
std::string collector_report(const Files &files) {
  proto::AgentToServer message;
  message.set_instance_uid(std::string(16, '\x01'));
  auto &map = *message.mutable_effective_config()->mutable_config_map()->mutable_config_map();
  for (const auto &[name, body] : files) {
    map[name].set_body(body);
    map[name].set_content_type("text/yaml");
  }
  return message.SerializeAsString();
}

class EffectiveConfigModule : public opsup::testing::LoadedModule {
 protected:
  EffectiveConfigModule() : LoadedModule(OPSUP_EFFECTIVE_CONFIG_MODULE) {}

  size_t sent() { return host().agent_fields().size(); }

  // The effective_config field of the module's latest set_agent_fields.
  proto::EffectiveConfig last_report() {
    EXPECT_FALSE(host().agent_fields().empty());
    if (host().agent_fields().empty())
      return {};
    proto::AgentToServer fields;
    EXPECT_TRUE(fields.ParseFromString(host().agent_fields().back()));
    EXPECT_TRUE(fields.has_effective_config());
    return fields.effective_config();
  }

  // The latest report as name -> body.
  Files last_files() {
    Files files;
    const proto::EffectiveConfig report = last_report();
    for (const auto &[name, file] : report.config_map().config_map())
      files[name] = file.body();
    return files;
  }

  void started(uint64_t generation, int64_t pid = 4242) {
    host().deliver_event(OPSUP_EVENT_COLLECTOR_STARTED, "", pid, 0, generation);
  }
  void exited(uint64_t generation, int32_t exit_code = 0, int64_t pid = 4242) {
    host().deliver_event(OPSUP_EVENT_COLLECTOR_EXITED, "", pid, exit_code, generation);
  }
};

TEST_F(EffectiveConfigModule, OwnsReportsEffectiveConfigAndReadsTheEffectiveConfigField) {
  const opsup_module_descriptor &descriptor = host().descriptor();
  EXPECT_STREQ(descriptor.id, "effective_config");
  EXPECT_EQ(descriptor.abi_minor, 3u);
  EXPECT_EQ(descriptor.capabilities, OPSUP_CAP_REPORTS_EFFECTIVE_CONFIG);
  ASSERT_EQ(descriptor.agent_to_server_field_count, 1u);
  EXPECT_EQ(descriptor.agent_to_server_fields[0], uint32_t{OPSUP_A2S_EFFECTIVE_CONFIG});
  EXPECT_EQ(descriptor.server_to_agent_field_count, 0u);
  EXPECT_TRUE(host().custom_capabilities().empty());
}

TEST_F(EffectiveConfigModule, SendsNothingBeforeAnyConfigIsKnown) {
  start();
  started(1);
  EXPECT_EQ(sent(), 0u);
  EXPECT_TRUE(host().rejected_agent_fields().empty());
}

TEST_F(EffectiveConfigModule, ReportsTheComposedConfigAsOneYamlFileNamedEmpty) {
  host().set_composed_config("receivers:\n  nop: {}\n");
  start();
  ASSERT_EQ(sent(), 1u);
  EXPECT_EQ(opsup::testing::FakeHost::top_level_fields(host().agent_fields().back()),
            std::vector<uint32_t>{OPSUP_A2S_EFFECTIVE_CONFIG});
  const proto::EffectiveConfig report = last_report();
  ASSERT_EQ(report.config_map().config_map().size(), 1u);
  ASSERT_TRUE(report.config_map().config_map().contains(""));
  const proto::AgentConfigObject &file = report.config_map().config_map().at("");
  EXPECT_EQ(file.body(), "receivers:\n  nop: {}\n");
  EXPECT_EQ(file.content_type(), "text/yaml");
}

TEST_F(EffectiveConfigModule, ReadsTheComposedConfigWhenTheCollectorStarts) {
  start();
  EXPECT_EQ(sent(), 0u);
  host().set_composed_config("a: 1\n");
  started(1);
  ASSERT_EQ(sent(), 1u);
  EXPECT_EQ(last_files(), (Files{{"", "a: 1\n"}}));
}

TEST_F(EffectiveConfigModule, TheCollectorsOwnReportWinsWithAllItsFiles) {
  host().set_composed_config("composed: true\n");
  start();
  started(1);
  host().deliver_collector_message(
      collector_report({{"", "own: true\n"}, {"extra.yaml", "more: 1\n"}}));
  ASSERT_EQ(sent(), 2u);
  EXPECT_EQ(last_files(), (Files{{"", "own: true\n"}, {"extra.yaml", "more: 1\n"}}));
  EXPECT_EQ(last_report().config_map().config_map().at("extra.yaml").content_type(), "text/yaml");
}

TEST_F(EffectiveConfigModule, AnEmptyReportFromTheCollectorIsIgnored) {
  host().set_composed_config("composed: true\n");
  start();
  started(1);
  host().deliver_collector_message(collector_report({}));
  EXPECT_EQ(sent(), 1u);
  EXPECT_EQ(last_files(), (Files{{"", "composed: true\n"}}));
  EXPECT_TRUE(host().logged("ignoring an empty effective config", OPSUP_LOG_DEBUG));
}

TEST_F(EffectiveConfigModule, MessagesWithoutTheFieldOrThatDoNotParseChangeNothing) {
  host().set_composed_config("composed: true\n");
  start();
  proto::AgentToServer health_only;
  health_only.mutable_health()->set_healthy(true);
  host().deliver_collector_message(health_only.SerializeAsString());
  host().deliver_collector_message("\xff\xff\xff");
  EXPECT_EQ(sent(), 1u);
  EXPECT_TRUE(host().logged("does not parse", OPSUP_LOG_WARN));
}

TEST_F(EffectiveConfigModule, SendsOnlyWhenTheBytesChange) {
  host().set_composed_config("composed: true\n");
  start();
  started(1);
  host().deliver_event(OPSUP_EVENT_COLLECTOR_HEALTHY, "", 4242, 0, 1);
  host().deliver_event(OPSUP_EVENT_SERVER_CONNECTED);
  EXPECT_EQ(sent(), 1u);
  host().deliver_collector_message(collector_report({{"", "own: 1\n"}}));
  host().deliver_collector_message(collector_report({{"", "own: 1\n"}}));
  EXPECT_EQ(sent(), 2u);
  host().deliver_collector_message(collector_report({{"", "own: 2\n"}}));
  EXPECT_EQ(sent(), 3u);
  EXPECT_EQ(last_files(), (Files{{"", "own: 2\n"}}));
}

TEST_F(EffectiveConfigModule, ANewGenerationReportsTheNewComposedConfigUntilTheCollectorReports) {
  host().set_composed_config("generation: 1\n");
  start();
  started(1);
  host().deliver_collector_message(collector_report({{"", "own: 1\n"}}));
  EXPECT_EQ(last_files(), (Files{{"", "own: 1\n"}}));

  // A new config: the Collector stops (its exit still carries generation 1), then runs on 2.
  host().set_composed_config("generation: 2\n");
  exited(1);
  EXPECT_EQ(last_files(), (Files{{"", "own: 1\n"}}));  // still what that Collector ran
  started(2, 4343);
  EXPECT_EQ(last_files(), (Files{{"", "generation: 2\n"}}));
  host().deliver_collector_message(collector_report({{"", "own: 2\n"}}));
  EXPECT_EQ(last_files(), (Files{{"", "own: 2\n"}}));
}

TEST_F(EffectiveConfigModule, ARestartOnTheSameGenerationKeepsTheCollectorsReport) {
  host().set_composed_config("generation: 1\n");
  start();
  started(1);
  host().deliver_collector_message(collector_report({{"", "own: 1\n"}}));
  const size_t before = sent();
  exited(1, -9);
  started(1, 4343);
  EXPECT_EQ(sent(), before);
  EXPECT_EQ(last_files(), (Files{{"", "own: 1\n"}}));
}

TEST_F(EffectiveConfigModule, AnEmptyComposedConfigMeansNothingRuns) {
  host().set_composed_config("generation: 1\n");
  start();
  started(1);
  host().deliver_collector_message(collector_report({{"", "own: 1\n"}}));
  // An empty remote config map: the composed config is empty and the Collector is stopped.
  host().set_composed_config("");
  exited(1);
  EXPECT_EQ(last_files(), (Files{{"", ""}}));
}

TEST_F(EffectiveConfigModule, AReportBeforeTheStartGoesOutAtTheStart) {
  ASSERT_EQ(host().create(), OPSUP_OK);
  host().deliver_collector_message(collector_report({{"", "own: 1\n"}}));
  EXPECT_EQ(sent(), 0u);
  ASSERT_EQ(host().start(), OPSUP_OK);
  ASSERT_EQ(sent(), 1u);
  EXPECT_EQ(last_files(), (Files{{"", "own: 1\n"}}));
}

TEST_F(EffectiveConfigModule, WithoutTheComposedConfigServiceItForwardsTheCollectorsReport) {
  host().set_collector_available(false);
  start();
  started(1);
  EXPECT_EQ(sent(), 0u);
  EXPECT_TRUE(host().logged("does not hand out the composed config", OPSUP_LOG_INFO));
  host().deliver_collector_message(collector_report({{"", "own: 1\n"}}));
  ASSERT_EQ(sent(), 1u);
  EXPECT_EQ(last_files(), (Files{{"", "own: 1\n"}}));
}

TEST_F(EffectiveConfigModule, AnOlderHostWithoutGenerationsStillForwardsTheReport) {
  // No generations (0 everywhere): every start is "the same generation".
  host().set_composed_config("composed: true\n");
  start();
  started(0);
  host().deliver_collector_message(collector_report({{"", "own: 1\n"}}));
  started(0, 4343);
  EXPECT_EQ(last_files(), (Files{{"", "own: 1\n"}}));
}

}  // namespace

namespace {

constexpr const char *kWithSecrets =
    "exporters:\n  otlphttp:\n    endpoint: https://backend.example.com\n    headers:\n"
    "      authorization: Bearer abc123\n"
    "extensions:\n  bearertokenauth:\n    token: s3cret\n";

TEST_F(EffectiveConfigModule, SecretsAreRedactedBeforeTheyAreReported) {
  host().set_composed_config(kWithSecrets);
  start();
  ASSERT_EQ(sent(), 1u);
  const std::string body = last_files().begin()->second;
  EXPECT_EQ(body.find("abc123"), std::string::npos) << body;
  EXPECT_EQ(body.find("s3cret"), std::string::npos) << body;
  EXPECT_NE(body.find("[REDACTED]"), std::string::npos) << body;
  EXPECT_NE(body.find("https://backend.example.com"), std::string::npos) << body;

  // The Collector's own report too; a file that is not YAML cannot be checked and goes.
  host().deliver_collector_message(
      collector_report({{"", "receivers:\n  x:\n    password: hunter2\n"}, {"raw", "{ not yaml"}}));
  const Files files = last_files();
  EXPECT_EQ(files.at("").find("hunter2"), std::string::npos) << files.at("");
  EXPECT_NE(files.at("raw").find("not YAML"), std::string::npos) << files.at("raw");
}

class EffectiveConfigWithoutRedaction : public EffectiveConfigModule {};

TEST_F(EffectiveConfigWithoutRedaction, TheOperatorCanTurnRedactionOff) {
  host().set_composed_config(kWithSecrets);
  ASSERT_EQ(host().create("plugins:\n  config_policy:\n    redaction:\n      enabled: false\n"),
            OPSUP_OK)
      << host().last_error();
  ASSERT_EQ(host().start(), OPSUP_OK);
  ASSERT_EQ(sent(), 1u);
  EXPECT_NE(last_files().begin()->second.find("s3cret"), std::string::npos);
}

}  // namespace
