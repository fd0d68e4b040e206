// The upstream example shapes (reference section 1.8) and every etc/ config load.
#include <gtest/gtest.h>

#include <chrono>

#include "config/capabilities.hpp"
#include "test_support.hpp"

namespace opsup::config {
namespace {

using namespace std::chrono_literals;
using testing::describe;
using testing::expect_loads;
using testing::kTestdata;
using testing::options_with;

SupervisorConfig load_fixture(const std::string &name,
                              const LoadOptions &options = options_with({})) {
  const LoadResult result = load_supervisor_config(kTestdata + "/" + name, options);
  // Upstream's older examples still write the deprecated reports_remote_config.
  Diagnostics others;
  for (const auto &warning : result.warnings) {
    if (warning.key != "capabilities.reports_remote_config")
      others.push_back(warning);
  }
  EXPECT_TRUE(others.empty()) << describe(others);
  return expect_loads(result);
}

TEST(ExampleShapes, LinuxLikeWssWithInsecureSkipVerify) {
  const SupervisorConfig config = load_fixture("supervisor_linux_like.yaml");
  EXPECT_EQ(config.server.endpoint, "wss://127.0.0.1:4320/v1/opamp");
  EXPECT_TRUE(config.server.uses_tls());
  EXPECT_TRUE(config.server.tls.insecure_skip_verify);
  EXPECT_TRUE(config.capabilities.reports_own_logs.enabled);
  EXPECT_TRUE(config.capabilities.reports_own_traces.written);
  EXPECT_TRUE(config.capabilities.accepts_remote_config.enabled);
  EXPECT_EQ(config.storage.directory, ".");
  EXPECT_EQ(config.agent.executable, "../../bin/otelcontribcol_linux_amd64");
}

TEST(ExampleShapes, DarwinLikeWithoutOwnLogsAndTraces) {
  const SupervisorConfig config = load_fixture("supervisor_darwin_like.yaml");
  EXPECT_EQ(config.server.scheme(), "wss");
  EXPECT_TRUE(config.server.tls.insecure_skip_verify);
  EXPECT_FALSE(config.server.tls.insecure);
  EXPECT_TRUE(config.capabilities.accepts_remote_config.enabled);
  EXPECT_TRUE(config.capabilities.reports_remote_config.enabled);
  EXPECT_TRUE(config.capabilities.reports_health.written);
  // Not written, so upstream's defaults: own logs and traces off, heartbeats on.
  EXPECT_FALSE(config.capabilities.reports_own_logs.enabled);
  EXPECT_FALSE(config.capabilities.reports_own_logs.written);
  EXPECT_FALSE(config.capabilities.reports_own_traces.enabled);
  EXPECT_TRUE(config.capabilities.reports_heartbeat.enabled);
  EXPECT_EQ(config.agent.executable, "../../bin/otelcontribcol_darwin_arm64");
  EXPECT_EQ(config.storage.directory, ".");
}

TEST(ExampleShapes, WindowsLikeKeepsBackslashesInEveryQuotingStyle) {
  const SupervisorConfig config = load_fixture("supervisor_windows_like.yaml");
  EXPECT_TRUE(config.server.uses_tls());
  EXPECT_TRUE(config.server.tls.insecure_skip_verify);
  EXPECT_TRUE(config.capabilities.reports_own_traces.enabled);
  // Double-quoted: "\\" is one backslash.
  EXPECT_EQ(config.agent.executable.string(),
            "C:\\Program Files\\OpenTelemetry Collector\\otelcol-contrib.exe");
  // Plain scalar: backslashes and the drive colon stay as written.
  ASSERT_EQ(config.agent.config_files.size(), 3u);
  EXPECT_EQ(config.agent.config_files[0], "C:\\ProgramData\\Otelcol\\base.yaml");
  EXPECT_EQ(config.agent.config_files[1], kOpampExtensionConfigToken);
  EXPECT_EQ(config.agent.config_files[2], kRemoteConfigToken);
  // Single-quoted: no escapes at all.
  EXPECT_EQ(config.storage.directory.string(), "C:\\ProgramData\\Otelcol\\Supervisor");
}

TEST(ExampleShapes, DockerLikeStoresStateOnTheVolume) {
  const SupervisorConfig config = load_fixture("supervisor_docker_like.yaml");
  EXPECT_EQ(config.server.endpoint, "wss://127.0.0.1:4320/v1/opamp");
  EXPECT_TRUE(config.server.tls.insecure_skip_verify);
  EXPECT_TRUE(config.capabilities.reports_own_logs.enabled);
  EXPECT_TRUE(config.capabilities.reports_own_metrics.enabled);
  EXPECT_EQ(config.agent.executable, "/otelcontribcol");
  EXPECT_EQ(config.storage.directory.string(), "/etc/otel/supervisor-data/");
}

TEST(ExampleShapes, HttpWithHeadersAndLocalLayers) {
  const SupervisorConfig config = load_fixture("supervisor_http_headers.yaml");
  EXPECT_EQ(config.server.scheme(), "http");
  EXPECT_FALSE(config.server.uses_websocket());
  ASSERT_EQ(config.server.headers.size(), 3u);
  EXPECT_EQ(config.server.headers[0].value, "Secret-Key abc-123");
  EXPECT_EQ(config.server.headers[1].name, "X-Tenant");
  EXPECT_TRUE(config.agent.passthrough_logs);
  EXPECT_EQ(config.agent.config_files.size(), 4u);
  EXPECT_EQ(config.agent.args.size(), 1u);
  ASSERT_TRUE(config.agent.env.has_value());
  EXPECT_EQ(config.agent.env->at("GOMEMLIMIT"), "512MiB");
  EXPECT_EQ(config.telemetry.logs.level, "debug");
  EXPECT_FALSE(config.capabilities.reports_own_metrics.enabled);
}

TEST(ExampleShapes, FallbackConfigsMustExist) {
  const SupervisorConfig config =
      load_fixture("supervisor_fallback.yaml", options_with({{"OPSUP_TESTDATA", kTestdata}}));
  ASSERT_EQ(config.agent.startup_fallback_configs.size(), 2u);
  EXPECT_EQ(config.agent.startup_fallback_configs[0], kTestdata + "/collector_fallback.yaml");

  // With the variable pointing elsewhere both entries are reported, each at its line.
  const LoadResult missing = load_supervisor_config(
      kTestdata + "/supervisor_fallback.yaml", options_with({{"OPSUP_TESTDATA", "/nonexistent"}}));
  ASSERT_EQ(missing.errors.size(), 2u) << describe(missing.errors);
  EXPECT_EQ(missing.errors[0].key, "agent.startup_fallback_configs[0]");
  EXPECT_EQ(missing.errors[0].line, 12);
  EXPECT_EQ(missing.errors[1].line, 13);
}

TEST(ExampleShapes, NoCapabilities) {
  const SupervisorConfig config = load_fixture("supervisor_nocap.yaml");
  EXPECT_FALSE(config.capabilities.reports_effective_config.enabled);
  EXPECT_TRUE(config.capabilities.reports_effective_config.written);
  EXPECT_FALSE(config.capabilities.reports_health.enabled);
  EXPECT_TRUE(config.capabilities.reports_heartbeat.enabled);
}

TEST(ExampleShapes, BearerTokenExtensions) {
  const SupervisorConfig config =
      load_fixture("supervisor_auth_bearer.yaml", options_with({}, {kExtensionsFeatureGate}));
  EXPECT_EQ(config.server.auth, "bearertokenauth/file");
  ASSERT_EQ(config.extensions.size(), 2u);
  const ExtensionConfig *file = config.find_extension("bearertokenauth/file");
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(file->type, "bearertokenauth");
  EXPECT_EQ(file->name, "file");
  const auto &bearer = std::get<BearerTokenAuthConfig>(file->settings);
  EXPECT_EQ(bearer.filename, "/etc/otelcol/opamp.token");
  EXPECT_EQ(bearer.header, "X-OpAMP-Token");
  EXPECT_EQ(bearer.scheme, "Token");
  const auto &inline_token =
      std::get<BearerTokenAuthConfig>(config.find_extension("bearertokenauth")->settings);
  EXPECT_EQ(inline_token.token, "s3cr3t-inline-token");
  EXPECT_EQ(inline_token.header, "Authorization");
  EXPECT_EQ(inline_token.scheme, "Bearer");
}

TEST(ExampleShapes, BasicAuthExtension) {
  const SupervisorConfig config =
      load_fixture("supervisor_auth_basic.yaml", options_with({}, {kExtensionsFeatureGate}));
  const auto &basic = std::get<BasicAuthConfig>(config.find_extension("basicauth")->settings);
  EXPECT_EQ(basic.username, "collector");
  EXPECT_EQ(basic.password, "b4sic-p4ssword");
}

TEST(ExampleShapes, OAuth2ClientCredentialsExtension) {
  const SupervisorConfig config =
      load_fixture("supervisor_auth_oauth2.yaml", options_with({}, {kExtensionsFeatureGate}));
  const auto &oauth = std::get<OAuth2ClientConfig>(config.find_extension("oauth2client")->settings);
  EXPECT_EQ(oauth.client_id, "supervisor");
  EXPECT_EQ(oauth.client_secret, "0auth-cl1ent-secret");
  EXPECT_EQ(oauth.token_url, "https://auth.example.com/oauth2/token");
  EXPECT_EQ(oauth.scopes, std::vector<std::string>{"opamp"});
  EXPECT_EQ(oauth.endpoint_params.at("audience"), std::vector<std::string>{"opamp-server"});
  EXPECT_EQ(oauth.timeout, 10s);
  EXPECT_EQ(oauth.tls.ca_file, "/etc/ssl/auth-ca.pem");
}

TEST(ExampleShapes, AuthFixturesNeedTheGate) {
  for (const char *name : {"supervisor_auth_bearer.yaml", "supervisor_auth_basic.yaml",
                           "supervisor_auth_oauth2.yaml"}) {
    const LoadResult result = load_supervisor_config(kTestdata + "/" + name, options_with({}));
    ASSERT_EQ(result.errors.size(), 1u) << name << "\n" << describe(result.errors);
    EXPECT_EQ(result.errors[0].key, "extensions");
  }
}

class EtcConfig : public ::testing::TestWithParam<std::string> {};

// As written, with no variable set (the fallback config must exist, so that one is set).
TEST_P(EtcConfig, Loads) {
  const std::string path = std::string(OPSUP_ETC_DIR) + "/" + GetParam();
  const LoadResult result = load_supervisor_config(
      path, options_with({{"OPSUP_FALLBACK_CONFIG",
                           std::string(OPSUP_ETC_DIR) + "/collector-fallback.yaml"}}));
  EXPECT_TRUE(result.ok()) << path << "\n" << describe(result.errors);
  EXPECT_TRUE(result.warnings.empty()) << describe(result.warnings);
}

INSTANTIATE_TEST_SUITE_P(All, EtcConfig,
                         ::testing::Values("supervisor.yaml", "supervisor-minimal.yaml",
                                           "supervisor-http.yaml", "supervisor-tls.yaml",
                                           "supervisor-linux.yaml", "supervisor-docker.yaml",
                                           "supervisor-fallback.yaml"),
                         [](const ::testing::TestParamInfo<std::string> &info) {
                           std::string name = info.param.substr(0, info.param.find('.'));
                           std::erase(name, '-');
                           return name;
                         });

// The examples equivalent to upstream's cmd/opampsupervisor/examples keep their shape: the
// defaults of their ${env:...:-default} values are upstream's, the variables point them at a
// test server and Collector.
TEST(EtcConfigs, UpstreamExamplesKeepTheirShapeAndTakeTheirVariables) {
  const std::string etc = OPSUP_ETC_DIR;
  const SupervisorConfig linux =
      expect_loads(load_supervisor_config(etc + "/supervisor-linux.yaml", options_with({})));
  EXPECT_EQ(linux.server.endpoint, "wss://127.0.0.1:4320/v1/opamp");
  EXPECT_TRUE(linux.server.tls.insecure_skip_verify);
  EXPECT_TRUE(linux.capabilities.reports_own_metrics.written);
  EXPECT_FALSE(linux.capabilities.reports_own_logs.enabled);
  EXPECT_TRUE(linux.capabilities.accepts_remote_config.enabled);
  EXPECT_EQ(linux.storage.directory, ".");
  EXPECT_EQ(linux.agent.executable, "/usr/bin/otelcol-contrib");

  const SupervisorConfig docker = expect_loads(load_supervisor_config(
      etc + "/supervisor-docker.yaml",
      options_with({{"OPAMP_ENDPOINT", "wss://127.0.0.1:9/v1/opamp"}, {"OTELCOL_BIN", "/bin/c"}})));
  EXPECT_EQ(docker.server.endpoint, "wss://127.0.0.1:9/v1/opamp");
  EXPECT_EQ(docker.agent.executable, "/bin/c");
  EXPECT_EQ(docker.storage.directory.string(), "/etc/otel/supervisor-data/");
  EXPECT_TRUE(docker.capabilities.reports_own_logs.enabled);
  EXPECT_TRUE(docker.capabilities.reports_own_traces.enabled);

  const SupervisorConfig fallback = expect_loads(load_supervisor_config(
      etc + "/supervisor-fallback.yaml",
      options_with({{"OPSUP_FALLBACK_CONFIG", etc + "/collector-fallback.yaml"},
                    {"OPAMP_CA_FILE", etc + "/collector-fallback.yaml"}})));
  ASSERT_EQ(fallback.agent.startup_fallback_configs.size(), 1u);
  EXPECT_EQ(fallback.agent.startup_fallback_configs[0], etc + "/collector-fallback.yaml");
  EXPECT_EQ(fallback.server.tls.ca_file, etc + "/collector-fallback.yaml");
  EXPECT_FALSE(fallback.server.tls.insecure_skip_verify);
  EXPECT_TRUE(fallback.capabilities.accepts_restart_command.enabled);

  const SupervisorConfig http = expect_loads(load_supervisor_config(
      etc + "/supervisor-http.yaml", options_with({{"OTELCOL_CONFIG", "/tmp/c.yaml"}})));
  EXPECT_EQ(http.server.scheme(), "http");
  EXPECT_TRUE(http.agent.passthrough_logs);
  ASSERT_EQ(http.agent.config_files.size(), 4u);
  EXPECT_EQ(http.agent.config_files[1], "/tmp/c.yaml");
  EXPECT_EQ(http.telemetry.logs.level, "debug");
  EXPECT_TRUE(http.capabilities.reports_own_traces.enabled);
}

TEST(EtcConfigs, DocumentedFileShowsDefaults) {
  const SupervisorConfig config = expect_loads(
      load_supervisor_config(std::string(OPSUP_ETC_DIR) + "/supervisor.yaml", options_with({})));
  EXPECT_EQ(config.agent.config_apply_timeout, 5s);
  EXPECT_TRUE(config.capabilities.accepts_remote_config.written);
  EXPECT_TRUE(config.server.uses_tls());
}

}  // namespace
}  // namespace opsup::config
