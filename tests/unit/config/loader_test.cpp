// Parsing into SupervisorConfig: defaults, every section, helpers around the loader.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "common/uuid.hpp"
#include "test_support.hpp"

namespace opsup::config {
namespace {

using common::format_uuid;
using common::parse_uuid;

using namespace std::chrono_literals;
using testing::describe;
using testing::expect_loads;
using testing::kBase;
using testing::load_text;
using testing::options_with;

TEST(Loader, MinimalConfigGetsUpstreamDefaults) {
  const SupervisorConfig config = expect_loads(load_text(kBase));
  EXPECT_EQ(config.server.endpoint, "ws://127.0.0.1:4320/v1/opamp");
  EXPECT_TRUE(config.server.uses_websocket());
  EXPECT_FALSE(config.server.uses_tls());
  EXPECT_EQ(config.server.max_message_size_bytes, 64u * 1024 * 1024);
  EXPECT_EQ(config.server.connect_timeout, 30s);
  EXPECT_EQ(config.server.reconnect.initial_interval, 1s);
  EXPECT_EQ(config.server.reconnect.max_interval, 60s);
  EXPECT_EQ(config.server.reconnect.max_server_delay, 1h);
  EXPECT_EQ(config.server.shutdown_timeout, 5s);
  EXPECT_EQ(config.server.heartbeat_interval, 30s);

  const CapabilitiesConfig &caps = config.capabilities;
  EXPECT_FALSE(caps.accepts_remote_config.enabled);
  EXPECT_TRUE(caps.reports_effective_config.enabled);
  EXPECT_TRUE(caps.reports_own_metrics.enabled);
  EXPECT_TRUE(caps.reports_health.enabled);
  EXPECT_TRUE(caps.reports_heartbeat.enabled);
  EXPECT_FALSE(caps.accepts_other_connection_settings.enabled);
  EXPECT_FALSE(caps.reports_connection_settings_status.enabled);
  EXPECT_FALSE(caps.reports_health.written);

  EXPECT_EQ(config.storage.directory, "/var/lib/otelcol/supervisor");
  EXPECT_EQ(config.agent.executable, "/usr/bin/otelcol");
  EXPECT_EQ(config.agent.orphan_detection_interval, 5s);
  EXPECT_EQ(config.agent.config_apply_timeout, 5s);
  EXPECT_EQ(config.agent.bootstrap_timeout, 3s);
  EXPECT_EQ(config.agent.opamp_server_port, 0);
  EXPECT_EQ(config.agent.unix_socket_file_mode(), 0600u);
  EXPECT_FALSE(config.agent.env.has_value());
  EXPECT_EQ(config.agent.package.agent_binary, "otelcol-contrib");
  EXPECT_EQ(config.telemetry.logs.level, "info");
  EXPECT_EQ(config.telemetry.logs.encoding, "json");
  EXPECT_EQ(config.telemetry.logs.output_paths, std::vector<std::string>{"stdout"});
  EXPECT_EQ(config.telemetry.logs.error_output_paths, std::vector<std::string>{"stderr"});
  EXPECT_EQ(config.telemetry.logs.rotation.max_megabytes, 0);
  EXPECT_EQ(config.telemetry.logs.rotation.max_backups, 3);
  EXPECT_FALSE(config.healthcheck.enabled());
  EXPECT_TRUE(config.extensions.empty());
  EXPECT_TRUE(config.plugins.module_sections.empty());
  EXPECT_EQ(config.source_name, "supervisor.yaml");
}

TEST(Loader, ReadsEverySection) {
  const std::string text = R"(server:
  endpoint: WSS://opamp.example.com:4320/v1/opamp
  headers:
    Authorization: Bearer abc
    X-Multi: [one, two]
  tls:
    ca_file: /etc/ssl/ca.pem
    include_system_ca_certs_pool: true
    min_version: "1.2"
    max_version: "1.3"
    server_name_override: opamp.internal
  max_message_size_bytes: 1048576
  connect_timeout: 1m30s
  reconnect:
    initial_interval: 250ms
    max_interval: 2m
    max_server_delay: 10m
  shutdown_timeout: 2s
  heartbeat_interval: 1h
capabilities:
  accepts_remote_config: true
  reports_health: false
  accepts_other_connection_settings: true
storage:
  directory: /srv/supervisor
agent:
  executable: /opt/otelcol/otelcol-contrib
  instance_id: 018f3a3c-8e2b-7cc0-9f3e-4b1d2c3a4b5c
  orphan_detection_interval: 2s
  description:
    identifying_attributes:
      service.name: edge
      deployment.version: 0123
    non_identifying_attributes:
      rack: "7"
    include_resource_attributes: true
  config_apply_timeout: 10s
  bootstrap_timeout: 1m
  opamp_server_unix_socket: /run/otelcol/opamp.sock
  opamp_server_unix_socket_mode: "0660"
  passthrough_logs: true
  collector_crash_log_snippet_kib: 4
  automatic_config_rollback: true
  use_hup_config_reload: true
  validate_config: true
  config_files: [$OWN_TELEMETRY_CONFIG, /etc/otelcol/base.yaml, env:EXTRA_CONFIG]
  args: --feature-gates=+foo
  env:
    GOMAXPROCS: 2
  package:
    agent_binary: otelcol
    archive: tar.gz
    verifier:
      type: cosign
      cosign:
        github_workflow_repository: open-telemetry/opentelemetry-collector-releases
        identities:
          - issuer: https://token.actions.githubusercontent.com
            subject_regex: ^https://github.com/open-telemetry/.*$
telemetry:
  logs:
    level: WARN
    encoding: console
    output_paths: [stderr, /var/log/sup.log]
    error_output_paths: [stderr]
    processors:
      - batch:
          exporter:
            otlp:
              protocol: http/protobuf
              endpoint: https://otlp.example.com
  metrics:
    level: Detailed
    readers:
      - periodic:
          exporter:
            otlp: {}
  traces:
    level: normal
    propagators: [tracecontext, baggage]
    processors:
      - simple:
          exporter:
            console: {}
  resource:
    service.name: my-supervisor
    attributes:
      - name: host.role
        value: edge
    detection/development:
      detectors: [host]
healthcheck:
  endpoint: 127.0.0.1:13133
plugins:
  directory: /opt/opsup/modules
  disable: [health, com.example.inventory]
  remote_config:
    quarantine_failed_hashes: true
  com.example.inventory:
    interval: 5m
)";
  const SupervisorConfig config = expect_loads(load_text(text));
  EXPECT_EQ(config.server.scheme(), "wss");
  EXPECT_TRUE(config.server.uses_tls());
  ASSERT_EQ(config.server.headers.size(), 3u);
  EXPECT_EQ(config.server.headers[0].name, "Authorization");
  EXPECT_EQ(config.server.headers[0].value, "Bearer abc");
  EXPECT_EQ(config.server.headers[2].name, "X-Multi");
  EXPECT_EQ(config.server.headers[2].value, "two");
  EXPECT_EQ(config.server.tls.ca_file, "/etc/ssl/ca.pem");
  EXPECT_TRUE(config.server.tls.include_system_ca_certs_pool);
  EXPECT_EQ(config.server.tls.max_version, "1.3");
  EXPECT_EQ(config.server.tls.server_name_override, "opamp.internal");
  EXPECT_EQ(config.server.max_message_size_bytes, 1048576u);
  EXPECT_EQ(config.server.connect_timeout, 90s);
  EXPECT_EQ(config.server.reconnect.initial_interval, 250ms);
  EXPECT_EQ(config.server.reconnect.max_interval, 2min);
  EXPECT_EQ(config.server.reconnect.max_server_delay, 10min);
  EXPECT_EQ(config.server.shutdown_timeout, 2s);
  EXPECT_EQ(config.server.heartbeat_interval, 1h);

