// The fault extension's failure modes, chosen in the config.
#include <signal.h>

#include <gtest/gtest.h>

#include "fake_otelcol_fixture.hpp"

namespace opsup::testing {
namespace {

using Message = OpampTestServer::AgentToServer;

YAML::Node config_with_fault(OpampTestServer &server, const YAML::Node &fault) {
  YAML::Node config = minimal_config();
  add_extension(config, "opamp", opamp_settings(server.ws_url()));
  add_extension(config, "fault", fault);
  return config;
}

TEST(FakeOtelcolFaults, ExitAfterCrashesWithCodeAndMessage) {
  OpampTestServer server;
  TempDir dir;
  YAML::Node fault;
  fault["exit_after"] = "1s";
  fault["exit_code"] = 3;
  fault["crash_message"] = "panic: simulated crash for the test";
  auto collector =
      start_fake_otelcol({"--config", write_config(dir, config_with_fault(server, fault))});
  EXPECT_EQ(collector->wait_exit(kDeadline), 3) << collector->output();
  EXPECT_TRUE(collector->wait_for_line("^panic: simulated crash for the test$", kDeadline));
  // A crash, not a shutdown: no agent_disconnect.
  for (const auto &message : server.messages())
    EXPECT_FALSE(message.has_agent_disconnect());
}

TEST(FakeOtelcolFaults, StartDelayReportsStartingBeforeHealthy) {
  OpampTestServer server;
  TempDir dir;
  YAML::Node fault;
  fault["start_delay"] = "2s";
  auto started = std::chrono::steady_clock::now();
  auto collector =
      start_fake_otelcol({"--config", write_config(dir, config_with_fault(server, fault))});
  auto starting = server.wait_for_message(
      [](const Message &m) { return m.has_health() && m.health().status() == "StatusStarting"; },
      kDeadline);
  ASSERT_TRUE(starting) << collector->output();
  EXPECT_FALSE(starting->health().healthy());
  EXPECT_EQ(starting->health().component_health_map().at("pipeline:traces").status(),
            "StatusStarting");
  auto healthy =
      server.wait_for_message([](const Message &m) { return has_health_tree(m, true); }, kDeadline);
  ASSERT_TRUE(healthy) << collector->output();
  EXPECT_GT(healthy->sequence_num(), starting->sequence_num());
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(1900));
}

TEST(FakeOtelcolFaults, NeverHealthyReportsRecoverableError) {
  OpampTestServer server;
  TempDir dir;
  YAML::Node fault;
  fault["never_healthy"] = true;
  auto collector =
      start_fake_otelcol({"--config", write_config(dir, config_with_fault(server, fault))});
  auto unhealthy = server.wait_for_message(
      [](const Message &m) {
        return has_health_tree(m, false) && m.health().status() == "StatusRecoverableError";
      },
      kDeadline);
  ASSERT_TRUE(unhealthy) << collector->output();
  EXPECT_NE(unhealthy->health().last_error().find("never"), std::string::npos);
  const auto &extensions = unhealthy->health().component_health_map().at("extensions");
  EXPECT_FALSE(extensions.component_health_map().at("extension:fault").healthy());
  EXPECT_TRUE(unhealthy->health().component_health_map().at("pipeline:traces").healthy());
  ASSERT_TRUE(collector->wait_for_line("Everything is ready", kDeadline));
  for (const auto &message : server.messages()) {
    EXPECT_FALSE(message.has_health() && message.health().healthy());
  }
}

TEST(FakeOtelcolFaults, FailReloadExitsOneOnSighup) {
  OpampTestServer server;
  TempDir dir;
  YAML::Node fault;
  fault["fail_reload"] = true;
  auto collector =
      start_fake_otelcol({"--config", write_config(dir, config_with_fault(server, fault))});
  ASSERT_TRUE(collector->wait_for_line("Everything is ready", kDeadline)) << collector->output();
  collector->send_signal(SIGHUP);
  EXPECT_EQ(collector->wait_exit(kDeadline), 1) << collector->output();
  EXPECT_TRUE(collector->wait_for_line("failed to reload config", kDeadline));
}

TEST(FakeOtelcolFaults, IgnoreSigtermKeepsRunning) {
  OpampTestServer server;
  TempDir dir;
  YAML::Node fault;
  fault["ignore_sigterm"] = true;
  auto collector =
      start_fake_otelcol({"--config", write_config(dir, config_with_fault(server, fault))});
  ASSERT_TRUE(collector->wait_for_line("Everything is ready", kDeadline)) << collector->output();
  collector->send_signal(SIGTERM);
  ASSERT_TRUE(collector->wait_for_line("Ignoring the signal on purpose", kDeadline));
  // Not just alive for a moment: it still answers the OpAMP server after the signal.
  auto first = server.wait_for_message([](const Message &m) { return m.has_agent_description(); },
                                       kDeadline);
  ASSERT_TRUE(first) << collector->output();
  const uint64_t before = server.messages().back().sequence_num();
  opamp::proto::v1::ServerToAgent full_state;
  full_state.set_instance_uid(first->instance_uid());
  full_state.set_flags(opamp::proto::v1::ServerToAgentFlags_ReportFullState);
  server.send(full_state);
  auto answered = server.wait_for_message(
      [before](const Message &m) {
        return m.sequence_num() > before && m.has_agent_description() && m.has_health() &&
               !m.has_agent_disconnect();
      },
      kDeadline);
  EXPECT_TRUE(answered) << collector->output();
  EXPECT_TRUE(collector->running());
  for (const auto &message : server.messages())
    EXPECT_FALSE(message.has_agent_disconnect()) << "it began shutting down after all";
  collector->send_signal(SIGKILL);
  EXPECT_EQ(collector->wait_exit(kDeadline), 128 + SIGKILL);
}

TEST(FakeOtelcolFaults, UnknownFaultKeyIsRejected) {
  OpampTestServer server;
  TempDir dir;
  YAML::Node fault;
  fault["explode"] = true;
  auto result = run_fake_otelcol(
      {"validate", "--config", write_config(dir, config_with_fault(server, fault))});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find("has invalid keys: explode"), std::string::npos) << result.output;
}

}  // namespace
}  // namespace opsup::testing
