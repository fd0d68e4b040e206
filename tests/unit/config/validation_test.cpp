// Every static validation rule: a failing file, and the error names the key and the line.
#include <gtest/gtest.h>

#include <string>

#include "test_support.hpp"

namespace opsup::config {
namespace {

using testing::describe;
using testing::expect_loads;
using testing::find_by_key;
using testing::kBase;
using testing::load_text;
using testing::options_with;

struct RuleCase {
  std::string name;
  std::string yaml;
  std::string key;      // dotted key the error must name
  int line;             // 1-based line it must name
  std::string excerpt;  // part of the message
  bool extensions_gate = false;
};

// Test names in ctest show the case name rather than the struct's bytes.
void PrintTo(const RuleCase &rule, std::ostream *out) {
  *out << rule.name;
}

std::string base(std::string_view extra) {
  return std::string(kBase) + std::string(extra);
}

std::string with_server(std::string_view server_lines) {
  return "server:\n  endpoint: wss://127.0.0.1:4320/v1/opamp\n" + std::string(server_lines) +
         "agent:\n  executable: /usr/bin/otelcol\n";
}

class ValidationRule : public ::testing::TestWithParam<RuleCase> {};

TEST_P(ValidationRule, NamesKeyAndLine) {
  const RuleCase &rule = GetParam();
  LoadOptions options =
      options_with({}, rule.extensions_gate ? std::set<std::string>{kExtensionsFeatureGate}
                                            : std::set<std::string>{});
  const LoadResult result = load_text(rule.yaml, options);
  ASSERT_FALSE(result.ok()) << "expected an error for " << rule.key;
  EXPECT_FALSE(result.config.has_value());
  const Diagnostic *error = find_by_key(result.errors, rule.key);
  ASSERT_NE(error, nullptr) << "no error for key " << rule.key << "; got:\n"
                            << describe(result.errors);
  EXPECT_EQ(error->line, rule.line) << error->to_string();
  EXPECT_EQ(error->file, "supervisor.yaml");
  EXPECT_NE(error->message.find(rule.excerpt), std::string::npos) << error->to_string();
  const std::string prefix =
      "supervisor.yaml:" + std::to_string(rule.line) + ": " + rule.key + ": ";
  EXPECT_EQ(error->to_string().rfind(prefix, 0), 0u) << error->to_string();
}

const std::string kLongSocket = "/" + std::string(107, 'a');  // 108 bytes

INSTANTIATE_TEST_SUITE_P(
    Rules, ValidationRule,
    ::testing::Values(
        RuleCase{"EndpointRequired", "server:\n  headers: {}\nagent:\n  executable: /x\n",
                 "server.endpoint", 1, "must be specified"},
        RuleCase{"EndpointScheme", "server:\n  endpoint: ftp://h:1/v1\nagent:\n  executable: /x\n",
                 "server.endpoint", 2, "invalid scheme \"ftp\""},
        RuleCase{"EndpointNotUrl", "server:\n  endpoint: not a url\nagent:\n  executable: /x\n",
                 "server.endpoint", 2, "must be a URL"},
        RuleCase{"InstanceIdUuid", base("  instance_id: not-a-uuid\n"), "agent.instance_id", 5,
                 "must be a valid UUID"},
        RuleCase{"OrphanDetectionPositive", base("  orphan_detection_interval: 0s\n"),
                 "agent.orphan_detection_interval", 5, "must be a positive duration, got \"0s\""},
        RuleCase{"ConfigApplyTimeoutPositive", base("  config_apply_timeout: 0s\n"),
                 "agent.config_apply_timeout", 5, "must be a positive duration, got \"0s\""},
        RuleCase{"BootstrapTimeoutPositive", base("  bootstrap_timeout: -1s\n"),
                 "agent.bootstrap_timeout", 5, "must be a positive duration, got \"-1s\""},
        RuleCase{"DurationNeedsUnit", base("  bootstrap_timeout: 5\n"), "agent.bootstrap_timeout",
                 5, "missing unit"},
        RuleCase{"DurationUnknownUnit", base("  bootstrap_timeout: 5d\n"),
                 "agent.bootstrap_timeout", 5, "unknown unit \"d\""},
        RuleCase{"ServerPortTooLarge", base("  opamp_server_port: 70000\n"),
                 "agent.opamp_server_port", 5, "between 0 and 65535, got 70000"},
        RuleCase{"ServerPortNegative", base("  opamp_server_port: -1\n"), "agent.opamp_server_port",
                 5, "between 0 and 65535, got -1"},
        RuleCase{"ServerPortNotNumber", base("  opamp_server_port: http\n"),
                 "agent.opamp_server_port", 5, "must be an integer"},
        RuleCase{"UnixSocketAbsolute", base("  opamp_server_unix_socket: run/opamp.sock\n"),
                 "agent.opamp_server_unix_socket", 5, "must be an absolute path"},
        RuleCase{"UnixSocketLength", base("  opamp_server_unix_socket: " + kLongSocket + "\n"),
                 "agent.opamp_server_unix_socket", 5, "limit of 107 bytes"},
        RuleCase{"UnixSocketExclusiveWithPort",
                 base("  opamp_server_port: 4321\n  opamp_server_unix_socket: /run/o.sock\n"),
                 "agent.opamp_server_unix_socket", 6, "agent.opamp_server_port"},
        RuleCase{"SocketModeNeedsSocket", base("  opamp_server_unix_socket_mode: \"0660\"\n"),
                 "agent.opamp_server_unix_socket_mode", 5,
                 "requires agent.opamp_server_unix_socket"},
        RuleCase{"SocketModeOctal",
                 base("  opamp_server_unix_socket: /run/o.sock\n"
                      "  opamp_server_unix_socket_mode: \"0800\"\n"),
                 "agent.opamp_server_unix_socket_mode", 6, "between \"0\" and \"0777\""},
        RuleCase{"SocketModeRange",
                 base("  opamp_server_unix_socket: /run/o.sock\n"
                      "  opamp_server_unix_socket_mode: \"1777\"\n"),
                 "agent.opamp_server_unix_socket_mode", 6, "between \"0\" and \"0777\""},
        RuleCase{"SocketEndpointAbsolute",
                 base("  opamp_server_socket:\n    endpoint: run/o.sock\n"),
                 "agent.opamp_server_socket.endpoint", 6, "must be an absolute path"},
        RuleCase{"SocketEndpointLength",
                 base("  opamp_server_socket:\n    endpoint: " + kLongSocket + "\n"),
                 "agent.opamp_server_socket.endpoint", 6, "limit of 107 bytes"},
        RuleCase{"SocketEndpointRequired", base("  opamp_server_socket:\n    transport: unix\n"),
                 "agent.opamp_server_socket.endpoint", 5, "must be specified"},
        RuleCase{"SocketTransportNamedPipe",
                 base("  opamp_server_socket:\n    endpoint: /run/o.sock\n"
                      "    transport: npipe\n"),
                 "agent.opamp_server_socket.transport", 7, "not supported on this platform"},
        RuleCase{"SocketTransportUnknown",
                 base("  opamp_server_socket:\n    endpoint: /run/o.sock\n"
                      "    transport: tcp\n"),
                 "agent.opamp_server_socket.transport", 7, "must be \"unix\" or \"npipe\""},
        RuleCase{"SocketUnknownKey",
                 base("  opamp_server_socket:\n    endpoint: /run/o.sock\n    mode: x\n"),
                 "agent.opamp_server_socket.mode", 7, "unknown"},
        RuleCase{"SocketExclusiveWithPort",
                 base("  opamp_server_port: 4321\n  opamp_server_socket:\n"
                      "    endpoint: /run/o.sock\n"),
                 "agent.opamp_server_socket", 6, "agent.opamp_server_port"},
        RuleCase{"SocketExclusiveWithOlderKey",
                 base("  opamp_server_unix_socket: /run/a.sock\n  opamp_server_socket:\n"
                      "    endpoint: /run/o.sock\n"),
                 "agent.opamp_server_socket", 6, "older name"},
        RuleCase{"NewSocketModeNeedsSocket", base("  opamp_server_socket_mode: \"0660\"\n"),
                 "agent.opamp_server_socket_mode", 5, "requires agent.opamp_server_socket"},
        RuleCase{"NewSocketModeOctal",
                 base("  opamp_server_socket:\n    endpoint: /run/o.sock\n"
                      "  opamp_server_socket_mode: \"0778\"\n"),
                 "agent.opamp_server_socket_mode", 7, "between \"0\" and \"0777\""},
        RuleCase{"CrashLogSnippetMax", base("  collector_crash_log_snippet_kib: 1025\n"),
                 "agent.collector_crash_log_snippet_kib", 5, "between 0 and 1024, got 1025"},
        RuleCase{"CrashLogSnippetNegative", base("  collector_crash_log_snippet_kib: -1\n"),
                 "agent.collector_crash_log_snippet_kib", 5, "between 0 and 1024"},
        RuleCase{"ConfigFilesSpecialTokens",
                 base("  config_files:\n    - /etc/a.yaml\n    - $NOT_A_TOKEN\n"),
                 "agent.config_files[1]", 7, "is not a special config file"},
        RuleCase{"ExecutableRequired",
                 "server:\n  endpoint: ws://h:1/v1/opamp\nagent:\n  passthrough_logs: true\n",
                 "agent.executable", 3, "must be specified"},
        RuleCase{"FallbackConfigNotEmpty", base("  startup_fallback_configs: [\"\"]\n"),
                 "agent.startup_fallback_configs[0]", 5, "must not be empty"},
        RuleCase{"FallbackConfigExists",
                 base("  startup_fallback_configs: [/nonexistent/fallback.yaml]\n"),
                 "agent.startup_fallback_configs[0]", 5, "could not stat"},
        RuleCase{"PackageArchive", base("  package:\n    archive: zip\n"), "agent.package.archive",
                 6, "unsupported archive format"},
        RuleCase{"PackageVerifierType", base("  package:\n    verifier:\n      type: gpg\n"),
                 "agent.package.verifier.type", 7, "invalid verifier type"},
        RuleCase{"CosignIdentity",
                 base("  package:\n    verifier:\n      type: cosign\n      cosign:\n"
                      "        identities:\n          - issuer: a\n            issuer_regex: b\n"
                      "            subject: s\n"),
                 "agent.package.verifier.cosign.identities[0]", 10, "both issuer and issuer_regex"},
        RuleCase{"ServerAuthNamesExtension",
                 "server:\n  endpoint: ws://h:1/v1/opamp\n  auth: bearertokenauth\nagent:\n"
                 "  executable: /x\n",
                 "server.auth", 3, "not configured under extensions"},
        RuleCase{"ServerAuthSyntax",
                 "server:\n  endpoint: ws://h:1/v1/opamp\n  auth: bearer token\nagent:\n"
                 "  executable: /x\n",
                 "server.auth", 3, "invalid component type"},
        RuleCase{"ExtensionsNeedFeatureGate",
                 base("extensions:\n  bearertokenauth:\n    token: abc\n"), "extensions", 5,
                 "--feature-gates=opampsupervisor.Extensions"},
        RuleCase{"ExtensionUnknownType", base("extensions:\n  apikeyauth:\n    key: x\n"),
                 "extensions.apikeyauth", 6, "unknown extension type \"apikeyauth\"", true},
        RuleCase{"ExtensionInvalidId", base("extensions:\n  9bad:\n    token: x\n"),
                 "extensions.9bad", 6, "invalid extension id", true},
        RuleCase{"BearerNeedsToken", base("extensions:\n  bearertokenauth/x:\n    header: X\n"),
                 "extensions.bearertokenauth/x", 6, "no bearer token provided", true},
        RuleCase{"BasicNeedsClientAuth",
                 base("extensions:\n  basicauth:\n    htpasswd:\n      inline: a:b\n"),
                 "extensions.basicauth", 6, "no credential source provided", true},
        RuleCase{"OAuth2NeedsSecret", base("extensions:\n  oauth2client:\n    client_id: a\n"),
                 "extensions.oauth2client", 6, "no client_secret provided", true},
        RuleCase{"OAuth2GrantType",
                 base("extensions:\n  oauth2client:\n    client_id: a\n    client_secret: b\n"
                      "    token_url: https://a/t\n    grant_type: password\n"),
                 "extensions.oauth2client.grant_type", 10, "only \"client_credentials\"", true},
        RuleCase{"HealthcheckPort", base("healthcheck:\n  endpoint: localhost:70000\n"),
                 "healthcheck.endpoint", 6, "valid port number"},
        RuleCase{"HealthcheckTlsNeedsCertificate",
                 base("healthcheck:\n  endpoint: localhost:8080\n  tls:\n    ca_file: /ca.pem\n"),
                 "healthcheck.tls", 7, "server certificate is required"},
        RuleCase{"LogsEncoding", base("telemetry:\n  logs:\n    encoding: xml\n"),
                 "telemetry.logs.encoding", 7, "\"json\" or \"console\""},
        RuleCase{"LogsLevel", base("telemetry:\n  logs:\n    level: verbose\n"),
                 "telemetry.logs.level", 7, "unrecognized level"},
        RuleCase{"LogsLevelMixedCase", base("telemetry:\n  logs:\n    level: Debug\n"),
                 "telemetry.logs.level", 7, "unrecognized level"},
        RuleCase{"LogsRotationSizeNotNegative",
                 base("telemetry:\n  logs:\n    rotation:\n      max_megabytes: -1\n"),
                 "telemetry.logs.rotation.max_megabytes", 8, "must be between 0 and"},
        RuleCase{"LogsRotationUnknownKey",
                 base("telemetry:\n  logs:\n    rotation:\n      max_size: 10\n"),
                 "telemetry.logs.rotation.max_size", 8, "unknown"},
        RuleCase{"LogsProcessorsShape", base("telemetry:\n  logs:\n    processors: {batch: {}}\n"),
                 "telemetry.logs.processors", 7, "must be a list"},
        RuleCase{"MetricsReadersShape",
                 base("telemetry:\n  metrics:\n    readers:\n      - periodic\n"),
                 "telemetry.metrics.readers[0]", 8, "must be a mapping"},
        RuleCase{"MetricsLevel", base("telemetry:\n  metrics:\n    level: loud\n"),
                 "telemetry.metrics.level", 7, "none, basic, normal or detailed"},
        RuleCase{"ResourceShape", base("telemetry:\n  resource: [a]\n"), "telemetry.resource", 6,
                 "must be a mapping"},
        RuleCase{"ResourceAttributesShape",
                 base("telemetry:\n  resource:\n    attributes:\n      - value: x\n"),
                 "telemetry.resource.attributes[0]", 8, "name and a value"},
        RuleCase{"UnknownTopLevelKey", base("servre:\n  endpoint: x\n"), "servre", 5,
                 "unknown key; did you mean \"server\"?"},
        RuleCase{"UnknownNestedKey", base("  config_apply_timout: 5s\n"),
                 "agent.config_apply_timout", 5, "did you mean \"config_apply_timeout\"?"},
        RuleCase{"UnknownCapability", base("capabilities:\n  reports_everything: true\n"),
                 "capabilities.reports_everything", 6, "unknown key"},
        RuleCase{"BooleanValue", base("  passthrough_logs: yes\n"), "agent.passthrough_logs", 5,
                 "must be true or false, got \"yes\""},
        RuleCase{"ListValue", base("  args: {a: b}\n"), "agent.args", 5, "must be a list"},
        RuleCase{"TlsVersion", with_server("  tls:\n    min_version: \"1.4\"\n"),
                 "server.tls.min_version", 4, "\"1.0\", \"1.1\", \"1.2\", \"1.3\""},
        RuleCase{"TlsMinAboveMax",
                 with_server("  tls:\n    min_version: \"1.3\"\n    max_version: \"1.2\"\n"),
                 "server.tls.max_version", 5, "cannot be greater than max_version"},
        RuleCase{"TlsCaExclusive", with_server("  tls:\n    ca_file: /a.pem\n    ca_pem: x\n"),
                 "server.tls.ca_pem", 5, "either ca_file or ca_pem"},
        RuleCase{"TlsCertNeedsKey", with_server("  tls:\n    cert_file: /c.pem\n"),
                 "server.tls.cert_file", 4, "provide both a certificate"},
        RuleCase{"TlsCertPemNeedsKey",
                 with_server("  tls:\n    ca_file: /ca.pem\n    cert_pem: x\n"),
                 "server.tls.cert_pem", 5, "provide both a certificate"},
        RuleCase{"TlsKeyNeedsCert", with_server("  tls:\n    key_file: /k.pem\n"),
                 "server.tls.key_file", 4, "provide both a certificate"},
        RuleCase{"TlsKeyPemNeedsCert",
                 with_server("  tls:\n    ca_file: /ca.pem\n    key_pem: x\n"),
                 "server.tls.key_pem", 5, "provide both a certificate"},
        RuleCase{"TlsCertFileAndPem",
                 with_server("  tls:\n    cert_file: /c.pem\n    cert_pem: x\n"
                             "    key_file: /k.pem\n"),
                 "server.tls.cert_pem", 5, "either cert_file or cert_pem, not both"},
        RuleCase{"TlsKeyFileAndPem",
                 with_server("  tls:\n    cert_file: /c.pem\n    key_file: /k.pem\n"
                             "    key_pem: x\n"),
                 "server.tls.key_pem", 6, "either key_file or key_pem, not both"},
        RuleCase{"TlsMaxVersion", with_server("  tls:\n    max_version: \"1.4\"\n"),
                 "server.tls.max_version", 4, "\"1.0\", \"1.1\", \"1.2\", \"1.3\""},
        RuleCase{"HealthcheckTlsKeyNeedsCert",
                 base("healthcheck:\n  endpoint: localhost:8080\n  tls:\n    key_file: /k.pem\n"),
                 "healthcheck.tls.key_file", 8, "provide both a certificate"},
        RuleCase{"ReconnectBounds",
                 with_server("  reconnect:\n    initial_interval: 10s\n    max_interval: 5s\n"),
                 "server.reconnect.max_interval", 5, "must not be shorter than initial_interval"},
        RuleCase{"MaxServerDelayPositive", with_server("  reconnect:\n    max_server_delay: 0s\n"),
                 "server.reconnect.max_server_delay", 4, "must be a positive duration"},
        RuleCase{"MaxServerDelayAtMost30Days",
                 with_server("  reconnect:\n    max_server_delay: 721h\n"),
                 "server.reconnect.max_server_delay", 4, "must be at most 720h0m0s"},
        RuleCase{"MaxMessageSize", with_server("  max_message_size_bytes: 10\n"),
                 "server.max_message_size_bytes", 3, "between 1024"},
        RuleCase{"HeartbeatInterval", with_server("  heartbeat_interval: 0s\n"),
                 "server.heartbeat_interval", 3, "must be a positive duration"},
        RuleCase{"DuplicateKey", base("  passthrough_logs: true\n  passthrough_logs: false\n"),
                 "agent.passthrough_logs", 6, "duplicate key (first written at line 5)"},
        RuleCase{"StorageDirectoryEmpty", base("storage:\n  directory: \"\"\n"),
                 "storage.directory", 6, "must not be empty"},
        RuleCase{"PluginModuleId", base("plugins:\n  \"bad id\": {}\n"), "plugins.bad id", 6,
                 "is not a valid module id"},
        RuleCase{"PluginDisableIds",
                 base("plugins:\n  disable:\n    - ok_id\n    - \"no/slash\"\n"),
                 "plugins.disable[1]", 8, "is not a valid module id"},
        RuleCase{"UnsupportedReference", base("  args: [\"${http://example.com}\"]\n"),
                 "agent.args[0]", 5, "only env: and file:"}),
    [](const ::testing::TestParamInfo<RuleCase> &info) { return info.param.name; });

// server.tls under ws:// and http://. Upstream (config/config.go@43194a33) skips only
// *loading* it for those schemes (I#35283): OpAMPServer.Validate() still runs
// TLS.Validate() whatever the scheme (configtls checks CA, certificate and key pairing and
// versions there), and the strict unmarshal still rejects unknown keys. So a valid block
// loads (make_session_options then leaves it unused: SessionOptionsMapping.PlainSchemesIgnoreTls)
// and an invalid one is an error as it is under wss://.
class PlainSchemeTls : public ::testing::TestWithParam<std::string> {};

std::string plain_server_with_tls(const std::string &endpoint, std::string_view tls_lines) {
  return "server:\n  endpoint: " + endpoint + "\n  tls:\n" + std::string(tls_lines) +
         "agent:\n  executable: /usr/bin/otelcol\n";
}

TEST_P(PlainSchemeTls, ValidBlockLoads) {
  const SupervisorConfig config = expect_loads(load_text(plain_server_with_tls(
      GetParam(),
      "    insecure: true\n    ca_file: /nonexistent/ca.pem\n"
      "    cert_file: /nonexistent/c.pem\n    key_file: /nonexistent/k.pem\n")));
  EXPECT_FALSE(config.server.uses_tls());
  EXPECT_TRUE(config.server.tls.insecure);
  EXPECT_EQ(config.server.tls.ca_file, "/nonexistent/ca.pem");
}

TEST_P(PlainSchemeTls, InvalidBlockIsAnErrorAsUpstreamValidates) {
  const LoadResult result = load_text(
      plain_server_with_tls(GetParam(), "    cert_file: /c.pem\n    min_version: \"1.4\"\n"));
  ASSERT_EQ(result.errors.size(), 2u) << describe(result.errors);
  EXPECT_EQ(result.errors[0].key, "server.tls.cert_file");
  EXPECT_EQ(result.errors[0].line, 4);
  EXPECT_EQ(result.errors[1].key, "server.tls.min_version");
  EXPECT_EQ(result.errors[1].line, 5);
}

TEST_P(PlainSchemeTls, UnknownKeyIsAnError) {
  const LoadResult result =
      load_text(plain_server_with_tls(GetParam(), "    insecure_skip_verfy: true\n"));
  const Diagnostic *error = find_by_key(result.errors, "server.tls.insecure_skip_verfy");
  ASSERT_NE(error, nullptr) << describe(result.errors);
  EXPECT_EQ(error->line, 4);
  EXPECT_NE(error->message.find("did you mean \"insecure_skip_verify\"?"), std::string::npos)
      << error->to_string();
}

INSTANTIATE_TEST_SUITE_P(Schemes, PlainSchemeTls,
                         ::testing::Values("ws://127.0.0.1:4320/v1/opamp",
                                           "http://127.0.0.1:4320/v1/opamp"),
                         [](const ::testing::TestParamInfo<std::string> &info) {
                           return info.param.substr(0, info.param.find(':'));
                         });

TEST(Validation, TlsErrorsNeverQuoteKeyMaterial) {
  const std::string secret = "SECRET-KEY-MATERIAL-7f3a";
  for (const char *endpoint : {"ws://h:1/v1/opamp", "wss://h:1/v1/opamp"}) {
    const LoadResult result = load_text(plain_server_with_tls(
        endpoint, "    cert_file: /c.pem\n    cert_pem: \"" + secret +
                      "\"\n    key_file: /k.pem\n    key_pem: \"" + secret + "\"\n"));
    ASSERT_EQ(result.errors.size(), 2u) << endpoint << "\n" << describe(result.errors);
    EXPECT_EQ(result.errors[0].key, "server.tls.cert_pem");
    EXPECT_EQ(result.errors[1].key, "server.tls.key_pem");
    for (const auto &error : result.errors) {
      EXPECT_EQ(error.to_string().find(secret), std::string::npos) << error.to_string();
    }
  }
}

TEST(Validation, MessageFormatMatchesTheDocumentedExample) {
  const LoadResult result = load_text(base("  config_apply_timeout: 0s\n"));
  ASSERT_EQ(result.errors.size(), 1u) << describe(result.errors);
  EXPECT_EQ(
      result.errors[0].to_string(),
      "supervisor.yaml:5: agent.config_apply_timeout: must be a positive duration, got \"0s\"");
}

TEST(Validation, CollectsEveryErrorInFileOrder) {
  const LoadResult result = load_text(
      "server:\n"                         // 1
      "  endpoint: ftp://h/v1\n"          // 2
      "agent:\n"                          // 3
      "  executable: /usr/bin/otelcol\n"  // 4
      "  bootstrap_timeout: 0s\n"         // 5
      "  opamp_server_port: 99999\n"      // 6
      "  colour: blue\n"                  // 7
      "telemetry:\n"                      // 8
      "  logs:\n"                         // 9
      "    encoding: xml\n");             // 10
  ASSERT_EQ(result.errors.size(), 5u) << describe(result.errors);
  const std::vector<std::pair<std::string, int>> expected{{"server.endpoint", 2},
                                                          {"agent.bootstrap_timeout", 5},
                                                          {"agent.opamp_server_port", 6},
                                                          {"agent.colour", 7},
                                                          {"telemetry.logs.encoding", 10}};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(result.errors[i].key, expected[i].first) << describe(result.errors);
    EXPECT_EQ(result.errors[i].line, expected[i].second) << describe(result.errors);
  }
}

TEST(Validation, ExtensionsGateErrorExplainsHowToEnable) {
  const LoadResult result = load_text(base("extensions:\n  bearertokenauth:\n    token: abc\n"));
  const Diagnostic *error = find_by_key(result.errors, "extensions");
  ASSERT_NE(error, nullptr) << describe(result.errors);
  EXPECT_NE(error->message.find("\"opampsupervisor.Extensions\" feature gate is not enabled"),
            std::string::npos);
  const LoadResult with_gate = load_text(base("extensions:\n  bearertokenauth:\n    token: abc\n"),
                                         options_with({}, {kExtensionsFeatureGate}));
  EXPECT_TRUE(with_gate.ok()) << describe(with_gate.errors);
}

TEST(Validation, InvalidYamlNamesTheLine) {
  const LoadResult result =
      load_text("server:\n  endpoint: ws://h:1/v1/opamp\nagent: [a,\n  b: c\n");
  ASSERT_EQ(result.errors.size(), 1u) << describe(result.errors);
  EXPECT_GT(result.errors[0].line, 0);
  EXPECT_NE(result.errors[0].message.find("invalid YAML"), std::string::npos);
}

TEST(Validation, TopLevelMustBeAMapping) {
  const LoadResult result = load_text("- server\n- agent\n");
  ASSERT_EQ(result.errors.size(), 1u) << describe(result.errors);
  EXPECT_EQ(result.errors[0].line, 1);
  EXPECT_NE(result.errors[0].message.find("must be a YAML mapping"), std::string::npos);
}

TEST(Validation, EmptyFileNeedsEndpointAndExecutable) {
  const LoadResult result = load_text("");
  EXPECT_NE(find_by_key(result.errors, "server.endpoint"), nullptr) << describe(result.errors);
  EXPECT_NE(find_by_key(result.errors, "agent.executable"), nullptr) << describe(result.errors);
}

TEST(Validation, UnreadableFileIsAnError) {
  const LoadResult result =
      load_supervisor_config("/nonexistent/dir/supervisor.yaml", options_with({}));
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].file, "/nonexistent/dir/supervisor.yaml");
  EXPECT_NE(result.errors[0].message.find("cannot read"), std::string::npos);
}

}  // namespace
}  // namespace opsup::config