  EXPECT_TRUE(config.capabilities.accepts_remote_config.enabled);
  EXPECT_TRUE(config.capabilities.accepts_remote_config.written);
  EXPECT_FALSE(config.capabilities.reports_health.enabled);
  EXPECT_TRUE(config.capabilities.reports_health.written);
  EXPECT_TRUE(config.capabilities.accepts_other_connection_settings.enabled);
  EXPECT_TRUE(config.capabilities.reports_effective_config.enabled);
  EXPECT_FALSE(config.capabilities.reports_effective_config.written);

  EXPECT_EQ(config.storage.directory, "/srv/supervisor");
  const AgentConfig &agent = config.agent;
  EXPECT_EQ(agent.instance_id, "018f3a3c-8e2b-7cc0-9f3e-4b1d2c3a4b5c");
  EXPECT_EQ(agent.orphan_detection_interval, 2s);
  EXPECT_EQ(agent.description.identifying_attributes.at("service.name"), "edge");
  EXPECT_EQ(agent.description.identifying_attributes.at("deployment.version"), "0123");
  EXPECT_EQ(agent.description.non_identifying_attributes.at("rack"), "7");
  EXPECT_TRUE(agent.description.include_resource_attributes);
  EXPECT_EQ(agent.config_apply_timeout, 10s);
  EXPECT_EQ(agent.bootstrap_timeout, 1min);
  EXPECT_EQ(agent.opamp_server_unix_socket, "/run/otelcol/opamp.sock");
  EXPECT_EQ(agent.unix_socket_file_mode(), 0660u);
  EXPECT_TRUE(agent.passthrough_logs);
  EXPECT_EQ(agent.collector_crash_log_snippet_kib, 4);
  EXPECT_TRUE(agent.automatic_config_rollback);
  EXPECT_TRUE(agent.use_hup_config_reload);
  EXPECT_TRUE(agent.validate_config);
  EXPECT_EQ(agent.config_files,
            (std::vector<std::string>{"$OWN_TELEMETRY_CONFIG", "/etc/otelcol/base.yaml",
                                      "env:EXTRA_CONFIG"}));
  EXPECT_EQ(agent.args, std::vector<std::string>{"--feature-gates=+foo"});
  ASSERT_TRUE(agent.env.has_value());
  EXPECT_EQ(agent.env->at("GOMAXPROCS"), "2");
  EXPECT_EQ(agent.package.agent_binary, "otelcol");
  EXPECT_EQ(agent.package.archive, "tar.gz");
  EXPECT_EQ(agent.package.verifier.type, "cosign");
  ASSERT_EQ(agent.package.verifier.cosign.identities.size(), 1u);
  EXPECT_EQ(agent.package.verifier.cosign.identities[0].subject_regex,
            "^https://github.com/open-telemetry/.*$");

