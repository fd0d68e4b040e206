// Each configuration error ends the process with exit code 1 and the Collector's message.
#include <gtest/gtest.h>

#include "fake_otelcol_fixture.hpp"

namespace opsup::testing {
namespace {

// Runs both `validate` and a normal start on the config and checks both fail alike.
void expect_rejected(const std::string &config_text, const std::string &expected,
                     const std::vector<std::string> &extra_args = {}) {
  TempDir dir;
  auto path = dir.write_file("config.yaml", config_text).string();
  for (bool validate : {true, false}) {
    std::vector<std::string> args = extra_args;
    if (validate)
      args.push_back("validate");
    args.push_back("--config");
    args.push_back(path);
    auto result = run_fake_otelcol(args);
    EXPECT_EQ(result.exit_code, 1) << result.output;
    EXPECT_NE(result.output.find(expected), std::string::npos)
        << "expected \"" << expected << "\" in:\n"
        << result.output;
    // The v0.149 Collector prints the error once, without Go's log line after it.
    EXPECT_EQ(result.output.find("collector server run finished with error"), std::string::npos)
        << result.output;
  }
}

std::string dump(const YAML::Node &node) {
  return YAML::Dump(node);
}

TEST(FakeOtelcolValidation, MalformedYaml) {
  expect_rejected("receivers:\n  otlp: [unclosed\nexporters: {\n",
                  "Error: failed to get config: cannot resolve the configuration");
}

TEST(FakeOtelcolValidation, MissingFile) {
  auto result = run_fake_otelcol({"--config", "/nonexistent/config.yaml"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find("unable to read the file /nonexistent/config.yaml"),
            std::string::npos)
      << result.output;
}

TEST(FakeOtelcolValidation, UnknownComponentType) {
  YAML::Node config = minimal_config();
  config["receivers"]["bogus"] = YAML::Node(YAML::NodeType::Map);
  expect_rejected(dump(config), "failed to get config: cannot unmarshal the configuration");
  expect_rejected(dump(config), "unknown type: \"bogus\" for id: \"bogus\"");
}

TEST(FakeOtelcolValidation, UnknownTopLevelKey) {
  YAML::Node config = minimal_config();
  config["recievers"]["otlp"] = YAML::Node(YAML::NodeType::Map);
  expect_rejected(dump(config), "'otelcol.configSettings' has invalid keys: recievers");
}

TEST(FakeOtelcolValidation, PipelineReferencesUndefinedComponent) {
  YAML::Node config = minimal_config();
  config["service"]["pipelines"]["traces"]["exporters"].push_back("otlp/backend");
  expect_rejected(dump(config),
                  "invalid configuration: service::pipelines::traces: references exporter "
                  "\"otlp/backend\" which is not configured");
}

TEST(FakeOtelcolValidation, PipelineWithoutReceivers) {
  YAML::Node config = minimal_config();
  config["service"]["pipelines"]["traces"].remove("receivers");
  expect_rejected(dump(config), "service::pipelines::traces: must have at least one receiver");
}

TEST(FakeOtelcolValidation, ServiceExtensionNotConfigured) {
  YAML::Node config = minimal_config();
  config["service"]["extensions"].push_back("health_check");
  expect_rejected(dump(config),
                  "invalid configuration: service::extensions: references extension "
                  "\"health_check\" which is not configured");
}

TEST(FakeOtelcolValidation, NoPipelinesNeedsTheFeatureGate) {
  YAML::Node config = minimal_config();
  config["service"].remove("pipelines");
  expect_rejected(dump(config), "invalid configuration: service must have at least one pipeline");

  TempDir dir;
  auto path = write_config(dir, config);
  auto allowed = run_fake_otelcol(
      {"--feature-gates", "service.AllowNoPipelines", "validate", "--config", path});
  EXPECT_EQ(allowed.exit_code, 0) << allowed.output;
}

TEST(FakeOtelcolValidation, OpampExtensionUnknownKey) {
  YAML::Node config = minimal_config();
  YAML::Node opamp = opamp_settings("ws://127.0.0.1:1/v1/opamp");
  opamp["bogus_key"] = true;
  add_extension(config, "opamp", opamp);
  expect_rejected(dump(config), "error reading configuration for \"opamp\"");
  expect_rejected(dump(config), "has invalid keys: bogus_key");
}

TEST(FakeOtelcolValidation, OpampExtensionWithoutServer) {
  YAML::Node config = minimal_config();
  YAML::Node opamp;
  opamp["instance_uid"] = kInstanceUid;
  add_extension(config, "opamp", opamp);
  expect_rejected(dump(config), "opamp server must have at least ws or http set");
}

TEST(FakeOtelcolValidation, ConnectorMustBeUsedBothWays) {
  YAML::Node config = minimal_config();
  config["connectors"]["forward"] = YAML::Node(YAML::NodeType::Null);
  config["service"]["pipelines"]["traces"]["exporters"].push_back("forward");
  expect_rejected(dump(config), "connectors::forward: must be used as both receiver and exporter");
  // Used both ways it is fine.
  config["service"]["pipelines"]["traces/2"]["receivers"].push_back("forward");
  config["service"]["pipelines"]["traces/2"]["exporters"].push_back("debug");
  TempDir dir;
  auto result = run_fake_otelcol({"validate", "--config", write_config(dir, config)});
  EXPECT_EQ(result.exit_code, 0) << result.output;
}

}  // namespace
}  // namespace opsup::testing
