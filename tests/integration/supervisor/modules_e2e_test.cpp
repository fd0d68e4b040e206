// The capability modules end to end: opampsupervisor with the modules in its --modules-dir,
// the real Collector (tools/otelcol) and the reference server (tools/opamp-server), asserted
// through the server's JSON API. Tests are named after the upstream e2e scenarios they
// mirror (section 4.1 of the reference), or say what they add.
//
// Upstream scenarios of these modules, and where the rest is:
//   - TestSupervisorReportsEffectiveConfig: here, for a local config and (as upstream) for a
//     remote config split into two files.
//   - TestSupervisorRestartCommand: here.
//   - Custom messages (unit tests upstream, Test_onMessage "CustomMessage…" and
//     "CustomCapabilities…"): here, both ways, with the stand-in, whose fault extension can
//     offer a custom capability and echo its messages (no component of the real Collector
//     of tools/otelcol uses custom capabilities).
#include <gtest/gtest.h>
#include <sys/types.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <csignal>

#include "e2e_support.hpp"
#include "supervisor_fixture.hpp"
#include "support/collector.hpp"
#include "support/ports.hpp"

namespace opsup::testing {
namespace {

using namespace std::chrono_literals;
constexpr auto kDeadline = 90s;

// A Collector pipeline on a free port whose resource processor inserts test_key with a
// value the Collector resolves from its environment (the composed config keeps the
// reference as text), and internal metrics off so no fixed port has to be free.
std::string resource_pipeline_yaml(uint16_t otlp_http_port) {
  return "receivers:\n  otlp:\n    protocols:\n      http:\n        endpoint: 127.0.0.1:" +
         std::to_string(otlp_http_port) +
         "\nprocessors:\n  resource:\n    attributes:\n"
         "      - key: test_key\n        value: ${env:OPSUP_E2E_TEST_VALUE}\n"
         "        action: insert\n"
         "exporters:\n  debug:\n    verbosity: basic\n"
         "service:\n  telemetry:\n    metrics:\n      level: none\n"
         "  pipelines:\n    traces:\n      receivers: [otlp]\n      processors: [resource]\n"
         "      exporters: [debug]\n";
}

// The pids of every "Collector started (pid N)" line so far, oldest first.
std::vector<pid_t> started_pids(const ChildProcess &supervisor) {
  std::vector<pid_t> pids;
  for (const auto &line : supervisor.lines()) {
    if (const pid_t pid = collector_pid_from(line))
      pids.push_back(pid);
  }
  return pids;
}

uint64_t uint_at(const boost::json::value &value, std::initializer_list<const char *> path) {
  const boost::json::value &found = at(value, path);
  if (found.is_uint64())
    return found.as_uint64();
  if (found.is_int64() && found.as_int64() >= 0)
    return static_cast<uint64_t>(found.as_int64());
  return 0;
}

class ModulesE2E : public ::testing::Test {
 protected:
  TempDir dir_;
  TempDir modules_;
  OpampServerProcess server_;

  void install_module(const char *built_path) {
    const std::filesystem::path source(built_path);
    std::filesystem::copy_file(source, modules_.path() / source.filename());
  }

  SupervisorRun run_with(const std::string &agent_yaml, const std::string &extra_yaml = "") {
    return {.endpoint = server_.websocket_url(),
            .storage = dir_.path() / "storage",
            .modules_dir = modules_.path(),
            .extra_yaml = extra_yaml,
            .collector = collector_executable(CollectorKind::kReal),
            .agent_yaml = agent_yaml};
  }

  std::string local_config(const std::string &yaml) {
    return "  config_files:\n    - " + dir_.write_file("collector.yaml", yaml).string() + "\n";
  }

  // Waits until `condition` holds for the connected agent's view; returns that view.
  boost::json::value wait_for_agent(
      const std::string &uid, const std::function<bool(const boost::json::value &)> &condition,
      std::chrono::milliseconds timeout = kDeadline) {
    boost::json::value agent;
    eventually(
        [&] {
          agent = server_.agent(uid);
          return !agent.is_null() && condition(agent);
        },
        timeout);
    return agent;
  }

