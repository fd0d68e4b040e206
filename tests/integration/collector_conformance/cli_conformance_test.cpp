// The command line of the stand-in against the real Collector: `components`, `featuregate`,
// `--version` and `validate`, compared by shape (not by the lists of components or gates).
#include <gtest/gtest.h>

#include <regex>

#include "collector_probe.hpp"

namespace opsup::testing {
namespace {

constexpr CollectorKind kReal = CollectorKind::kReal;
constexpr CollectorKind kStandIn = CollectorKind::kStandIn;

TEST(CollectorConformance, ComponentsOutputHasTheSameShape) {
  Shape real = components_shape(run_collector(kReal, {"components"}));
  Shape stand_in = components_shape(run_collector(kStandIn, {"components"}));
  // The real distribution has no connectors (and maybe no converters): a kind that either
  // lists as empty has no entry shape to compare.
  for (const char *kind : {"receivers", "processors", "exporters", "connectors", "extensions",
                           "providers", "converters"}) {
    const std::string prefix = kind;
    if (real[prefix + ".entries"] == "some" && stand_in[prefix + ".entries"] == "some")
      continue;
    for (const char *aspect : {".entries", ".entry_fields", ".stability_keys", ".bad_values"}) {
      real.erase(prefix + aspect);
      stand_in.erase(prefix + aspect);
    }
  }
  ASSERT_EQ(real["receivers.entries"], "some") << "nothing was compared";
  ASSERT_EQ(real["extensions.entries"], "some") << "nothing was compared";
  EXPECT_EQ(shape_differences(real, stand_in), "");
}

TEST(CollectorConformance, FeaturegateOutputHasTheSameShape) {
  Shape real = featuregate_shape(run_collector(kReal, {"featuregate"}));
  Shape stand_in = featuregate_shape(run_collector(kStandIn, {"featuregate"}));
  ASSERT_EQ(real["rows"], "well formed");
  EXPECT_EQ(shape_differences(real, stand_in), "");
}

TEST(CollectorConformance, VersionLineHasTheSameShape) {
  const std::regex version_line(R"(^\S+ version \d+\.\d+\.\d+\S*$)");
  for (auto kind : {kReal, kStandIn}) {
    auto result = run_collector(kind, {"--version"});
    EXPECT_EQ(result.exit_code, 0) << collector_kind_name(kind);
    ASSERT_EQ(result.lines.size(), 1u) << collector_kind_name(kind);
    EXPECT_TRUE(std::regex_match(result.lines.front(), version_line))
        << collector_kind_name(kind) << ": " << result.lines.front();
  }
}

struct ValidateCase {
  const char *name;
  std::string (*config)();
};

std::string good_config() {
  return YAML::Dump(minimal_pipeline_config());
}
std::string unknown_component() {
  YAML::Node config = minimal_pipeline_config();
  config["exporters"].remove("debug");
  config["exporters"]["nosuch"] = YAML::Node(YAML::NodeType::Map);
  config["service"]["pipelines"]["traces"]["exporters"][0] = "nosuch";
  return YAML::Dump(config);
}
std::string bad_field() {
  YAML::Node config = minimal_pipeline_config();
  config["exporters"]["debug"]["bogus_field"] = 1;
  return YAML::Dump(config);
}
std::string resource_attributes_list() {
  YAML::Node config = minimal_pipeline_config();
  YAML::Node attribute;
  attribute["name"] = "team";
  attribute["value"] = "payments";
  config["service"]["telemetry"]["resource"]["attributes"].push_back(attribute);
  return YAML::Dump(config);
}
std::string yaml_syntax_error() {
  return "receivers:\n  otlp: [\n";
}

class CollectorValidateConformance : public ::testing::TestWithParam<ValidateCase> {};

TEST_P(CollectorValidateConformance, ExitCodeAndFirstLineAgree) {
  TempDir dir;
  const auto path = dir.write_file("config.yaml", GetParam().config()).string();
  auto real_run = run_collector(kReal, {"validate", "--config", path});
  auto stand_in_run = run_collector(kStandIn, {"validate", "--config", path});
  EXPECT_EQ(shape_differences(validate_shape(real_run), validate_shape(stand_in_run)), "")
      << "real output:\n"
      << ::testing::PrintToString(real_run.lines) << "\nstand-in output:\n"
      << ::testing::PrintToString(stand_in_run.lines);
}

INSTANTIATE_TEST_SUITE_P(Configs, CollectorValidateConformance,
                         ::testing::Values(ValidateCase{"GoodConfig", good_config},
                                           ValidateCase{"UnknownComponent", unknown_component},
                                           ValidateCase{"BadField", bad_field},
                                           ValidateCase{"ResourceAttributesList",
                                                        resource_attributes_list},
                                           ValidateCase{"YamlSyntaxError", yaml_syntax_error}),
                         [](const auto &info) { return std::string(info.param.name); });

}  // namespace
}  // namespace opsup::testing
