// The Collector's command line: --version, components, featuregate, validate, bad flags.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "fake_otelcol_fixture.hpp"
#include "support/paths.hpp"

namespace opsup::testing {
namespace {

TEST(FakeOtelcolCli, VersionPrintsNameAndVersion) {
  auto result = run_fake_otelcol({"--version"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.output, "fake-otelcol version 0.130.0\n");
}

TEST(FakeOtelcolCli, ComponentsListsBuildInfoAndEveryKind) {
  auto result = run_fake_otelcol({"components"});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  YAML::Node components = YAML::Load(result.output);
  EXPECT_EQ(components["buildinfo"]["command"].as<std::string>(), "fake-otelcol");
  EXPECT_EQ(components["buildinfo"]["version"].as<std::string>(), "0.130.0");
  EXPECT_FALSE(components["buildinfo"]["description"].as<std::string>().empty());
  for (const char *kind : {"receivers", "processors", "exporters", "extensions", "connectors"}) {
    ASSERT_TRUE(components[kind].IsSequence()) << kind;
    EXPECT_GT(components[kind].size(), 0u) << kind;
  }
  bool opamp_listed = false;
  for (const auto &extension : components["extensions"]) {
    if (extension["name"].as<std::string>() == "opamp") {
      opamp_listed = true;
      EXPECT_NE(extension["module"].as<std::string>().find("opampextension"), std::string::npos);
      EXPECT_EQ(extension["stability"]["extension"].as<std::string>(), "Alpha");
    }
  }
  EXPECT_TRUE(opamp_listed);
  EXPECT_EQ(components["receivers"][0]["name"].as<std::string>(), "filelog");  // sorted
}

TEST(FakeOtelcolCli, FeaturegateListsGatesAndHonoursFlag) {
  auto result = run_fake_otelcol({"featuregate"});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(result.output.rfind("ID", 0), 0u) << result.output;
  EXPECT_NE(result.output.find("service.AllowNoPipelines"), std::string::npos);

  auto enabled = run_fake_otelcol(
      {"--feature-gates=service.AllowNoPipelines", "featuregate", "service.AllowNoPipelines"});
  ASSERT_EQ(enabled.exit_code, 0) << enabled.output;
  EXPECT_NE(enabled.output.find("Enabled: true"), std::string::npos) << enabled.output;
  auto disabled = run_fake_otelcol({"featuregate", "service.AllowNoPipelines"});
  EXPECT_NE(disabled.output.find("Enabled: false"), std::string::npos) << disabled.output;
}

TEST(FakeOtelcolCli, UnknownFlagFailsLikeCobra) {
  auto result = run_fake_otelcol({"--bogus-flag"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find("Error: unknown flag: --bogus-flag"), std::string::npos)
      << result.output;
}

TEST(FakeOtelcolCli, UnknownFeatureGateFails) {
  auto result = run_fake_otelcol({"--feature-gates", "no.such.gate", "featuregate"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find("no such feature gate \"no.such.gate\""), std::string::npos)
      << result.output;
}

TEST(FakeOtelcolCli, RunWithoutConfigFails) {
  auto result = run_fake_otelcol({});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find("at least one config flag must be provided"), std::string::npos)
      << result.output;
}

TEST(FakeOtelcolCli, ValidateAcceptsGoodConfigBothFlagForms) {
  TempDir dir;
  auto path = write_config(dir, minimal_config());
  auto separate = run_fake_otelcol({"validate", "--config", path});
  EXPECT_EQ(separate.exit_code, 0) << separate.output;
  auto joined = run_fake_otelcol({"validate", "--config=file:" + path});
  EXPECT_EQ(joined.exit_code, 0) << joined.output;
}

TEST(FakeOtelcolCli, ValidateMergesConfigsInOrder) {
  TempDir dir;
  YAML::Node first = minimal_config();
  first["service"]["pipelines"]["traces"]["exporters"] = YAML::Load("[otlp/missing]");
  auto first_path = write_config(dir, first, "first.yaml");
  // The second file replaces the exporter list (lists are replaced, maps merged).
  auto second_path = dir.write_file("second.yaml",
                                    "service:\n  pipelines:\n    traces:\n"
                                    "      exporters: [debug]\n")
                         .string();
  EXPECT_EQ(run_fake_otelcol({"validate", "--config", first_path}).exit_code, 1);
  auto merged = run_fake_otelcol({"validate", "--config", first_path, "--config", second_path});
  EXPECT_EQ(merged.exit_code, 0) << merged.output;
}

}  // namespace
}  // namespace opsup::testing

namespace opsup::testing {
namespace {

TEST(FakeOtelcolCli, SetFlagOverridesConfig) {
  TempDir dir;
  auto path = write_config(dir, minimal_config());
  auto broken = run_fake_otelcol(
      {"validate", "--config", path, "--set=service::pipelines::traces::exporters=[otlp/x]"});
  EXPECT_EQ(broken.exit_code, 1);
  EXPECT_NE(broken.output.find("references exporter \"otlp/x\""), std::string::npos)
      << broken.output;
}

TEST(FakeOtelcolCli, ExpandsEnvironmentVariables) {
  TempDir dir;
  YAML::Node config = minimal_config();
  config["service"]["pipelines"]["traces"]["exporters"] = YAML::Load("[\"${env:FAKE_EXPORTER}\"]");
  auto path = write_config(dir, config);
  ChildProcess ok(
      {binary("fake-otelcol"), {"validate", "--config", path}, {{"FAKE_EXPORTER", "debug"}}, {}});
  EXPECT_EQ(ok.wait_exit(kDeadline), 0) << ok.output();
  ChildProcess bad({binary("fake-otelcol"),
                    {"validate", "--config", path},
                    {{"FAKE_EXPORTER", "otlp/elsewhere"}},
                    {}});
  EXPECT_EQ(bad.wait_exit(kDeadline), 1) << bad.output();
}

}  // namespace
}  // namespace opsup::testing
