// SIGHUP (systemctl reload) with the real Collector: the supervisor reads its config file
// again, applies what can change while it runs (agent.config_files, description overrides,
// log outputs), keeps running on the old config when the new file is invalid, names the
// keys that need a restart, leaves the Collector alone when nothing changed, and reopens
// its log files (logrotate).
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <sstream>

#include "e2e_support.hpp"
#include "supervisor_fixture.hpp"
#include "support/collector.hpp"
#include "support/ports.hpp"

namespace opsup::testing {
namespace {

using namespace std::chrono_literals;
constexpr auto kDeadline = 60s;

// 1-based line of the first line of `text` that starts with `prefix`; 0 when none does.
int line_starting_with(const std::string &text, const std::string &prefix) {
  std::istringstream in(text);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.starts_with(prefix))
      return number;
  }
  return 0;
}

class ConfigReload : public ::testing::Test {
 protected:
  TempDir dir_;
  TempDir modules_;
  OpampServerProcess server_;
  std::unique_ptr<ChildProcess> supervisor_;

  std::filesystem::path config_path() const { return dir_.path() / "supervisor.yaml"; }
  std::filesystem::path agent_log() const { return dir_.path() / "storage" / "agent.log"; }

  SupervisorRun run_with(const std::string &agent_yaml, const std::string &extra_yaml = "") {
    return {.endpoint = server_.websocket_url(),
            .storage = dir_.path() / "storage",
            .modules_dir = modules_.path(),
            .extra_yaml = extra_yaml,
            .collector = collector_executable(CollectorKind::kReal),
            .agent_yaml = agent_yaml};
  }

  std::string config_files(const std::string &name, uint16_t otlp_port) {
    return "  config_files:\n    - " + dir_.write_file(name, pipeline_yaml(otlp_port)).string() +
           "\n";
  }

  // The supervisor, once the Collector runs and the server sees the agent; its pid.
  pid_t start(const SupervisorRun &run) {
    supervisor_ = start_supervisor(run, dir_.path());
    const auto started = supervisor_->wait_for_line("Collector started \\(pid", kDeadline);
    EXPECT_TRUE(started) << supervisor_->output();
    EXPECT_FALSE(wait_for_connected_agent(server_, kDeadline).empty()) << supervisor_->output();
    return started ? collector_pid_from(*started) : 0;
  }

  // Writes the new supervisor config and sends SIGHUP.
  void reload_with(const SupervisorRun &run) {
    const auto next = dir_.path() / "supervisor.yaml.next";
    std::ofstream(next) << supervisor_yaml(run);
    std::filesystem::rename(next, config_path());
    supervisor_->send_signal(SIGHUP);
  }

  bool span_comes_out(uint16_t otlp_port, const std::string &span_name) {
    return eventually(
        [&] {
          return send_span(otlp_port, span_name) &&
                 read_file(agent_log()).find(span_name) != std::string::npos;
        },
        kDeadline);
  }

  void stop() {
    supervisor_->send_signal(SIGTERM);
    EXPECT_EQ(supervisor_->wait_exit(kDeadline), 0) << supervisor_->output();
  }
};

TEST_F(ConfigReload, AChangedPipelineRunsWithoutASupervisorRestart) {
  const uint16_t first_port = free_tcp_port();
  start(run_with(config_files("first.yaml", first_port)));
  ASSERT_TRUE(span_comes_out(first_port, "opsup-before-reload")) << read_file(agent_log());

  const uint16_t second_port = free_tcp_port();
  reload_with(run_with(config_files("second.yaml", second_port)));
  ASSERT_TRUE(supervisor_->wait_for_line(
      "Reload of .* finished: the Collector runs config generation", kDeadline))
      << supervisor_->output();
  EXPECT_TRUE(supervisor_->wait_for_line("Reloaded .*: applied agent.config_files", kDeadline));
  EXPECT_TRUE(span_comes_out(second_port, "opsup-after-reload")) << read_file(agent_log());
  EXPECT_TRUE(supervisor_->running());
  EXPECT_EQ(supervisor_->count_lines("Supervisor starting"), 1u);
  stop();
}