  EXPECT_EQ(config.telemetry.logs.level, "warn");
  EXPECT_EQ(config.telemetry.logs.encoding, "console");
  EXPECT_EQ(config.telemetry.logs.output_paths.size(), 2u);
  ASSERT_TRUE(config.telemetry.logs.processors.has_value());
  EXPECT_EQ(config.telemetry.logs.processors->size(), 1u);
  EXPECT_EQ(config.telemetry.metrics.level, "detailed");
  EXPECT_TRUE(config.telemetry.metrics.readers.has_value());
  EXPECT_EQ(config.telemetry.traces.level, "normal");
  EXPECT_EQ(config.telemetry.traces.propagators.size(), 2u);
  ASSERT_TRUE(config.telemetry.resource.has_value());
  EXPECT_EQ(config.telemetry.resource.node()["service.name"].as<std::string>(), "my-supervisor");

  EXPECT_TRUE(config.healthcheck.enabled());
  EXPECT_EQ(config.healthcheck.port(), 13133);

  EXPECT_EQ(config.plugins.directory, "/opt/opsup/modules");
  EXPECT_EQ(config.plugins.disable, (std::vector<std::string>{"health", "com.example.inventory"}));
  ASSERT_EQ(config.plugins.module_sections.size(), 2u);
  EXPECT_TRUE(config.plugins.module_sections.at("remote_config")
                  .node()["quarantine_failed_hashes"]
                  .as<bool>());
  EXPECT_EQ(config.plugins.module_sections.at("com.example.inventory")
                .node()["interval"]
                .as<std::string>(),
            "5m");
}

TEST(Loader, InstanceIdFormsLikeGoogleUuid) {
  for (const char *text :
       {"018f3a3c-8e2b-7cc0-9f3e-4b1d2c3a4b5c", "{018F3A3C-8E2B-7CC0-9F3E-4B1D2C3A4B5C}",
        "urn:uuid:018f3a3c-8e2b-7cc0-9f3e-4b1d2c3a4b5c", "018f3a3c8e2b7cc09f3e4b1d2c3a4b5c"}) {
    const auto uuid = parse_uuid(text);
    ASSERT_TRUE(uuid.has_value()) << text;
    EXPECT_EQ(format_uuid(*uuid), "018f3a3c-8e2b-7cc0-9f3e-4b1d2c3a4b5c");
  }
  for (const char *text :
       {"", "018f3a3c-8e2b-7cc0-9f3e-4b1d2c3a4b5", "018f3a3c_8e2b_7cc0_9f3e_4b1d2c3a4b5c",
        "zz8f3a3c-8e2b-7cc0-9f3e-4b1d2c3a4b5c"}) {
    EXPECT_FALSE(parse_uuid(text).has_value()) << text;
  }
}

TEST(Loader, NewestSocketKeysFillTheUnixSocketSettings) {
  const std::string text = std::string(kBase) +
                           "  opamp_server_socket:\n"
                           "    endpoint: /run/otelcol/opamp.sock\n"
                           "    transport: unix\n"
                           "  opamp_server_socket_mode: \"0660\"\n";
  const LoadResult result = load_text(text, options_with({}));
  ASSERT_TRUE(result.ok()) << describe(result.errors);
  EXPECT_EQ(result.config->agent.opamp_server_unix_socket, "/run/otelcol/opamp.sock");
  EXPECT_EQ(result.config->agent.unix_socket_file_mode(), 0660u);
}

TEST(Loader, SocketTransportDefaultsToUnix) {
  const std::string text = std::string(kBase) +
                           "  opamp_server_socket:\n"
                           "    endpoint: /run/otelcol/opamp.sock\n";
  const LoadResult result = load_text(text, options_with({}));
  ASSERT_TRUE(result.ok()) << describe(result.errors);
  EXPECT_EQ(result.config->agent.opamp_server_unix_socket, "/run/otelcol/opamp.sock");
  EXPECT_EQ(result.config->agent.unix_socket_file_mode(), 0600u);
}

TEST(Loader, ModuleSectionForAbsentModuleIsAWarning) {
  const std::string text = std::string(kBase) +
                           "plugins:\n"             // 5
                           "  remote_config: {}\n"  // 6
                           "  com.example.gone:\n"  // 7
                           "    a: 1\n";            // 8
  LoadOptions options = options_with({});
  options.installed_module_ids = std::vector<std::string>{"remote_config", "health"};
  const LoadResult result = load_text(text, options);
  ASSERT_TRUE(result.ok()) << describe(result.errors);
  ASSERT_EQ(result.warnings.size(), 1u) << describe(result.warnings);
  EXPECT_EQ(result.warnings[0].key, "plugins.com.example.gone");
  EXPECT_EQ(result.warnings[0].line, 7);

  const auto later = check_module_sections(*result.config, {"com.example.gone"});
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].key, "plugins.remote_config");
}

