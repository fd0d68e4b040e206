// What the opamp extension reports to a server, over WebSocket, HTTP polling and a Unix
// socket: description, capabilities, health tree, effective config, available components.
#include <unistd.h>

#include <gtest/gtest.h>

#include "fake_otelcol_fixture.hpp"

namespace opsup::testing {
namespace {

namespace pb = opamp::proto::v1;
using Message = OpampTestServer::AgentToServer;

std::string expected_uid_bytes() {
  // kInstanceUid without dashes, as 16 bytes.
  std::string hex;
  for (const char *c = kInstanceUid; *c; ++c) {
    if (*c != '-')
      hex.push_back(*c);
  }
  std::string bytes;
  for (size_t i = 0; i < hex.size(); i += 2) {
    bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return bytes;
}

// Checks everything a first report must carry, then the hash-then-full-map exchange and
// ReportFullState.
void check_full_reporting(OpampTestServer &server, ChildProcess &collector) {
  auto first = server.wait_for_message([](const Message &) { return true; }, kDeadline);
  ASSERT_TRUE(first) << collector.output();
  EXPECT_EQ(first->instance_uid(), expected_uid_bytes());
  EXPECT_EQ(first->sequence_num(), 0u);  // opamp-go counts from 0

  // Capabilities: ReportsStatus plus the extension's defaults.
  const uint64_t expected_capabilities =
      pb::AgentCapabilities_ReportsStatus | pb::AgentCapabilities_ReportsEffectiveConfig |
      pb::AgentCapabilities_ReportsHealth | pb::AgentCapabilities_ReportsAvailableComponents;
  EXPECT_EQ(first->capabilities(), expected_capabilities);

  // Description.
  ASSERT_TRUE(first->has_agent_description());
  const auto &identifying = first->agent_description().identifying_attributes();
  EXPECT_EQ(attribute(identifying, "service.name"), "fake-otelcol");
  EXPECT_EQ(attribute(identifying, "service.version"), "0.130.0");
  EXPECT_EQ(attribute(identifying, "service.instance.id"), kInstanceUid);
  const auto &non_identifying = first->agent_description().non_identifying_attributes();
  EXPECT_EQ(attribute(non_identifying, "os.type"), "linux");
  EXPECT_NE(attribute(non_identifying, "host.name"), "<absent>");
  EXPECT_NE(attribute(non_identifying, "host.arch"), "<absent>");
  EXPECT_NE(attribute(non_identifying, "os.description"), "<absent>");
  EXPECT_EQ(attribute(non_identifying, "deployment.environment"), "test");

  // Available components: the hash only at first.
  ASSERT_TRUE(first->has_available_components());
  EXPECT_EQ(first->available_components().hash().size(), 32u);
  EXPECT_EQ(first->available_components().components_size(), 0);

  // Effective config: the merged YAML under key "".
  auto with_config =
      server.wait_for_message([](const Message &m) { return m.has_effective_config(); }, kDeadline);
  ASSERT_TRUE(with_config);
  const auto &files = with_config->effective_config().config_map().config_map();
  ASSERT_EQ(files.count(""), 1u);
  EXPECT_EQ(files.at("").content_type(), "text/yaml");
  YAML::Node effective = YAML::Load(files.at("").body());
  ASSERT_TRUE(effective["exporters"]["debug"]["verbosity"]) << files.at("").body();
  EXPECT_EQ(effective["exporters"]["debug"]["verbosity"].as<std::string>(), "detailed")
      << files.at("").body();  // from the second --config file
  EXPECT_TRUE(effective["receivers"]["otlp"]) << files.at("").body();

  // Health: present from the first message (its value depends on how fast the pipelines
  // started; faults_test covers the Starting -> OK transition), then healthy with a tree.
  EXPECT_TRUE(first->has_health());
  auto healthy =
      server.wait_for_message([](const Message &m) { return has_health_tree(m, true); }, kDeadline);
  ASSERT_TRUE(healthy) << collector.output();
  const auto &tree = healthy->health();
  EXPECT_EQ(tree.status(), "StatusOK");
  EXPECT_GT(tree.start_time_unix_nano(), 0u);
  const auto &pipeline = tree.component_health_map().at("pipeline:traces");
  ASSERT_EQ(pipeline.component_health_map().count("receiver:otlp"), 1u);
  EXPECT_EQ(pipeline.component_health_map().at("receiver:otlp").status(), "StatusOK");
  EXPECT_TRUE(pipeline.component_health_map().at("exporter:debug").healthy());
  ASSERT_EQ(tree.component_health_map().count("extensions"), 1u);
  EXPECT_EQ(
      tree.component_health_map().at("extensions").component_health_map().count("extension:opamp"),
      1u);

  // Flag 0x2: the full components map.
  pb::ServerToAgent ask_components;
  ask_components.set_instance_uid(first->instance_uid());
  ask_components.set_flags(pb::ServerToAgentFlags_ReportAvailableComponents);
  server.send(ask_components);
  auto full = server.wait_for_message(
      [](const Message &m) { return m.available_components().components_size() > 0; }, kDeadline);
  ASSERT_TRUE(full) << collector.output();
  const auto &components = full->available_components();
  EXPECT_EQ(components.hash(), first->available_components().hash());
  EXPECT_EQ(components.components_size(), 5);
  const auto &extensions = components.components().at("extensions").sub_component_map();
  ASSERT_EQ(extensions.count("opamp"), 1u);
  EXPECT_EQ(extensions.at("opamp").metadata(0).key(), "code.namespace");

  // ReportFullState: description and health again, in a later message.
  const uint64_t before = server.messages().back().sequence_num();
  pb::ServerToAgent full_state;
  full_state.set_instance_uid(first->instance_uid());
  full_state.set_flags(pb::ServerToAgentFlags_ReportFullState);
  server.send(full_state);
  auto resent = server.wait_for_message(
      [before](const Message &m) {
        return m.sequence_num() > before && m.has_agent_description() && m.has_health() &&
               m.has_effective_config();
      },
      kDeadline);
  ASSERT_TRUE(resent) << collector.output();

  // Sequence numbers grow by one per message.
  auto all = server.messages();
  for (size_t i = 1; i < all.size(); ++i) {
    EXPECT_EQ(all[i].sequence_num(), all[i - 1].sequence_num() + 1) << "message " << i;
  }
}

YAML::Node reporting_config(const std::string &endpoint) {
  YAML::Node config = minimal_config();
  YAML::Node opamp = opamp_settings(endpoint);
  opamp["agent_description"]["non_identifying_attributes"]["deployment.environment"] = "test";
  add_extension(config, "opamp", opamp);
  return config;
}

std::string override_file(const TempDir &dir) {
  return dir.write_file("override.yaml", "exporters:\n  debug:\n    verbosity: detailed\n")
      .string();
}

TEST(FakeOtelcolOpamp, ReportsOverWebSocket) {
  OpampTestServer server;
  TempDir dir;
  auto config = write_config(dir, reporting_config(server.ws_url()));
  auto collector = start_fake_otelcol({"--config", config, "--config", override_file(dir)});
  check_full_reporting(server, *collector);
  EXPECT_TRUE(collector->wait_for_line("Connected to the OpAMP server", kDeadline));
}

TEST(FakeOtelcolOpamp, ReportsOverHttpPolling) {
  OpampTestServer server;
  TempDir dir;
  auto config = write_config(dir, reporting_config(server.http_url()));
  auto collector = start_fake_otelcol({"--config", config, "--config", override_file(dir)});
  check_full_reporting(server, *collector);
  // Polling continues with nothing new to say (200ms interval).
  const size_t count = server.messages().size();
  EXPECT_TRUE(eventually([&] { return server.messages().size() >= count + 3; }, kDeadline));
}

TEST(FakeOtelcolOpamp, ReportsOverUnixSocket) {
  TempDir dir;
  const std::string socket_path = (dir.path() / "opamp.sock").string();
  OpampTestServer server({socket_path, std::nullopt});
  YAML::Node config = reporting_config("ws://localhost/v1/opamp");
  config["extensions"]["opamp"]["server"]["ws"]["unix_socket"] = socket_path;
  auto collector =
      start_fake_otelcol({"--config", write_config(dir, config), "--config", override_file(dir)});
  check_full_reporting(server, *collector);
}

TEST(FakeOtelcolOpamp, SendsConfiguredHeaders) {
  OpampTestServer server;
  TempDir dir;
  YAML::Node config = reporting_config(server.ws_url());
  config["extensions"]["opamp"]["server"]["ws"]["headers"]["Authorization"] = "Bearer token-123";
  auto collector = start_fake_otelcol({"--config", write_config(dir, config)});
  ASSERT_TRUE(eventually([&] { return server.connections_opened() > 0; }, kDeadline));
  auto values = server.request_headers("Authorization");
  ASSERT_FALSE(values.empty());
  EXPECT_EQ(values.front(), "Bearer token-123");
}

TEST(FakeOtelcolOpamp, GeneratesUuidV7WhenNoInstanceUid) {
  OpampTestServer server;
  TempDir dir;
  YAML::Node config = reporting_config(server.ws_url());
  config["extensions"]["opamp"].remove("instance_uid");
  auto collector = start_fake_otelcol({"--config", write_config(dir, config)});
  auto first = server.wait_for_message([](const Message &) { return true; }, kDeadline);
  ASSERT_TRUE(first) << collector->output();
  ASSERT_EQ(first->instance_uid().size(), 16u);
  EXPECT_EQ(static_cast<uint8_t>(first->instance_uid()[6]) >> 4, 7);  // version 7
  EXPECT_NE(first->instance_uid(), expected_uid_bytes());
}

TEST(FakeOtelcolOpamp, ReconnectsWhenTheServerComesUpLater) {
  TempDir dir;
  // Reserve a port, start the collector against it, then start the server there.
  const uint16_t port = free_tcp_port();
  const std::string url = "ws://127.0.0.1:" + std::to_string(port) + "/v1/opamp";
  auto collector = start_fake_otelcol({"--config", write_config(dir, reporting_config(url))});
  ASSERT_TRUE(collector->wait_for_line("Failed to connect to the OpAMP server", kDeadline))
      << collector->output();
  OpampTestServer server({"", std::nullopt, port});
  auto message = server.wait_for_message([](const Message &m) { return m.has_agent_description(); },
                                         kDeadline);
  EXPECT_TRUE(message) << collector->output();
  EXPECT_TRUE(collector->running());
}

}  // namespace
}  // namespace opsup::testing

namespace opsup::testing {
namespace {

// The keys the supervisor injects (templates/opampextension.yaml), including
// service.telemetry.resource in its declarative list form.
TEST(FakeOtelcolOpamp, AcceptsSupervisorInjectedKeys) {
  OpampTestServer server;
  TempDir dir;
  YAML::Node config = minimal_config();
  YAML::Node opamp = YAML::Load(R"(
instance_uid: ")" + std::string(kInstanceUid) +
                                R"("
server:
  ws:
    endpoint: ")" + server.ws_url() +
                                R"("
    tls:
      insecure: true
capabilities:
  reports_effective_config: true
  reports_health: true
  reports_available_components: false
  accepts_restart_command: false
agent_description:
  include_resource_attributes: true
ppid: )" + std::to_string(::getpid()) +
                                R"(
ppid_poll_interval: 5s
)");
  add_extension(config, "opamp", opamp);
  // The inline map: v0.149.0 refuses an `attributes` list here (collector_conformance).
  config["service"]["telemetry"]["resource"]["service.instance.id"] = kInstanceUid;
  config["service"]["telemetry"]["resource"]["team.name"] = "observability";
  auto collector = start_fake_otelcol({"--config", write_config(dir, config)});
  auto first = server.wait_for_message([](const Message &m) { return m.has_agent_description(); },
                                       kDeadline);
  ASSERT_TRUE(first) << collector->output();
  EXPECT_EQ(attribute(first->agent_description().non_identifying_attributes(), "team.name"),
            "observability");
  // Identifying keys are not repeated among the non-identifying ones.
  EXPECT_EQ(
      attribute(first->agent_description().non_identifying_attributes(), "service.instance.id"),
      "<absent>");
  EXPECT_EQ(first->capabilities() & pb::AgentCapabilities_ReportsAvailableComponents, 0u);
  EXPECT_FALSE(first->has_available_components());
  EXPECT_TRUE(collector->running());
}

TEST(FakeOtelcolOpamp, RestartCommandReloadsWhenAccepted) {
  OpampTestServer server;
  TempDir dir;
  YAML::Node config = minimal_config();
  YAML::Node opamp = opamp_settings(server.ws_url());
  opamp["capabilities"]["accepts_restart_command"] = true;
  add_extension(config, "opamp", opamp);
  auto path = write_config(dir, config);
  // The capability needs the feature gate, like the real extension.
  EXPECT_EQ(run_fake_otelcol({"validate", "--config", path}).exit_code, 1);

  auto collector = start_fake_otelcol(
      {"--feature-gates", "extension.opampextension.RemoteRestarts", "--config", path});
  auto first =
      server.wait_for_message([](const Message &m) { return has_health_tree(m, true); }, kDeadline);
  ASSERT_TRUE(first) << collector->output();
  EXPECT_NE(first->capabilities() & pb::AgentCapabilities_AcceptsRestartCommand, 0u);

  pb::ServerToAgent restart;
  restart.set_instance_uid(first->instance_uid());
  restart.mutable_command()->set_type(pb::CommandType_Restart);
  server.send(restart);
  // The restart ends the connection (agent_disconnect) and a new one reports again.
  EXPECT_TRUE(
      server.wait_for_message([](const Message &m) { return m.has_agent_disconnect(); }, kDeadline))
      << collector->output();
  EXPECT_TRUE(eventually([&] { return server.connections_opened() >= 2; }, kDeadline));
  EXPECT_TRUE(collector->running());
}

}  // namespace
}  // namespace opsup::testing
