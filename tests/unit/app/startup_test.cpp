#include <gtest/gtest.h>

#include "app/session_options_mapping.hpp"
#include "app/startup.hpp"
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
