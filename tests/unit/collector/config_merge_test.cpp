// The merge rules of Collector config layers, one rule per test, pinned as YAML text.
#include "collector/config_merge.hpp"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "common/yaml_emit.hpp"

namespace opsup::collector {
namespace {

std::string merged(const char *base_text, const char *overlay_text) {
  YAML::Node base = YAML::Load(base_text);
  merge_config(base, YAML::Load(overlay_text));
  return common::emit_yaml(base);
}

TEST(ConfigMerge, MapsMergeKeyByKeyAndLaterScalarsWin) {
  EXPECT_EQ(merged("exporters:\n  debug:\n    verbosity: basic\n    sampling_initial: 5\n",
                   "exporters:\n  debug:\n    verbosity: detailed\n  nop: {}\n"),
            "exporters:\n  debug:\n    verbosity: detailed\n    sampling_initial: 5\n  nop: {}\n");
}

TEST(ConfigMerge, ListsAreReplacedByDefault) {
  EXPECT_EQ(merged("service:\n  pipelines:\n    logs:\n      receivers: [a, b]\n",
                   "service:\n  pipelines:\n    logs:\n      receivers: [c]\n"),
            "service:\n  pipelines:\n    logs:\n      receivers:\n        - c\n");
}

TEST(ConfigMerge, ServiceExtensionsAreConcatenatedWithoutDuplicates) {
  EXPECT_EQ(merged("service:\n  extensions: [health_check, opamp]\n",
                   "service:\n  extensions: [opamp, pprof]\n"),
            "service:\n  extensions:\n    - health_check\n    - opamp\n    - pprof\n");
}

TEST(ConfigMerge, ResourceAttributesMergeByNameLaterWins) {
  EXPECT_EQ(merged(R"(service:
  telemetry:
    resource:
      attributes:
        - name: a
          value: "1"
        - name: b
          value: "2"
)",
                   R"(service:
  telemetry:
    resource:
      attributes:
        - name: b
          value: "20"
        - name: c
          value: "3"
)"),
            R"(service:
  telemetry:
    resource:
      attributes:
        - name: a
          value: "1"
        - name: b
          value: "20"
        - name: c
          value: "3"
)");
}

TEST(ConfigMerge, AMapReplacesAScalarAndNullReplacesAMap) {
  EXPECT_EQ(merged("a: 1\nb:\n  c: 2\n", "a:\n  x: 1\nb: ~\n"), "a:\n  x: 1\nb: ~\n");
}

TEST(ConfigMerge, AnEmptyLayerChangesNothing) {
  EXPECT_EQ(merged("a: 1\n", ""), "a: 1\n");
}

TEST(ConfigMerge, OtherListsNamedExtensionsAreReplaced) {
  // Only service::extensions concatenates; a component setting called `extensions` does not.
  EXPECT_EQ(
      merged("receivers:\n  x:\n    extensions: [a]\n", "receivers:\n  x:\n    extensions: [b]\n"),
      "receivers:\n  x:\n    extensions:\n      - b\n");
}

}  // namespace
}  // namespace opsup::collector
