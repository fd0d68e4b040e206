// Signals and the parent watch: SIGTERM ends gracefully with agent_disconnect, SIGHUP reloads
// the config files, and the process exits when its `ppid` dies.
#include <signal.h>

#include <gtest/gtest.h>

#include "fake_otelcol_fixture.hpp"
#include "support/paths.hpp"

namespace opsup::testing {
namespace {

using Message = OpampTestServer::AgentToServer;

YAML::Node config_for(OpampTestServer &server) {
  YAML::Node config = minimal_config();
  add_extension(config, "opamp", opamp_settings(server.ws_url()));
  return config;
}

TEST(FakeOtelcolLifecycle, SigtermSendsAgentDisconnectAndExitsZero) {
  OpampTestServer server;
  TempDir dir;
  auto collector = start_fake_otelcol({"--config", write_config(dir, config_for(server))});
  ASSERT_TRUE(
      server.wait_for_message([](const Message &m) { return has_health_tree(m, true); }, kDeadline))
      << collector->output();
  collector->send_signal(SIGTERM);
  EXPECT_EQ(collector->wait_exit(kDeadline), 0) << collector->output();
  EXPECT_TRUE(server.wait_for_message([](const Message &m) { return m.has_agent_disconnect(); },
                                      kDeadline));
  EXPECT_TRUE(collector->wait_for_line("Shutdown complete.", kDeadline));
}

TEST(FakeOtelcolLifecycle, SigintAlsoExitsZero) {
  TempDir dir;
  auto collector = start_fake_otelcol({"--config", write_config(dir, minimal_config())});
  ASSERT_TRUE(collector->wait_for_line("Everything is ready", kDeadline)) << collector->output();
  collector->send_signal(SIGINT);
  EXPECT_EQ(collector->wait_exit(kDeadline), 0) << collector->output();
}

TEST(FakeOtelcolLifecycle, SighupReloadsAndReportsNewEffectiveConfig) {
  OpampTestServer server;
  TempDir dir;
  YAML::Node config = config_for(server);
  auto path = write_config(dir, config);
  auto collector = start_fake_otelcol({"--config", path});
  ASSERT_TRUE(
      server.wait_for_message([](const Message &m) { return has_health_tree(m, true); }, kDeadline))
      << collector->output();

  config["processors"]["batch"]["timeout"] = "2s";
  config["service"]["pipelines"]["traces"]["processors"].push_back("batch");
  write_config(dir, config);
  collector->send_signal(SIGHUP);

  auto reloaded = server.wait_for_message(
      [](const Message &m) {
        if (!m.has_effective_config())
          return false;
        const auto &files = m.effective_config().config_map().config_map();
        return files.count("") && files.at("").body().find("batch") != std::string::npos;
      },
      kDeadline);
  ASSERT_TRUE(reloaded) << collector->output();
  // The new service reports health again, with the new processor in the tree.
  auto healthy = server.wait_for_message(
      [](const Message &m) {
        return has_health_tree(m, true) && m.health()
                                               .component_health_map()
                                               .at("pipeline:traces")
                                               .component_health_map()
                                               .count("processor:batch");
      },
      kDeadline);
  EXPECT_TRUE(healthy) << collector->output();
  EXPECT_TRUE(collector->running());
}

TEST(FakeOtelcolLifecycle, SighupWithInvalidConfigExitsOne) {
  TempDir dir;
  YAML::Node config = minimal_config();
  auto path = write_config(dir, config);
  auto collector = start_fake_otelcol({"--config", path});
  ASSERT_TRUE(collector->wait_for_line("Everything is ready", kDeadline)) << collector->output();
  config["service"]["pipelines"]["traces"]["exporters"].push_back("otlp/nowhere");
  write_config(dir, config);
  collector->send_signal(SIGHUP);
  EXPECT_EQ(collector->wait_exit(kDeadline), 1) << collector->output();
  EXPECT_TRUE(collector->wait_for_line(
      "references exporter \"otlp/nowhere\" which is not configured", kDeadline));
}

// The real Collector ignores its dead `ppid` (collector_conformance ParentDeathAgrees); the
// fault extension's honour_ppid brings the watch back.
TEST(FakeOtelcolLifecycle, ExitsWhenParentDiesWithHonourPpid) {
  OpampTestServer server;
  TempDir dir;
  YAML::Node config = config_for(server);
  config["extensions"]["opamp"]["ppid"] = "${env:FAKE_PARENT_PID}";
  config["extensions"]["opamp"]["ppid_poll_interval"] = "100ms";
  YAML::Node fault;
  fault["honour_ppid"] = true;
  add_extension(config, "fault", fault);
  auto path = write_config(dir, config);
  // The shell stays alive as fake-otelcol's parent (`; true` prevents an exec).
  ChildProcess shell({"/bin/sh",
                      {"-c", "FAKE_PARENT_PID=$$ \"$0\" --config \"$1\"; true",
                       binary("fake-otelcol").string(), path},
                      {},
                      {}});
  ASSERT_TRUE(
      server.wait_for_message([](const Message &m) { return has_health_tree(m, true); }, kDeadline))
      << shell.output();
  EXPECT_TRUE(shell.running());

  shell.send_signal(SIGKILL);
  EXPECT_TRUE(shell.wait_exit(kDeadline));
  // The orphan notices, shuts down (agent_disconnect) and exits, closing the inherited pipes.
  EXPECT_TRUE(shell.wait_for_line("collector was orphaned", kDeadline)) << shell.output();
  EXPECT_TRUE(server.wait_for_message([](const Message &m) { return m.has_agent_disconnect(); },
                                      kDeadline));
  EXPECT_TRUE(shell.wait_output_closed(kDeadline)) << "fake-otelcol is still running";
}

TEST(FakeOtelcolLifecycle, JsonLogEncoding) {
  TempDir dir;
  YAML::Node config = minimal_config();
  config["service"]["telemetry"]["logs"]["encoding"] = "json";
  auto collector = start_fake_otelcol({"--config", write_config(dir, config)});
  auto line = collector->wait_for_line("Everything is ready", kDeadline);
  ASSERT_TRUE(line) << collector->output();
  EXPECT_EQ(line->rfind("{\"level\":\"info\"", 0), 0u) << *line;
}

TEST(FakeOtelcolLifecycle, HealthCheckExtensionServesStatus) {
  TempDir dir;
  YAML::Node config = minimal_config();
  const uint16_t port = free_tcp_port();
  YAML::Node health_check;
  health_check["endpoint"] = "127.0.0.1:" + std::to_string(port);
  add_extension(config, "health_check", health_check);
  auto collector = start_fake_otelcol({"--config", write_config(dir, config)});
  ASSERT_TRUE(collector->wait_for_line("Everything is ready", kDeadline)) << collector->output();
  auto response = http_get("http://127.0.0.1:" + std::to_string(port) + "/");
  EXPECT_EQ(response.status, 200) << response.error;
  EXPECT_NE(response.body.find("Server available"), std::string::npos);
}

}  // namespace
}  // namespace opsup::testing
