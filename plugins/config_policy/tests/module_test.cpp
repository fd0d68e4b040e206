// Loads the built config_policy.so and drives it through the SDK's FakeHost.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <opsup/testing/fake_host.hpp>

namespace {

constexpr const char *kPolicy = R"(
access_dirs: {read: {deny: [/etc]}}
components: {receivers: {deny: [exec]}}
endpoints: {allowed_hosts: [localhost]}
)";

constexpr const char *kBadConfig = R"(
receivers:
  filelog: {include: [/etc/shadow]}
  exec: {command: /bin/true}
exporters:
  otlphttp: {endpoint: "https://collector.evil.test:4318"}
service:
  pipelines:
    logs: {receivers: [filelog, exec], exporters: [otlphttp]}
)";

constexpr const char *kCleanConfig = R"(
receivers:
  filelog: {include: [/var/log/app/*.log]}
exporters:
  otlphttp: {endpoint: "http://localhost:4318"}
service:
  pipelines:
    logs: {receivers: [filelog], exporters: [otlphttp]}
)";

class ConfigPolicyModule : public ::testing::Test {
 protected:
  void SetUp() override {
    library_ = dlopen(OPSUP_CONFIG_POLICY_MODULE, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(library_, nullptr) << dlerror();
    entry_ = reinterpret_cast<opsup_module_entry_fn>(dlsym(library_, "opsup_module_entry_v1"));
    ASSERT_NE(entry_, nullptr);
  }
  void TearDown() override {
    host_.reset();  // destroys the module before its code is unloaded
    if (library_ != nullptr)
      dlclose(library_);
  }
  // A loaded and started module with `settings` as its plugins.config_policy section.
  opsup::testing::FakeHost &start(const std::string &settings) {
    host_ = std::make_unique<opsup::testing::FakeHost>();
    EXPECT_EQ(host_->load(entry_), OPSUP_OK);
    host_->set_own_settings_yaml(settings);
    EXPECT_EQ(host_->create(), OPSUP_OK) << host_->last_error();
    EXPECT_EQ(host_->start(), OPSUP_OK);
    return *host_;
  }

  void *library_ = nullptr;
  opsup_module_entry_fn entry_ = nullptr;
  std::unique_ptr<opsup::testing::FakeHost> host_;
};

TEST_F(ConfigPolicyModule, VetoListsEveryViolation) {
  auto &host = start(kPolicy);
  std::string reason;
  EXPECT_EQ(host.validate_collector_config(kBadConfig, &reason), OPSUP_ERR_VETO);
  EXPECT_EQ(reason,
            "config_policy: 3 policy violations: "
            "1) receivers/filelog include[0]=/etc/shadow breaks access_dirs.read.deny: /etc; "
            "2) receivers/exec type=exec breaks components.receivers.deny: exec; "
            "3) exporters/otlphttp endpoint=https://collector.evil.test:4318 breaks "
            "endpoints.allowed_hosts (host collector.evil.test)");
}

TEST_F(ConfigPolicyModule, ALongVetoFitsTheReasonBufferAndEveryViolationIsLogged) {
  auto &host = start(kPolicy);
  std::string config = "receivers:\n";
  for (int i = 0; i < 60; ++i)
    config += "  exec/" + std::to_string(i) + ": {}\n";
  std::string reason;
  EXPECT_EQ(host.validate_collector_config(config, &reason), OPSUP_ERR_VETO);
  EXPECT_LT(reason.size(), 1023u);
  EXPECT_EQ(reason.rfind("config_policy: 60 policy violations: 1) receivers/exec/0", 0), 0u);
  EXPECT_TRUE(reason.ends_with(" more (see the log)")) << reason;
  size_t logged = 0;
  for (const auto &line : host.logs())
    logged += line.message.find("breaks components.receivers.deny: exec") != std::string::npos;
  EXPECT_EQ(logged, 60u);
}

TEST_F(ConfigPolicyModule, CleanConfigPasses) {
  auto &host = start(kPolicy);
  std::string reason;
  EXPECT_EQ(host.validate_collector_config(kCleanConfig, &reason), OPSUP_OK);
  EXPECT_EQ(reason, "");
}

TEST_F(ConfigPolicyModule, DefaultsAcceptEverything) {
  auto &host = start("");
  EXPECT_EQ(host.validate_collector_config(kBadConfig), OPSUP_OK);
}

TEST_F(ConfigPolicyModule, SanitiseModeStillRefusesAndLogsWhatItWouldRemove) {
  auto &host = start(std::string(kPolicy) + "mode: sanitise\n");
  EXPECT_EQ(host.validate_collector_config(kBadConfig), OPSUP_ERR_VETO);
  bool logged = false;
  for (const auto &line : host.logs())
    logged = logged || line.message.find("would have removed receivers/exec") != std::string::npos;
  EXPECT_TRUE(logged);
}

TEST_F(ConfigPolicyModule, SanitiseModeRewritesAServerGivenConfigAndSaysWhatItRemoved) {
  auto &host = start(std::string(kPolicy) + "mode: sanitise\n");
  constexpr const char *kMixed = R"(
receivers:
  filelog: {include: [/etc/shadow]}
  otlp: {protocols: {http: {endpoint: "localhost:4318"}}}
exporters:
  debug: {}
service:
  pipelines:
    logs: {receivers: [filelog, otlp], exporters: [debug]}
)";
  const auto rewrite = host.rewrite_collector_config(kMixed);
  EXPECT_EQ(rewrite.status, OPSUP_OK) << rewrite.report;
  ASSERT_TRUE(rewrite.rewritten);
  EXPECT_EQ(rewrite.rewritten->find("filelog"), std::string::npos) << *rewrite.rewritten;
  EXPECT_NE(rewrite.rewritten->find("otlp"), std::string::npos) << *rewrite.rewritten;
  EXPECT_NE(rewrite.report.find("removed receivers/filelog"), std::string::npos) << rewrite.report;
  // What it produced passes its own check.
  EXPECT_EQ(host.validate_collector_config(*rewrite.rewritten), OPSUP_OK);
  // A clean config is kept as it is.
  EXPECT_FALSE(host.rewrite_collector_config(kCleanConfig).rewritten);
}

TEST_F(ConfigPolicyModule, RefuseModeNeverRewrites) {
  auto &host = start(kPolicy);
  const auto rewrite = host.rewrite_collector_config(kBadConfig);
  EXPECT_EQ(rewrite.status, OPSUP_OK);
  EXPECT_FALSE(rewrite.rewritten);
}

TEST_F(ConfigPolicyModule, UnreadableConfigIsVetoed) {
  auto &host = start(kPolicy);
  std::string reason;
  EXPECT_EQ(host.validate_collector_config("receivers: [unclosed", &reason), OPSUP_ERR_VETO);
  EXPECT_NE(reason.find("not YAML"), std::string::npos) << reason;
}

TEST_F(ConfigPolicyModule, BadSettingIsRefusedWithItsKey) {
  host_ = std::make_unique<opsup::testing::FakeHost>();
  ASSERT_EQ(host_->load(entry_), OPSUP_OK);
  host_->set_own_settings_yaml("mode: lenient\n");
  EXPECT_EQ(host_->create(), OPSUP_ERR_INVALID_ARGUMENT);
  EXPECT_NE(host_->last_error().find("plugins.config_policy.mode: must be"), std::string::npos)
      << host_->last_error();
}

}  // namespace