TEST(Loader, LineOfFindsDottedKeysIncludingDottedModuleIds) {
  const std::string text = std::string(kBase) +
                           "  config_files:\n"           // 5
                           "    - /a.yaml\n"             // 6
                           "    - /b.yaml\n"             // 7
                           "plugins:\n"                  // 8
                           "  com.example.inventory:\n"  // 9
                           "    nested:\n"               // 10
                           "      bad_key: 1\n";         // 11
  const SupervisorConfig config = expect_loads(load_text(text));
  const YAML::Node &document = config.document.node();
  EXPECT_EQ(line_of(document, "agent.executable"), 4);
  EXPECT_EQ(line_of(document, "agent.config_files[1]"), 7);
  EXPECT_EQ(line_of(document, "plugins.com.example.inventory.nested.bad_key"), 11);
  EXPECT_EQ(line_of(document, "plugins.com.example.inventory.nested.missing"), 10);
  EXPECT_EQ(line_of(document, "telemetry.logs"), 0);
}

class ExecutableCheck : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ =
        std::filesystem::temp_directory_path() / ("opsup-config-exe-" + std::to_string(::getpid()));
    std::filesystem::create_directories(directory_);
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  Diagnostics check(const std::filesystem::path &executable) {
    const std::string text =
        "server:\n  endpoint: ws://h:1/v1/opamp\nagent:\n  executable: " + executable.string() +
        "\n";
    const SupervisorConfig config = expect_loads(load_text(text));
    return check_agent_executable(config);
  }

  std::filesystem::path directory_;
};

