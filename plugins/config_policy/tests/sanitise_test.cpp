#include <gtest/gtest.h>

#include "checker.hpp"
#include "sanitise.hpp"

namespace opsup::config_policy {
namespace {

constexpr const char *kConfig = R"(
receivers:
  exec: {command: /bin/true}
  otlp: {}
exporters:
  debug: {}
extensions:
  file_storage: {directory: /etc/otel}
  health_check: {}
service:
  extensions: [file_storage, health_check]
  pipelines:
    logs/exec_only: {receivers: [exec], exporters: [debug]}
    logs: {receivers: [exec, otlp], processors: [], exporters: [debug]}
)";

TEST(ConfigPolicySanitise, RemovesOffendingComponentsAndTheirReferences) {
  const YAML::Node config = parse_config(kConfig);
  const Settings settings = parse_settings(
      "mode: sanitise\ncomponents: {receivers: {deny: [exec]}}\n"
      "access_dirs: {write: {deny: [/etc]}}");
  const auto violations = check_config(config, settings);
  ASSERT_EQ(violations.size(), 2u);
  const SanitiseResult result = sanitise(config, violations);

  EXPECT_FALSE(result.config["receivers"]["exec"]);
  EXPECT_TRUE(result.config["receivers"]["otlp"]);
  EXPECT_FALSE(result.config["extensions"]["file_storage"]);
  const YAML::Node service = result.config["service"];
  ASSERT_EQ(service["extensions"].size(), 1u);
  EXPECT_EQ(service["extensions"][0].as<std::string>(), "health_check");
  const YAML::Node logs = service["pipelines"]["logs"];
  ASSERT_EQ(logs["receivers"].size(), 1u);
  EXPECT_EQ(logs["receivers"][0].as<std::string>(), "otlp");
  EXPECT_FALSE(service["pipelines"]["logs/exec_only"]);
  // The sanitised config is clean, and the input is untouched.
  EXPECT_TRUE(check_config(result.config, settings).empty());
  EXPECT_TRUE(config["receivers"]["exec"]);

  ASSERT_EQ(result.removed.size(), 3u);
  EXPECT_EQ(result.removed[0],
            "removed receivers/exec: receivers/exec type=exec breaks "
            "components.receivers.deny: exec");
  EXPECT_EQ(result.removed[1],
            "removed extensions/file_storage: extensions/file_storage directory=/etc/otel "
            "breaks access_dirs.write.deny: /etc");
  EXPECT_EQ(result.removed[2],
            "removed pipeline logs/exec_only: no receivers or no exporters were left");
}

TEST(ConfigPolicySanitise, NoViolationsChangeNothing) {
  const YAML::Node config = parse_config(kConfig);
  const SanitiseResult result = sanitise(config, {});
  EXPECT_TRUE(result.removed.empty());
  EXPECT_EQ(YAML::Dump(result.config), YAML::Dump(config));
}

}  // namespace
}  // namespace opsup::config_policy
