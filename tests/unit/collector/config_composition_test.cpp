// Composing the Collector's config from agent.config_files, the tokens, the remote config,
// module layers and the supervisor's own keys; outputs pinned as YAML text.
#include "collector/config_composition.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <yaml-cpp/yaml.h>

#include "support/temp_dir.hpp"

namespace opsup::collector {
namespace {

using opsup::testing::TempDir;
using Order = std::vector<std::string>;

constexpr const char *kOpampExtension = R"(extensions:
  opamp:
    instance_uid: "0190f6a8-1234-7abc-8def-0123456789ab"
    server:
      ws:
        endpoint: "ws://127.0.0.1:4000/v1/opamp"
        tls:
          insecure: true
service:
  extensions: [opamp]
)";

CompositionInput input_with(const TempDir &dir, const std::string &local_yaml) {
  CompositionInput input;
  input.config_files = {dir.write_file("local.yaml", local_yaml).string()};
  input.opamp_extension_yaml = kOpampExtension;
  input.instance_uid = "0190f6a8-1234-7abc-8def-0123456789ab";
  return input;
}

TEST(ConfigComposition, MissingTokensTakeTheirDefaultPositions) {
  EXPECT_EQ(layer_order({"a.yaml", "b.yaml"}), (Order{kOwnTelemetryToken, "a.yaml", "b.yaml",
                                                      kOpampExtensionToken, kRemoteConfigToken}));
  EXPECT_EQ(layer_order({kRemoteConfigToken, "a.yaml"}),
            (Order{kOwnTelemetryToken, kRemoteConfigToken, "a.yaml", kOpampExtensionToken}));
  EXPECT_EQ(layer_order({"a.yaml", kOwnTelemetryToken, kOpampExtensionToken}),
            (Order{"a.yaml", kOwnTelemetryToken, kOpampExtensionToken, kRemoteConfigToken}));
}

TEST(ConfigComposition, QuotedScalarsStayQuotedAndReferencesStayText) {
  TempDir dir;
  CompositionInput input;
  input.config_files = {dir.write_file("local.yaml", R"(receivers:
  otlp:
    protocols:
      grpc:
        endpoint: ${env:OTLP_ENDPOINT}
exporters:
  debug:
    verbosity: 'detailed'
    sampling_initial: "0123"
    use_internal_logger: "true"
    sampling_thereafter: 10
)")
                            .string()};
  EXPECT_EQ(compose_collector_config(input), R"(receivers:
  otlp:
    protocols:
      grpc:
        endpoint: ${env:OTLP_ENDPOINT}
exporters:
  debug:
    verbosity: "detailed"
    sampling_initial: "0123"
    use_internal_logger: "true"
    sampling_thereafter: 10
)");
}

TEST(ConfigComposition, LayersMergeInOrderWithTheOpampExtensionAndInstanceId) {
  TempDir dir;
  CompositionInput input = input_with(dir, R"(receivers:
  otlp: {}
exporters:
  debug: {}
service:
  extensions: [health_check]
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [debug]
extensions:
  health_check: {}
)");
  input.own_telemetry_yaml = "service:\n  telemetry:\n    logs:\n      encoding: json\n";
  EXPECT_EQ(compose_collector_config(input), R"(service:
  telemetry:
    logs:
      encoding: json
    resource:
      service.instance.id: "0190f6a8-1234-7abc-8def-0123456789ab"
  extensions:
    - health_check
    - opamp
  pipelines:
    traces:
      receivers:
        - otlp
      exporters:
        - debug
receivers:
  otlp: {}
exporters:
  debug: {}
extensions:
  health_check: {}
  opamp:
    instance_uid: "0190f6a8-1234-7abc-8def-0123456789ab"
    server:
      ws:
        endpoint: "ws://127.0.0.1:4000/v1/opamp"
        tls:
          insecure: true
)");
}

TEST(ConfigComposition, LocalFilesOverrideOwnTelemetryThatComesFirst) {
  TempDir dir;
  CompositionInput input;
  input.config_files = {dir.write_file("local.yaml",
                                       "service:\n  telemetry:\n    logs:\n"
                                       "      level: debug\n")
                            .string()};
  input.own_telemetry_yaml = "service:\n  telemetry:\n    logs:\n      level: info\n";
  EXPECT_EQ(compose_collector_config(input),
            "service:\n  telemetry:\n    logs:\n      level: debug\n");
}

TEST(ConfigComposition, RemoteFilesMergeInNameOrderWithTheUnnamedOneLast) {
  TempDir dir;
  CompositionInput input;
  input.config_files = {dir.write_file("local.yaml", "a: local\n").string()};
  input.remote_config = {{"", "a: unnamed\n"}, {"b", "a: b\nb: b\n"}, {"a", "a: a\nb: a\n"}};
  EXPECT_EQ(compose_collector_config(input), "a: unnamed\nb: b\n");
}

TEST(ConfigComposition, ARemoteResourceListReplacesTheLocalOneAndTheInstanceIdIsKept) {
  TempDir dir;
  CompositionInput input = input_with(dir, R"(service:
  telemetry:
    resource:
      attributes:
        - name: local.only
          value: x
)");
  input.remote_config = {{"", R"(service:
  telemetry:
    resource:
      attributes:
        - name: remote.only
          value: y
        - name: service.instance.id
          value: forged
)"}};
  const YAML::Node composed = YAML::Load(compose_collector_config(input));
  const YAML::Node attributes = composed["service"]["telemetry"]["resource"]["attributes"];
  ASSERT_EQ(attributes.size(), 2u) << composed;
  EXPECT_EQ(attributes[0]["name"].as<std::string>(), "remote.only");
  EXPECT_EQ(attributes[1]["name"].as<std::string>(), "service.instance.id");
  EXPECT_EQ(attributes[1]["value"].as<std::string>(), "0190f6a8-1234-7abc-8def-0123456789ab");
}

TEST(ConfigComposition, ARemoteConfigCannotDropOrRedirectTheOpampExtension) {
  TempDir dir;
  CompositionInput input = input_with(dir, "receivers:\n  nop: {}\n");
  input.remote_config = {{"", R"(extensions:
  opamp:
    server:
      ws:
        endpoint: ws://attacker.example:1/v1/opamp
      http:
        endpoint: http://attacker.example:2/v1/opamp
  pprof: {}
service:
  extensions: [pprof]
)"}};
  input.module_layers = {{"policy", "extensions:\n  opamp: ~\n"}};
  const YAML::Node composed = YAML::Load(compose_collector_config(input));
  EXPECT_EQ(YAML::Dump(composed["extensions"]["opamp"]),
            YAML::Dump(YAML::Load(kOpampExtension)["extensions"]["opamp"]));
  const YAML::Node extensions = composed["service"]["extensions"];
  ASSERT_EQ(extensions.size(), 2u) << composed;
  // $OPAMP_EXTENSION_CONFIG comes before $REMOTE_CONFIG, and lists concatenate.
  EXPECT_EQ(extensions[0].as<std::string>(), "opamp");
  EXPECT_EQ(extensions[1].as<std::string>(), "pprof");
  EXPECT_TRUE(composed["extensions"]["pprof"].IsMap());
}

TEST(ConfigComposition, ModuleLayersComeRightAfterTheRemoteConfig) {
  TempDir dir;
  CompositionInput input;
  input.config_files = {kRemoteConfigToken, dir.write_file("local.yaml", "c: local\n").string()};
  input.remote_config = {{"", "a: remote\nb: remote\nc: remote\n"}};
  input.module_layers = {{"first", "b: first\n"}, {"second", "a: second\nb: second\n"}};
  EXPECT_EQ(compose_collector_config(input), "a: second\nb: second\nc: local\n");
}

TEST(ConfigComposition, OwnTelemetryLayersSitAtTheirTokenUnderLocalAndRemoteConfig) {
  TempDir dir;
  CompositionInput input;
  input.config_files = {dir.write_file("local.yaml", "b: local\n").string()};
  input.own_telemetry_yaml = "a: base\n";
  input.own_telemetry_layers = {{"own_telemetry/offer", "a: offer\nb: offer\nc: offer\n"}};
  input.remote_config = {{"", "c: remote\n"}};
  // $OWN_TELEMETRY_CONFIG goes first: the offer beats the base, local and remote beat it.
  EXPECT_EQ(compose_collector_config(input), "a: offer\nb: local\nc: remote\n");
}

TEST(ConfigComposition, EnvEntriesReadTheVariable) {
  ::setenv("OPSUP_TEST_COLLECTOR_LAYER", "exporters:\n  nop: {}\n", 1);
  CompositionInput input;
  input.config_files = {"env:OPSUP_TEST_COLLECTOR_LAYER"};
  EXPECT_EQ(compose_collector_config(input), "exporters:\n  nop: {}\n");
  ::unsetenv("OPSUP_TEST_COLLECTOR_LAYER");
  EXPECT_THROW(compose_collector_config(input), CompositionError);
}

std::string error_of(const CompositionInput &input) {
  try {
    compose_collector_config(input);
  } catch (const CompositionError &error) {
    return error.what();
  }
  return "(no error)";
}

TEST(ConfigComposition, ALocalFileWithBadYamlIsNamedWithItsLine) {
  TempDir dir;
  CompositionInput input;
  const auto path = dir.write_file("bad.yaml", "receivers:\n  otlp: {}\n  nop: [\n").string();
  input.config_files = {path};
  const std::string error = error_of(input);
  EXPECT_EQ(error.rfind(path + ": line ", 0), 0u) << error;
}

TEST(ConfigComposition, AMissingLocalFileIsNamed) {
  TempDir dir;
  CompositionInput input;
  const auto path = (dir.path() / "missing.yaml").string();
  input.config_files = {"file:" + path};
  EXPECT_EQ(error_of(input), path + ": cannot read the Collector config file");
}

TEST(ConfigComposition, ANonMapLayerIsRefusedWithItsName) {
  CompositionInput input;
  input.remote_config = {{"main.yaml", "- just\n- a list\n"}};
  EXPECT_EQ(error_of(input), "remote config file 'main.yaml': the top level is not a map");
  input.remote_config.clear();
  input.module_layers = {{"policy", "a: [\n"}};
  EXPECT_EQ(error_of(input).rfind("module layer 'policy': line ", 0), 0u) << error_of(input);
}

}  // namespace
}  // namespace opsup::collector