TEST_F(ExecutableCheck, AcceptsAnExecutableFile) {
  const auto path = directory_ / "otelcol";
  std::ofstream(path) << "#!/bin/sh\n";
  ::chmod(path.c_str(), 0755);
  EXPECT_TRUE(check(path).empty()) << describe(check(path));
}

TEST_F(ExecutableCheck, RejectsMissingDirectoryAndNonExecutable) {
  const auto missing = check(directory_ / "absent");
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0].key, "agent.executable");
  EXPECT_EQ(missing[0].line, 4);
  EXPECT_NE(missing[0].message.find("could not stat"), std::string::npos);

  const auto directory = check(directory_);
  ASSERT_EQ(directory.size(), 1u);
  EXPECT_NE(directory[0].message.find("is a directory"), std::string::npos);

  const auto plain = directory_ / "plain";
  std::ofstream(plain) << "data";
  ::chmod(plain.c_str(), 0644);
  const auto not_executable = check(plain);  // no x bit at all: refused even for root
  ASSERT_EQ(not_executable.size(), 1u);
  EXPECT_NE(not_executable[0].message.find("is not executable"), std::string::npos);
}

TEST(Loader, LoadsFromAFile) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("opsup-config-file-" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(path) << kBase << "  bootstrap_timeout: 0s\n";
  const LoadResult result = load_supervisor_config(path, options_with({}));
  std::filesystem::remove(path);
  ASSERT_EQ(result.errors.size(), 1u) << describe(result.errors);
  EXPECT_EQ(result.errors[0].file, path.string());
  EXPECT_EQ(result.errors[0].to_string(),
            path.string() + ":5: agent.bootstrap_timeout: must be a positive duration, got \"0s\"");
}

}  // namespace
}  // namespace opsup::config

namespace opsup::config {
namespace {

// server.proxy (NEW): the url and the CONNECT headers; a non-http proxy is an error naming
// the key.
TEST(Loader, ServerProxyKeys) {
  const SupervisorConfig config =
      testing::expect_loads(testing::load_text("server:\n"
                                               "  endpoint: wss://opamp.example.com/v1/opamp\n"
                                               "  proxy:\n"
                                               "    url: http://agent:pw@proxy.example:3128\n"
                                               "    connect_headers:\n"
                                               "      X-Proxy-Tenant: blue\n"
                                               "agent:\n"
                                               "  executable: /usr/bin/otelcol\n"));
  EXPECT_EQ(config.server.proxy.url, "http://agent:pw@proxy.example:3128");
  ASSERT_EQ(config.server.proxy.connect_headers.size(), 1u);
  EXPECT_EQ(config.server.proxy.connect_headers[0].name, "X-Proxy-Tenant");

  const LoadResult refused = testing::load_text(
      "server:\n"
      "  endpoint: wss://opamp.example.com/v1/opamp\n"
      "  proxy:\n"
      "    url: https://proxy.example:3128\n"
      "agent:\n"
      "  executable: /usr/bin/otelcol\n");
  EXPECT_FALSE(refused.ok());
  EXPECT_NE(testing::find_by_key(refused.errors, "server.proxy.url"), nullptr)
      << testing::describe(refused.errors);
}

}  // namespace
}  // namespace opsup::config
