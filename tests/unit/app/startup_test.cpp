#include <gtest/gtest.h>

#include "app/session_options_mapping.hpp"
#include "app/startup.hpp"
#include "config/capabilities.hpp"
#include "config/capability_bits.hpp"
#include "config/config_loader.hpp"

namespace opsup::app {
namespace {

config::SupervisorConfig load(const std::string &text) {
  config::LoadOptions options;
  options.feature_gates = {"opampsupervisor.Extensions"};
  auto result = config::load_supervisor_config_from_string(text, "sup.yaml", options);
  EXPECT_TRUE(result.ok()) << (result.errors.empty() ? "" : result.errors[0].to_string());
  return *result.config;
}

TEST(Startup, ModuleErrorsGetTheConfigFileAndLine) {
  config::SupervisorConfig config = load(
      "server:\n  endpoint: ws://127.0.0.1:1/v1/opamp\n"
      "agent:\n  executable: /bin/true\n"
      "plugins:\n  com.example.mod:\n    rate: fast\n");
  EXPECT_EQ(locate_module_error(config, "plugins.com.example.mod.rate: must be a number"),
            "sup.yaml:7: plugins.com.example.mod.rate: must be a number");
  // Text that does not start with a key is left alone.
  EXPECT_EQ(locate_module_error(config, "could not open socket: denied"),
            "could not open socket: denied");
}

TEST(Startup, ModuleErrorsWithAReverseDnsIdGetTheLineOfTheirOwnKey) {
  // A sibling id that is a prefix of the module's id must not capture its key.
  config::SupervisorConfig config = load(
      "server:\n  endpoint: ws://127.0.0.1:1/v1/opamp\n"
      "agent:\n  executable: /bin/true\n"
      "plugins:\n"
      "  io.opsup.test:\n    mode: other\n"
      "  io.opsup.test.flaky:\n    level: 1\n    mode: fail_create\n");
  EXPECT_EQ(locate_module_error(config, "plugins.io.opsup.test.flaky.mode: bad"),
            "sup.yaml:10: plugins.io.opsup.test.flaky.mode: bad");
  // A key the module requires but that is not written: the line of its section.
  EXPECT_EQ(locate_module_error(config, "plugins.io.opsup.test.flaky.rate: required"),
            "sup.yaml:8: plugins.io.opsup.test.flaky.rate: required");
}

constexpr const char *kRestartWritten =
    "server:\n  endpoint: ws://127.0.0.1:1/v1/opamp\n"
    "agent:\n  executable: /bin/true\n"
    "capabilities:\n  accepts_restart_command: true\n";

TEST(Capabilities, AWrittenKeyWhoseOnlyModuleIsDisabledSaysSo) {
  const config::SupervisorConfig config =
      load(std::string(kRestartWritten) + "plugins:\n  disable: [com.example.restart]\n");
  const config::CapabilityDecision decision = config::decide_capabilities(
      config, {{"com.example.restart", config::capability::kAcceptsRestartCommand, true}});
  EXPECT_EQ(decision.advertised & config::capability::kAcceptsRestartCommand, 0u);
  ASSERT_EQ(decision.errors.size(), 1u);
  const std::string text = decision.errors[0].to_string();
  EXPECT_NE(text.find("sup.yaml:6"), std::string::npos) << text;
  EXPECT_NE(text.find("module \"com.example.restart\" (AcceptsRestartCommand), which is "
                      "disabled by plugins.disable"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("not installed"), std::string::npos) << text;
}

TEST(Capabilities, ADisabledBuiltInIdIsNamedEvenWhenItsFileIsAbsent) {
  const config::SupervisorConfig config =
      load(std::string(kRestartWritten) + "plugins:\n  disable: [restart_command]\n");
  const config::CapabilityDecision decision = config::decide_capabilities(config, {});
  ASSERT_EQ(decision.errors.size(), 1u);
  EXPECT_NE(decision.errors[0].message.find(
                "module \"restart_command\" (AcceptsRestartCommand), which is disabled by "
                "plugins.disable"),
            std::string::npos)
      << decision.errors[0].to_string();
}

TEST(Capabilities, ADefaultKeyWhoseModuleIsDisabledIsNotAdvertisedAndSaysWhy) {
  const config::SupervisorConfig config = load(
      "server:\n  endpoint: ws://127.0.0.1:1/v1/opamp\n"
      "agent:\n  executable: /bin/true\n"
      "plugins:\n  disable: [health]\n");
  const config::CapabilityDecision decision = config::decide_capabilities(
      config, {{"health", config::capability::kReportsHealth, /*disabled=*/true}});
  EXPECT_TRUE(decision.errors.empty());
  EXPECT_EQ(decision.advertised & config::capability::kReportsHealth, 0u);
  bool said = false;
  for (const auto &info : decision.infos) {
    if (info.find("capabilities.reports_health") != std::string::npos) {
      EXPECT_NE(info.find("is disabled by plugins.disable; not advertised"), std::string::npos)
          << info;
      said = true;
    }
  }
  EXPECT_TRUE(said);
}

TEST(SessionOptionsMapping, CarriesServerAuthAndTimeouts) {
  config::SupervisorConfig config = load(
      "server:\n"
      "  endpoint: wss://example.test:4320/v1/opamp\n"
      "  headers:\n    X-Tenant: acme\n"
      "  tls:\n    insecure_skip_verify: true\n    server_name_override: opamp.test\n"
      "  auth: bearertokenauth/main\n"
      "  connect_timeout: 7s\n"
      "  shutdown_timeout: 2s\n"
      "  reconnect:\n    initial_interval: 250ms\n    max_interval: 9s\n"
      "agent:\n  executable: /bin/true\n"
      "  instance_id: 018f0e4c-5c2b-7c1e-9c3a-0123456789ab\n"
      "  description:\n    identifying_attributes:\n      service.namespace: prod\n"
      "extensions:\n  bearertokenauth/main:\n    token: secret-token\n");
  session::SessionOptions options = make_session_options(config, 0x2001);
  EXPECT_EQ(options.endpoint, "wss://example.test:4320/v1/opamp");
  ASSERT_EQ(options.headers.size(), 1u);
  EXPECT_EQ(options.headers[0].name, "X-Tenant");
  EXPECT_TRUE(options.tls.insecure_skip_verify);
  EXPECT_EQ(options.tls.server_name_override, "opamp.test");
  const auto *bearer = std::get_if<session::BearerTokenAuth>(&options.auth);
  ASSERT_NE(bearer, nullptr);
  EXPECT_EQ(bearer->token, "secret-token");
  EXPECT_EQ(options.connect_timeout, std::chrono::seconds(7));
  EXPECT_EQ(options.shutdown_timeout, std::chrono::seconds(2));
  EXPECT_EQ(options.reconnect_initial_interval, std::chrono::milliseconds(250));
  EXPECT_EQ(options.reconnect_max_interval, std::chrono::seconds(9));
  ASSERT_TRUE(options.instance_id.has_value());
  EXPECT_EQ((*options.instance_id)[0], 0x01);
  EXPECT_EQ(options.capabilities, 0x2001u);
  EXPECT_EQ(options.description_overrides.identifying_attributes.at("service.namespace"), "prod");
}

TEST(SessionOptionsMapping, PlainSchemesIgnoreTls) {
  config::SupervisorConfig config = load(
      "server:\n  endpoint: http://127.0.0.1:4320/v1/opamp\n"
      "  tls:\n    insecure_skip_verify: true\n"
      "agent:\n  executable: /bin/true\n");
  EXPECT_FALSE(make_session_options(config, 1).tls.insecure_skip_verify);
}

}  // namespace
}  // namespace opsup::app