TEST_F(ConfigReload, AnInvalidFileKeepsTheOldConfigAndNamesFileAndLine) {
  const uint16_t port = free_tcp_port();
  const SupervisorRun good = run_with(config_files("collector.yaml", port));
  const pid_t collector = start(good);
  ASSERT_TRUE(span_comes_out(port, "opsup-before-reload")) << read_file(agent_log());

  SupervisorRun bad = good;
  bad.agent_yaml += "  orphan_detection_interval: 0s\n";
  const int line = line_starting_with(supervisor_yaml(bad), "  orphan_detection_interval:");
  ASSERT_GT(line, 0);
  reload_with(bad);
  const std::string where =
      config_path().string() + ":" + std::to_string(line) + ": agent.orphan_detection_interval";
  const auto refused = supervisor_->wait_for_line("Reload refused", kDeadline);
  ASSERT_TRUE(refused) << supervisor_->output();
  EXPECT_NE(refused->find(where), std::string::npos) << *refused;
  EXPECT_NE(refused->find("must be a positive duration"), std::string::npos) << *refused;

  EXPECT_TRUE(supervisor_->running());
  EXPECT_TRUE(process_exists(collector));
  EXPECT_TRUE(span_comes_out(port, "opsup-after-refused-reload")) << read_file(agent_log());
  EXPECT_EQ(supervisor_->count_lines("Collector started \\(pid"), 1u) << supervisor_->output();
  stop();
}

// The supervisor config is valid but a Collector config file it names is not: the
// Collector keeps its config, and the file and line are logged.
TEST_F(ConfigReload, AnInvalidCollectorConfigFileLeavesTheCollectorOnItsConfig) {
  const uint16_t port = free_tcp_port();
  const pid_t collector = start(run_with(config_files("collector.yaml", port)));
  const auto broken = dir_.write_file("broken.yaml", "receivers:\n  otlp: [unclosed\n");
  reload_with(run_with("  config_files:\n    - " + broken.string() + "\n"));
  const auto kept =
      supervisor_->wait_for_line("Reload of .* the Collector keeps its previous config", kDeadline);
  ASSERT_TRUE(kept) << supervisor_->output();
  EXPECT_NE(kept->find(broken.string()), std::string::npos) << *kept;
  EXPECT_NE(kept->find(broken.string() + ": line "), std::string::npos) << *kept;
  EXPECT_TRUE(process_exists(collector));
  EXPECT_TRUE(span_comes_out(port, "opsup-after-broken-reload")) << read_file(agent_log());
  stop();
}

TEST_F(ConfigReload, AChangedDescriptionReachesTheServer) {
  const SupervisorRun first = run_with(config_files("collector.yaml", free_tcp_port()));
  const pid_t collector = start(first);
  const std::string uid = wait_for_connected_agent(server_, kDeadline);
  ASSERT_FALSE(uid.empty());

  SupervisorRun second = first;
  second.agent_yaml +=
      "  description:\n"
      "    identifying_attributes:\n      service.namespace: reloaded\n"
      "    non_identifying_attributes:\n      deployment.stage: after-sighup\n";
  reload_with(second);
  boost::json::value agent;
  EXPECT_TRUE(eventually(
      [&] {
        agent = server_.agent(uid);
        return string_at(agent, {"description", "identifying_attributes", "service.namespace"}) ==
                   "reloaded" &&
               string_at(agent, {"description", "non_identifying_attributes",
                                 "deployment.stage"}) == "after-sighup";
      },
      kDeadline))
      << supervisor_->output();
  // The Collector's own attributes stay beside the overrides, and it was not restarted.
  EXPECT_FALSE(string_at(agent, {"description", "identifying_attributes", "service.name"}).empty());
  ASSERT_TRUE(supervisor_->wait_for_line("Reload of .* finished", kDeadline));
  EXPECT_TRUE(process_exists(collector));
  stop();
}

TEST_F(ConfigReload, AChangedServerEndpointIsNamedAsNeedingARestart) {
  const SupervisorRun first = run_with(config_files("collector.yaml", free_tcp_port()));
  start(first);
  const std::string uid = wait_for_connected_agent(server_, kDeadline);

  SupervisorRun second = first;
  second.endpoint = "ws://127.0.0.1:" + std::to_string(free_tcp_port()) + "/v1/opamp";
  const int line = line_starting_with(supervisor_yaml(second), "  endpoint:");
  reload_with(second);
  const auto warning = supervisor_->wait_for_line(
      "server.endpoint differs .* it takes effect only after a restart", kDeadline);
  ASSERT_TRUE(warning) << supervisor_->output();
  EXPECT_NE(
      warning->find(config_path().string() + ":" + std::to_string(line) + ": server.endpoint"),
      std::string::npos)
      << *warning;
  EXPECT_TRUE(
      supervisor_->wait_for_line("Reloaded .*: no change to apply while running", kDeadline))
      << supervisor_->output();
  // Still connected to the server it started with.
  ASSERT_TRUE(supervisor_->wait_for_line("Reload of .* finished", kDeadline));
  EXPECT_EQ(at(server_.agent(uid), {"connection", "connected"}), boost::json::value(true));
  stop();
}