  static std::string effective_body(const boost::json::value &agent) {
    return string_at(agent, {"effective_config", "files", "", "body"});
  }
};

// TestSupervisorReportsEffectiveConfig, local-config half: the server gets the Collector's own
// effective config (the extension's report: the env reference resolved by the Collector),
// a YAML file named "".
TEST_F(ModulesE2E, SupervisorReportsEffectiveConfig) {
  install_module(OPSUP_EFFECTIVE_CONFIG_MODULE);
  auto supervisor =
      start_supervisor(run_with(local_config(resource_pipeline_yaml(free_tcp_port())) +
                                "  env:\n    OPSUP_E2E_TEST_VALUE: resolved-by-the-collector\n"),
                       dir_.path());
  const std::string uid = wait_for_connected_agent(server_, kDeadline);
  ASSERT_FALSE(uid.empty()) << supervisor->output();

  const boost::json::value agent = wait_for_agent(uid, [](const boost::json::value &view) {
    return effective_body(view).find("resolved-by-the-collector") != std::string::npos;
  });
  const std::string body = effective_body(agent);
  EXPECT_NE(body.find("resolved-by-the-collector"), std::string::npos)
      << boost::json::serialize(at(agent, {"effective_config"})) << "\n"
      << supervisor->output();
  EXPECT_NE(body.find("test_key"), std::string::npos) << body;
  EXPECT_EQ(string_at(agent, {"effective_config", "files", "", "content_type"}), "text/yaml");
  EXPECT_EQ(uint_at(agent, {"capabilities", "value"}) & 0x4, 0x4u);

  supervisor->send_signal(SIGTERM);
  EXPECT_EQ(supervisor->wait_exit(kDeadline), 0) << supervisor->output();
}

// TestSupervisorReportsEffectiveConfig, remote-config half: a remote config split into two
// files is applied, and the Collector's effective config reported back holds both halves
// (the resource attribute test_key of one, the receiver's port of the other).
TEST_F(ModulesE2E, SupervisorReportsEffectiveConfigOfASplitRemoteConfig) {
  install_module(OPSUP_EFFECTIVE_CONFIG_MODULE);
  install_module(OPSUP_REMOTE_CONFIG_MODULE);
  auto supervisor = start_supervisor(
      run_with("  config_apply_timeout: 30s\n", "capabilities:\n  accepts_remote_config: true\n"),
      dir_.path());
  const std::string uid = wait_for_connected_agent(server_, kDeadline);
  ASSERT_FALSE(uid.empty()) << supervisor->output();

  const std::string port = std::to_string(free_tcp_port());
  const std::string receivers =
      "receivers:\n  otlp:\n    protocols:\n      http:\n        endpoint: 127.0.0.1:" + port +
      "\nexporters:\n  debug:\n    verbosity: basic\n";
  const std::string service =
      "processors:\n  resource:\n    attributes:\n"
      "      - key: test_key\n        value: split-remote-value\n        action: insert\n"
      "service:\n  telemetry:\n    metrics:\n      level: none\n"
      "  pipelines:\n    traces:\n      receivers: [otlp]\n      processors: [resource]\n"
      "      exporters: [debug]\n";
  boost::json::object files;
  files["receivers.yaml"] = receivers;
  files["service.yaml"] = service;
  boost::json::object body;
  body["files"] = files;
  const auto pushed =
      server_.post_json("/api/agents/" + uid + "/config", boost::json::serialize(body));
  ASSERT_EQ(pushed.status, 200) << boost::json::serialize(pushed.body);
  const std::string hash = string_at(pushed.body, {"hash"});

  const boost::json::value agent = wait_for_agent(uid, [&](const boost::json::value &view) {
    const std::string text = effective_body(view);
    return string_at(view, {"remote_config_status", "status"}) == "APPLIED" &&
           string_at(view, {"remote_config_status", "last_remote_config_hash"}) == hash &&
           text.find("split-remote-value") != std::string::npos &&
           text.find("127.0.0.1:" + port) != std::string::npos;
  });
  EXPECT_EQ(string_at(agent, {"remote_config_status", "status"}), "APPLIED")
      << boost::json::serialize(at(agent, {"remote_config_status"})) << "\n"
      << supervisor->output();
  const std::string text = effective_body(agent);
  EXPECT_NE(text.find("test_key"), std::string::npos) << text;
  EXPECT_NE(text.find("split-remote-value"), std::string::npos) << text;
  EXPECT_NE(text.find("127.0.0.1:" + port), std::string::npos) << text;

  supervisor->send_signal(SIGTERM);
  EXPECT_EQ(supervisor->wait_exit(kDeadline), 0) << supervisor->output();
}

// Not an upstream scenario: while the Collector has nothing to report (here it refuses its
// config and never gets to connect), the server sees the config the supervisor composed:
// the reference kept as text, the supervisor's own opamp extension in it.
TEST_F(ModulesE2E, TheComposedConfigIsReportedWhileTheCollectorHasNoReport) {
  install_module(OPSUP_EFFECTIVE_CONFIG_MODULE);
  const std::string refused =
      resource_pipeline_yaml(free_tcp_port()) + "connectors:\n  nosuchconnector: {}\n";
  auto supervisor = start_supervisor(run_with(local_config(refused)), dir_.path());
  const std::string uid = wait_for_connected_agent(server_, kDeadline);
  ASSERT_FALSE(uid.empty()) << supervisor->output();

  const boost::json::value agent = wait_for_agent(uid, [](const boost::json::value &view) {
    return effective_body(view).find("nosuchconnector") != std::string::npos;
  });
  const std::string body = effective_body(agent);
  EXPECT_NE(body.find("nosuchconnector"), std::string::npos) << supervisor->output();
  EXPECT_NE(body.find("${env:OPSUP_E2E_TEST_VALUE}"), std::string::npos) << body;
  EXPECT_NE(body.find("opamp"), std::string::npos) << body;
  EXPECT_EQ(string_at(agent, {"effective_config", "files", "", "content_type"}), "text/yaml");

  supervisor->send_signal(SIGTERM);
  EXPECT_EQ(supervisor->wait_exit(kDeadline), 0) << supervisor->output();
}

// TestSupervisorRestartCommand: a Restart command from the server restarts the Collector (a
// new process, not counted as a crash); after ReportFullState it is reported healthy again,
// with the new process's start time.
TEST_F(ModulesE2E, SupervisorRestartCommand) {
  install_module(OPSUP_RESTART_COMMAND_MODULE);
  install_module(OPSUP_HEALTH_MODULE);
  auto supervisor =
      start_supervisor(run_with(local_config(resource_pipeline_yaml(free_tcp_port())) +
                                    "  env:\n    OPSUP_E2E_TEST_VALUE: restart\n",
                                "capabilities:\n  accepts_restart_command: true\n"),
                       dir_.path());
  const auto started = supervisor->wait_for_line("Collector started \\(pid", kDeadline);
  ASSERT_TRUE(started) << supervisor->output();
  const pid_t first_pid = collector_pid_from(*started);
  const std::string uid = wait_for_connected_agent(server_, kDeadline);
  ASSERT_FALSE(uid.empty()) << supervisor->output();
  const boost::json::value healthy = wait_for_agent(uid, [](const boost::json::value &view) {
    return at(view, {"health", "healthy"}) == boost::json::value(true);
  });
  ASSERT_EQ(at(healthy, {"health", "healthy"}), boost::json::value(true)) << supervisor->output();
  EXPECT_EQ(uint_at(healthy, {"capabilities", "value"}) & 0x400, 0x400u);
  const uint64_t first_start = uint_at(healthy, {"health", "start_time_unix_nano"});
  ASSERT_GT(first_start, 0u);

  const auto restart = server_.post_json("/api/agents/" + uid + "/restart", "{}");
  ASSERT_EQ(restart.status, 200) << boost::json::serialize(restart.body);
  EXPECT_EQ(string_at(restart.body, {"delivery"}), "sent");

  pid_t second_pid = 0;
  ASSERT_TRUE(eventually(
      [&] {
        const auto pids = started_pids(*supervisor);
        second_pid = pids.size() >= 2 ? pids[1] : 0;
        return second_pid != 0;
      },
      kDeadline))
      << supervisor->output();
  EXPECT_NE(second_pid, first_pid);
  EXPECT_TRUE(eventually([&] { return !process_exists(first_pid); }, kDeadline));
  EXPECT_EQ(supervisor->count_lines("module restart_command: restart_command: restarting the "
                                    "Collector on the server's command"),
            1u)
      << supervisor->output();
  EXPECT_EQ(supervisor->count_lines("exited unexpectedly"), 0u) << supervisor->output();

  const auto full_state = server_.post_json("/api/agents/" + uid + "/full-state", "{}");
  ASSERT_EQ(full_state.status, 200) << boost::json::serialize(full_state.body);
  const boost::json::value again = wait_for_agent(uid, [&](const boost::json::value &view) {
    return at(view, {"health", "healthy"}) == boost::json::value(true) &&
           uint_at(view, {"health", "start_time_unix_nano"}) > first_start;
  });
  EXPECT_EQ(at(again, {"health", "healthy"}), boost::json::value(true)) << supervisor->output();
  EXPECT_GT(uint_at(again, {"health", "start_time_unix_nano"}), first_start);
  EXPECT_TRUE(process_exists(second_pid));
  EXPECT_EQ(started_pids(*supervisor).size(), 2u) << supervisor->output();

  supervisor->send_signal(SIGTERM);
  EXPECT_EQ(supervisor->wait_exit(kDeadline), 0) << supervisor->output();
}

// Custom capabilities and messages forwarded both ways: the Collector's capability is
// advertised to the server, the server's message reaches the Collector, and the Collector's
// answer reaches the server.
TEST_F(ModulesE2E, CustomMessagesAreForwardedBothWays) {
  install_module(OPSUP_CUSTOM_MESSAGES_MODULE);
  constexpr const char *kEcho = "io.opsup.test.echo";
  SupervisorRun run = run_with(local_config(std::string("extensions:\n  fault:\n") +
                                            "    echo_custom_capability: " + kEcho +
                                            "\nservice:\n  extensions: [fault]\n"));
  run.collector = collector_executable(CollectorKind::kStandIn);
  auto supervisor = start_supervisor(run, dir_.path());
  const std::string uid = wait_for_connected_agent(server_, kDeadline);
  ASSERT_FALSE(uid.empty()) << supervisor->output();
  const auto advertised = wait_for_agent(uid, [&](const boost::json::value &agent) {
    const auto &list = at(agent, {"custom_capabilities"});
    return list.is_array() && !list.as_array().empty() && list.as_array()[0] == kEcho;
  });
  ASSERT_EQ(at(advertised, {"custom_capabilities"}).as_array().size(), 1u) << supervisor->output();

  const auto sent = server_.post_json(
      "/api/agents/" + uid + "/custom-message",
      std::string(R"({"capability": ")") + kEcho + R"(", "type": "ping", "data": "hello"})");
  ASSERT_EQ(sent.status, 200);
  const auto answered = wait_for_agent(uid, [&](const boost::json::value &agent) {
    const auto &messages = at(agent, {"custom_messages"});
    if (!messages.is_array())
      return false;
    for (const auto &message : messages.as_array()) {
      if (string_at(message, {"type"}) == "echo.ping" && string_at(message, {"data"}) == "hello")
        return true;
    }
    return false;
  });
  EXPECT_FALSE(at(answered, {"custom_messages"}).as_array().empty()) << supervisor->output();
  supervisor->send_signal(SIGTERM);
  EXPECT_EQ(supervisor->wait_exit(kDeadline), 0);
}

// Issue 13: the effective config the server sees has its secrets redacted, the Collector's
// own report included (the header value and the token never leave the machine).
TEST_F(ModulesE2E, TheReportedEffectiveConfigHasItsSecretsRedacted) {
  install_module(OPSUP_EFFECTIVE_CONFIG_MODULE);
  const std::string config =
      "receivers:\n  otlp:\n    protocols:\n      http:\n        endpoint: 127.0.0.1:" +
      std::to_string(free_tcp_port()) +
      "\nexporters:\n  otlphttp:\n    endpoint: http://127.0.0.1:1\n    headers:\n"
      "      authorization: Bearer abc123-secret\n      x-api-token: tok-987\n"
      "service:\n  telemetry:\n    metrics:\n      level: none\n  pipelines:\n    traces:\n"
      "      receivers: [otlp]\n      exporters: [otlphttp]\n";
  auto supervisor = start_supervisor(run_with(local_config(config)), dir_.path());
  const std::string uid = wait_for_connected_agent(server_, kDeadline);
  ASSERT_FALSE(uid.empty()) << supervisor->output();
  const boost::json::value agent = wait_for_agent(uid, [](const boost::json::value &view) {
    return effective_body(view).find("otlphttp") != std::string::npos;
  });
  const std::string body = effective_body(agent);
  EXPECT_NE(body.find("otlphttp"), std::string::npos) << supervisor->output();
  EXPECT_EQ(body.find("abc123-secret"), std::string::npos) << body;
  EXPECT_EQ(body.find("tok-987"), std::string::npos) << body;
  EXPECT_NE(body.find("[REDACTED]"), std::string::npos) << body;
  supervisor->send_signal(SIGTERM);
  EXPECT_EQ(supervisor->wait_exit(kDeadline), 0) << supervisor->output();
}

}  // namespace
}  // namespace opsup::testing
