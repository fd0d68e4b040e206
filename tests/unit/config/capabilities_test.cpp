// The capability rule (ARCHITECTURE.md "Module loading").
#include <gtest/gtest.h>

#include "config/capabilities.hpp"
#include "config/capability_bits.hpp"
#include "opamp.pb.h"
#include "test_support.hpp"

namespace opsup::config {
namespace {

using testing::describe;
using testing::expect_loads;
using testing::kBase;
using testing::load_text;
namespace bit = capability;

// Every built-in module with the bits it owns.
std::vector<InstalledModule> all_modules() {
  return {
      {"remote_config", bit::kAcceptsRemoteConfig | bit::kReportsRemoteConfig},
      {"effective_config", bit::kReportsEffectiveConfig},
      {"health", bit::kReportsHealth},
      {"restart_command", bit::kAcceptsRestartCommand},
      {"own_telemetry", bit::kReportsOwnMetrics | bit::kReportsOwnLogs | bit::kReportsOwnTraces},
      {"connection_settings", bit::kAcceptsOpAMPConnectionSettings |
                                  bit::kReportsConnectionSettingsStatus |
                                  bit::kAcceptsOtherConnectionSettings},
      {"available_components", bit::kReportsAvailableComponents},
      {"packages", bit::kAcceptsPackages | bit::kReportsPackageStatuses}};
}

std::vector<InstalledModule> without(const std::string &id) {
  auto modules = all_modules();
  std::erase_if(modules, [&](const InstalledModule &module) { return module.id == id; });
  return modules;
}

SupervisorConfig with_capabilities(std::string_view lines) {
  return expect_loads(load_text(std::string(kBase) + "capabilities:\n" + std::string(lines)));
}

TEST(CapabilityBits, MatchTheProto) {
  namespace pb = opamp::proto::v1;
  EXPECT_EQ(bit::kReportsStatus, uint64_t{pb::AgentCapabilities_ReportsStatus});
  EXPECT_EQ(bit::kAcceptsRemoteConfig, uint64_t{pb::AgentCapabilities_AcceptsRemoteConfig});
  EXPECT_EQ(bit::kReportsEffectiveConfig, uint64_t{pb::AgentCapabilities_ReportsEffectiveConfig});
  EXPECT_EQ(bit::kAcceptsPackages, uint64_t{pb::AgentCapabilities_AcceptsPackages});
  EXPECT_EQ(bit::kReportsPackageStatuses, uint64_t{pb::AgentCapabilities_ReportsPackageStatuses});
  EXPECT_EQ(bit::kReportsOwnTraces, uint64_t{pb::AgentCapabilities_ReportsOwnTraces});
  EXPECT_EQ(bit::kReportsOwnMetrics, uint64_t{pb::AgentCapabilities_ReportsOwnMetrics});
  EXPECT_EQ(bit::kReportsOwnLogs, uint64_t{pb::AgentCapabilities_ReportsOwnLogs});
  EXPECT_EQ(bit::kAcceptsOpAMPConnectionSettings,
            uint64_t{pb::AgentCapabilities_AcceptsOpAMPConnectionSettings});
  EXPECT_EQ(bit::kAcceptsOtherConnectionSettings,
            uint64_t{pb::AgentCapabilities_AcceptsOtherConnectionSettings});
  EXPECT_EQ(bit::kAcceptsRestartCommand, uint64_t{pb::AgentCapabilities_AcceptsRestartCommand});
  EXPECT_EQ(bit::kReportsHealth, uint64_t{pb::AgentCapabilities_ReportsHealth});
  EXPECT_EQ(bit::kReportsRemoteConfig, uint64_t{pb::AgentCapabilities_ReportsRemoteConfig});
  EXPECT_EQ(bit::kReportsHeartbeat, uint64_t{pb::AgentCapabilities_ReportsHeartbeat});
  EXPECT_EQ(bit::kReportsAvailableComponents,
            uint64_t{pb::AgentCapabilities_ReportsAvailableComponents});
  EXPECT_EQ(bit::kReportsConnectionSettingsStatus,
            uint64_t{pb::AgentCapabilities_ReportsConnectionSettingsStatus});
}

TEST(CapabilityRule, WrittenTrueWithoutModuleIsAnError) {
  const SupervisorConfig config = with_capabilities("  accepts_remote_config: true\n");  // line 6
  const CapabilityDecision decision = decide_capabilities(config, without("remote_config"));
  ASSERT_EQ(decision.errors.size(), 1u) << describe(decision.errors);
  EXPECT_EQ(decision.errors[0].to_string(),
            "supervisor.yaml:6: capabilities.accepts_remote_config: true needs module "
            "\"remote_config\" (AcceptsRemoteConfig, ReportsRemoteConfig), which is not installed");
  EXPECT_EQ(decision.advertised & bit::kAcceptsRemoteConfig, 0u);
}

TEST(CapabilityRule, DefaultTrueWithoutModuleIsInfoAndNotAdvertised) {
  const SupervisorConfig config = expect_loads(load_text(kBase));
  const CapabilityDecision decision = decide_capabilities(config, without("health"));
  EXPECT_TRUE(decision.errors.empty()) << describe(decision.errors);
  ASSERT_EQ(decision.infos.size(), 1u);
  EXPECT_NE(decision.infos[0].find("capabilities.reports_health"), std::string::npos);
  EXPECT_NE(decision.infos[0].find("\"health\" (ReportsHealth)"), std::string::npos);
  EXPECT_EQ(decision.advertised & bit::kReportsHealth, 0u);
  EXPECT_NE(decision.advertised & bit::kReportsEffectiveConfig, 0u);
}

TEST(CapabilityRule, MinimalInstallWithDefaultsStartsWithoutErrors) {
  const SupervisorConfig config = expect_loads(load_text(kBase));
  const CapabilityDecision decision = decide_capabilities(config, {});
  EXPECT_TRUE(decision.errors.empty()) << describe(decision.errors);
  EXPECT_EQ(decision.infos.size(),
            3u);  // reports_effective_config, reports_own_metrics, reports_health
  EXPECT_EQ(decision.advertised, bit::kReportsStatus | bit::kReportsHeartbeat);
}

TEST(CapabilityRule, WrittenFalseWithModulePresentIsNotAdvertised) {
  const SupervisorConfig config = with_capabilities("  reports_health: false\n");
  const CapabilityDecision decision = decide_capabilities(config, all_modules());
  EXPECT_EQ(decision.advertised & bit::kReportsHealth, 0u);
  EXPECT_TRUE(decision.errors.empty());
  EXPECT_TRUE(decision.infos.empty());
}

TEST(CapabilityRule, TrueWithModulePresentIsAdvertised) {
  const SupervisorConfig config = with_capabilities(
      "  accepts_remote_config: true\n  reports_remote_config: true\n"
      "  accepts_opamp_connection_settings: true\n  reports_connection_settings_status: true\n");
  const CapabilityDecision decision = decide_capabilities(config, all_modules());
  EXPECT_TRUE(decision.errors.empty()) << describe(decision.errors);
  EXPECT_EQ(decision.advertised,
            bit::kReportsStatus | bit::kReportsHeartbeat | bit::kAcceptsRemoteConfig |
                bit::kReportsRemoteConfig | bit::kAcceptsOpAMPConnectionSettings |
                bit::kReportsConnectionSettingsStatus | bit::kReportsEffectiveConfig |
                bit::kReportsOwnMetrics | bit::kReportsHealth);
  // Bits a module owns but the config leaves off are not advertised.
  EXPECT_EQ(decision.advertised & bit::kAcceptsOtherConnectionSettings, 0u);
  EXPECT_EQ(decision.advertised & bit::kAcceptsRestartCommand, 0u);
}

TEST(CapabilityRule, AcceptsRemoteConfigReportsItsStatusTooAndTheOldKeyIsDeprecated) {
  const CapabilityDecision decision =
      decide_capabilities(with_capabilities("  accepts_remote_config: true\n"), all_modules());
  EXPECT_EQ(decision.advertised & (bit::kAcceptsRemoteConfig | bit::kReportsRemoteConfig),
            bit::kAcceptsRemoteConfig | bit::kReportsRemoteConfig);

  const LoadResult deprecated =
      load_text(std::string(kBase) + "capabilities:\n  reports_remote_config: true\n");
  ASSERT_TRUE(deprecated.config);
  ASSERT_EQ(deprecated.warnings.size(), 1u) << describe(deprecated.warnings);
  EXPECT_EQ(deprecated.warnings[0].key, "capabilities.reports_remote_config");
  EXPECT_NE(deprecated.warnings[0].message.find("deprecated"), std::string::npos);
  // Alone it advertises nothing.
  const CapabilityDecision alone = decide_capabilities(*deprecated.config, all_modules());
  EXPECT_EQ(alone.advertised & bit::kReportsRemoteConfig, 0u);
  EXPECT_TRUE(alone.errors.empty()) << describe(alone.errors);
}

TEST(CapabilityRule, HeartbeatBelongsToTheCore) {
  const CapabilityDecision on = decide_capabilities(expect_loads(load_text(kBase)), {});
  EXPECT_NE(on.advertised & bit::kReportsHeartbeat, 0u);
  const CapabilityDecision written_on =
      decide_capabilities(with_capabilities("  reports_heartbeat: true\n"), {});
  EXPECT_NE(written_on.advertised & bit::kReportsHeartbeat, 0u);
  EXPECT_TRUE(written_on.errors.empty());
  const CapabilityDecision off =
      decide_capabilities(with_capabilities("  reports_heartbeat: false\n"), all_modules());
  EXPECT_EQ(off.advertised & bit::kReportsHeartbeat, 0u);
  EXPECT_NE(off.advertised & bit::kReportsStatus, 0u);
}

TEST(CapabilityRule, AcceptsPackagesSetsBothBits) {
  const SupervisorConfig config = with_capabilities("  accepts_packages: true\n");
  const CapabilityDecision decision = decide_capabilities(config, all_modules());
  EXPECT_EQ(decision.advertised & (bit::kAcceptsPackages | bit::kReportsPackageStatuses),
            bit::kAcceptsPackages | bit::kReportsPackageStatuses);
  const CapabilityDecision missing = decide_capabilities(config, without("packages"));
  ASSERT_EQ(missing.errors.size(), 1u);
  EXPECT_NE(missing.errors[0].message.find(
                "module \"packages\" (AcceptsPackages, ReportsPackageStatuses)"),
            std::string::npos);
  EXPECT_EQ(missing.advertised & (bit::kAcceptsPackages | bit::kReportsPackageStatuses), 0u);
}

TEST(CapabilityRule, NocapConfigAdvertisesStatusAndHeartbeatOnly) {
  const SupervisorConfig config = expect_loads(load_supervisor_config(
      testing::kTestdata + "/supervisor_nocap.yaml", testing::options_with({})));
  const CapabilityDecision decision = decide_capabilities(config, all_modules());
  EXPECT_EQ(decision.advertised, bit::kReportsStatus | bit::kReportsHeartbeat);
  EXPECT_TRUE(decision.errors.empty());
}

TEST(CapabilityRule, ThirdPartyOwnerCountsByBits) {
  const SupervisorConfig config = with_capabilities("  accepts_restart_command: true\n");
  const CapabilityDecision decision =
      decide_capabilities(config, {{"com.example.restart", bit::kAcceptsRestartCommand}});
  EXPECT_TRUE(decision.errors.empty()) << describe(decision.errors);
  EXPECT_NE(decision.advertised & bit::kAcceptsRestartCommand, 0u);
}

TEST(CapabilityRule, EveryWrittenKeyWithoutModuleIsReported) {
  const SupervisorConfig config = with_capabilities(
      "  accepts_remote_config: true\n  accepts_restart_command: true\n"
      "  reports_own_logs: true\n  accepts_other_connection_settings: true\n");
  const CapabilityDecision decision = decide_capabilities(config, {});
  EXPECT_EQ(decision.errors.size(), 4u) << describe(decision.errors);
  EXPECT_EQ(capability_names(bit::kReportsStatus | bit::kReportsHeartbeat),
            "ReportsStatus|ReportsHeartbeat");
}

}  // namespace
}  // namespace opsup::config
