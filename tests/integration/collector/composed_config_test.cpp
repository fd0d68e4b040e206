// What compose_collector_config writes is a config the real Collector accepts, with the
// supervisor's instance id in the form v0.149.0 reads.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "collector/config_composition.hpp"
#include "support/child_process.hpp"
#include "support/collector.hpp"
#include "support/temp_dir.hpp"

namespace opsup::collector {
namespace {

using opsup::testing::CollectorKind;
using opsup::testing::TempDir;

constexpr const char *kUid = "0190f6a8-1234-7abc-8def-0123456789ab";

TEST(ComposedConfig, TheRealCollectorValidatesItAndTheInstanceIdIsOurs) {
  TempDir dir;
  YAML::Node local = opsup::testing::minimal_pipeline_config();
  local["service"]["telemetry"]["resource"]["service.instance.id"] = "forged";
  local["service"]["telemetry"]["resource"]["team"] = "payments";
  CompositionInput input;
  input.config_files = {dir.write_file("local.yaml", YAML::Dump(local)).string()};
  input.opamp_extension_yaml = std::string("extensions:\n  opamp:\n    instance_uid: \"") + kUid +
                               "\"\n    server:\n      ws:\n        endpoint: "
                               "ws://127.0.0.1:1/v1/opamp\n        tls:\n          insecure: "
                               "true\nservice:\n  extensions: [opamp]\n";
  input.remote_config = {{"", "processors:\n  batch:\n    timeout: 2s\n"}};
  input.instance_uid = kUid;
  const std::string composed = compose_collector_config(input);
  const YAML::Node resource = YAML::Load(composed)["service"]["telemetry"]["resource"];
  EXPECT_EQ(resource["service.instance.id"].as<std::string>(), kUid) << composed;
  EXPECT_EQ(resource["team"].as<std::string>(), "payments") << composed;

  const auto path = dir.write_file("effective.yaml", composed).string();
  opsup::testing::ChildProcess validate({opsup::testing::collector_executable(CollectorKind::kReal),
                                         {"validate", "--config", path},
                                         {},
                                         {}});
  EXPECT_EQ(validate.wait_exit(std::chrono::seconds(60)), 0)
      << composed << "\n"
      << (validate.wait_output_closed(std::chrono::seconds(10)), validate.output());
}

}  // namespace
}  // namespace opsup::collector