TEST_F(ConfigReload, AnUnchangedFileLeavesTheCollectorAlone) {
  const SupervisorRun run = run_with(config_files("collector.yaml", free_tcp_port()));
  const pid_t collector = start(run);
  ASSERT_GT(collector, 0);
  reload_with(run);
  ASSERT_TRUE(supervisor_->wait_for_line(
      "Reload of .* finished: the Collector's config is unchanged", kDeadline))
      << supervisor_->output();
  EXPECT_TRUE(
      supervisor_->wait_for_line("Reloaded .*: no change to apply while running", kDeadline));
  EXPECT_EQ(supervisor_->count_lines("Collector started \\(pid"), 1u) << supervisor_->output();
  EXPECT_EQ(supervisor_->count_lines("Collector config generation"), 1u) << supervisor_->output();
  EXPECT_TRUE(process_exists(collector));
  stop();
}

// logrotate moves the file away, then its postrotate `systemctl reload` sends SIGHUP.
TEST_F(ConfigReload, AMovedLogFileIsCreatedAgainAndWritten) {
  const auto log = dir_.path() / "supervisor.log";
  const auto rotated = dir_.path() / "supervisor.log.1";
  start(run_with(config_files("collector.yaml", free_tcp_port()),
                 "    output_paths: [stdout, " + log.string() + "]\n"));
  ASSERT_TRUE(eventually(
      [&] { return read_file(log).find("Supervisor starting") != std::string::npos; }, kDeadline));
  std::filesystem::rename(log, rotated);
  supervisor_->send_signal(SIGHUP);
  ASSERT_TRUE(supervisor_->wait_for_line("Reload of .* finished", kDeadline))
      << supervisor_->output();
  // The file sink writes after stdout: wait for it, too.
  EXPECT_TRUE(eventually(
      [&] {
        const std::string text = read_file(log);
        return text.find("Received SIGHUP") != std::string::npos &&
               text.find("Reload of") != std::string::npos;
      },
      kDeadline))
      << read_file(log);
  EXPECT_EQ(read_file(rotated).find("Received SIGHUP"), std::string::npos);
  EXPECT_NE(read_file(rotated).find("Supervisor starting"), std::string::npos);
  stop();
}

#ifdef OPSUP_OWN_TELEMETRY_MODULE
// A plugins.<id> section is checked by its module, as at start: a changed valid one is
// named as needing a restart, one the module refuses refuses the reload with its line.
TEST_F(ConfigReload, AModuleSectionIsCheckedByItsModule) {
  std::filesystem::copy_file(OPSUP_OWN_TELEMETRY_MODULE, modules_.path() / "own_telemetry.so");
  const SupervisorRun first = run_with(config_files("collector.yaml", free_tcp_port()),
                                       "plugins:\n  own_telemetry:\n    metrics_interval: 1s\n");
  start(first);
  ASSERT_TRUE(supervisor_->wait_for_line("Supervisor starting.*ReportsOwnMetrics", kDeadline))
      << supervisor_->output();

  SupervisorRun changed = first;
  changed.extra_yaml = "plugins:\n  own_telemetry:\n    metrics_interval: 2s\n";
  const int line = line_starting_with(supervisor_yaml(changed), "    metrics_interval:");
  const std::string where = config_path().string() + ":" + std::to_string(line) +
                            ": plugins.own_telemetry.metrics_interval";
  reload_with(changed);
  const auto pending = supervisor_->wait_for_line(
      "plugins.own_telemetry.metrics_interval differs .* only after a restart", kDeadline);
  ASSERT_TRUE(pending) << supervisor_->output();
  EXPECT_NE(pending->find(where), std::string::npos) << *pending;
  ASSERT_TRUE(supervisor_->wait_for_line("Reload of .* finished", kDeadline));

  SupervisorRun refused = first;
  refused.extra_yaml = "plugins:\n  own_telemetry:\n    metrics_interval: 0s\n";
  reload_with(refused);
  const auto error = supervisor_->wait_for_line("Reload refused", kDeadline);
  ASSERT_TRUE(error) << supervisor_->output();
  EXPECT_NE(error->find(where + ": must be positive"), std::string::npos) << *error;
  EXPECT_TRUE(supervisor_->running());
  stop();
}
#endif

}  // namespace
}  // namespace opsup::testing
