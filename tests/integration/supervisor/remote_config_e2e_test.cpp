// The remote_config module end to end: tools/opamp-server pushes configs, the supervisor
// runs the real Collector (tools/otelcol) on them, and the tests assert on what the server
// saw (status, hash, health) and on the data that comes out of the Collector. Each test is
// named after the upstream e2e scenario it mirrors (reference section 4.1); the last ones go
// beyond upstream.
//
// Where the other scenarios of section 4.1 (and those added upstream since) are mirrored,
// each test named after its scenario:
//   collector_lifecycle_test: SupervisorStartsCollectorWithLocalConfigOnly,
//     SupervisorWritesAgentFilesToStorageDir, SupervisorStartsCollectorWithNoPipelineConfig,
//     SupervisorStartsCollectorWithDeclarativeTelemetryResourceConfig,
//     SupervisorBootstrapsCollector(+WithInternalTelemetryPortInUse), SupervisorOpAmpServerPort,
//     SupervisorPersistsNewInstanceID,
//     SupervisorLogging (file output, levels, passthrough),
//     SupervisorStartsCollectorOverUnixSocket;
//   agent_description_e2e_test: SupervisorConfiguresCapabilities,
//     SupervisorAgentDescriptionConfigApplies,
//     SupervisorForwardsUpdatedAgentDescriptionFromCollector,
//     SupervisorBootstrapsCollectorAvailableComponents;
//   supervisor_process_test: SupervisorOpAMPWithHTTPEndpoint, SupervisorPersistsInstanceID;
//   auth_extensions_e2e_test: SupervisorExtensionsFeatureGateRequired,
//     SupervisorAuthExtensions (bearer, basic, OAuth2 renewed for the reconnect);
//   modules_e2e_test: SupervisorReportsEffectiveConfig, SupervisorRestartCommand;
//   health_endpoint_test: SupervisorHealthCheckServer, SupervisorHealthCheckServerBackendConnError;
//   connection_settings_e2e_test (issue 11): SupervisorOpAMPConnectionSettings,
//     SupervisorReportsHeartbeat (the offer), SupervisorAuthExtensions (auth kept across a
//     pushed endpoint change, as AuthIsKeptAcrossAPushedEndpointChange);
//   packages_e2e_test: SupervisorPackageCapabilitiesReturnError, inverted
//     (SupervisorPackageCapabilitiesWork);
//   supervisor_telemetry_e2e_test: SupervisorEmitBootstrapTelemetry (with the spans of
//     SupervisorRemoteConfigApplyStatus), SupervisorLogging over OTLP
//     (SupervisorLoggingOverOtlp);
//   tests/package/binary_size_test.sh: SupervisorBinarySize;
//   Windows only, not mirrored: the named-pipe scenario.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <csignal>
#include <fstream>
#include <sstream>

#include "e2e_support.hpp"
#include "opamp.pb.h"
#include "supervisor_fixture.hpp"
#include "support/collector.hpp"
#include "support/ports.hpp"

namespace opsup::testing {
namespace {

using namespace std::chrono_literals;
constexpr auto kDeadline = 60s;

class RemoteConfigE2e : public ::testing::Test {
 protected:
  TempDir dir_;
  TempDir modules_;
  std::unique_ptr<OpampServerProcess> server_ = std::make_unique<OpampServerProcess>();
  std::unique_ptr<ChildProcess> supervisor_;
  std::string uid_;

  void SetUp() override {
    for (const char *module : {"remote_config.so", "health.so"}) {
      std::filesystem::copy_file(std::filesystem::path(OPSUP_MODULES_DIR) / module,
                                 modules_.path() / module);
    }
  }

  SupervisorRun run(const std::string &agent_yaml = "", const std::string &endpoint = "") {
    return {.endpoint = endpoint.empty() ? server_->websocket_url() : endpoint,
            .storage = dir_.path() / "storage",
            .modules_dir = modules_.path(),
            .extra_yaml = "capabilities:\n  accepts_remote_config: true\n",
            .collector = collector_executable(CollectorKind::kReal),
            .agent_yaml = "  config_apply_timeout: 10s\n" + agent_yaml};
  }

  void start(const SupervisorRun &with, bool wait_connected = true) {
    supervisor_ = start_supervisor(with, dir_.path());
    if (!wait_connected)
      return;
    uid_ = wait_for_connected_agent(*server_, kDeadline);
    ASSERT_FALSE(uid_.empty()) << supervisor_->output();
  }

  void stop_supervisor() {
    supervisor_->send_signal(SIGTERM);
    EXPECT_EQ(supervisor_->wait_exit(kDeadline), 0) << supervisor_->output();
  }

  // Pushes `yaml` as the whole config map (one unnamed file); returns the hash (hex).
  std::string push(const std::string &yaml) { return push_remote_config(*server_, uid_, yaml); }
  std::string push_empty_map() { return push_body(R"({"files": {}})"); }
  std::string push_body(const std::string &body) {
    const auto answer = server_->post_json("/api/agents/" + uid_ + "/config", body);
    EXPECT_EQ(answer.status, 200) << boost::json::serialize(answer.body);
    return string_at(answer.body, {"hash"});
  }

  // Waits until the server has `status` for `hash`; returns the agent's view.
  boost::json::value wait_status(const std::string &status, const std::string &hash) {
    const auto agent = wait_for_remote_config_status(*server_, uid_, status, hash, kDeadline);
    EXPECT_TRUE(agent) << "no " << status << " for " << hash << "; the server has "
                       << boost::json::serialize(at(server_->agent(uid_), {"remote_config_status"}))
                       << "\n"
                       << supervisor_->output();
    return agent.value_or(boost::json::value());
  }

  bool healthy() {
    return at(server_->agent(uid_), {"health", "healthy"}) == boost::json::value(true);
  }

  std::string effective() { return read_file(dir_.path() / "storage" / "effective.yaml"); }

  bool span_comes_out(uint16_t port, const std::string &name) {
    return eventually(
        [&] {
          return send_span(port, name) &&
                 read_file(dir_.path() / "storage" / "agent.log").find(name) != std::string::npos;
        },
        kDeadline);
  }

  uint16_t start_on_fallback_then_connect(uint16_t opamp_port);

  pid_t current_collector_pid() {
    pid_t pid = 0;
    for (const auto &line : supervisor_->lines()) {
      if (const pid_t found = collector_pid_from(line))
        pid = found;
    }
    return pid;
  }
};

TEST_F(RemoteConfigE2e, SupervisorStartsCollectorWithRemoteConfig) {
  start(run());
  const uint16_t port = free_tcp_port();
  const std::string hash = push(pipeline_yaml(port));
  wait_status("APPLIED", hash);
  EXPECT_TRUE(span_comes_out(port, "remote-config-span")) << supervisor_->output();
  EXPECT_NE(effective().find(std::to_string(port)), std::string::npos) << effective();
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "storage" / "last_recv_remote_config.dat"));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "storage" / "last_working_remote_config.dat"));
  stop_supervisor();
}

TEST_F(RemoteConfigE2e, SupervisorRemoteConfigApplyStatus) {
  start(run());
  const std::string good = push(pipeline_yaml(free_tcp_port()));
  wait_status("APPLIED", good);
  EXPECT_TRUE(eventually([&] { return healthy(); }, kDeadline));

  const std::string bad = push(kCrashingConfig);
  const auto failed = wait_status("FAILED", bad);
  EXPECT_NE(string_at(failed, {"remote_config_status", "error_message"}).find("exited"),
            std::string::npos);

  const std::string empty = push_empty_map();
  wait_status("APPLIED", empty);
  stop_supervisor();
}

TEST_F(RemoteConfigE2e, SupervisorStopsAgentProcessWithEmptyConfigMap) {
  start(run());
  const std::string good = push(pipeline_yaml(free_tcp_port()));
  wait_status("APPLIED", good);
  const pid_t pid = current_collector_pid();
  ASSERT_TRUE(process_exists(pid));
  wait_status("APPLIED", push_empty_map());
  EXPECT_TRUE(eventually([&] { return !process_exists(pid); }, kDeadline));
  stop_supervisor();
}

TEST_F(RemoteConfigE2e, SupervisorRestartsCollectorAfterBadConfig) {
  start(run());
  const std::string bad = push(kCrashingConfig);
  wait_status("FAILED", bad);
  EXPECT_TRUE(eventually(
      [&] {
        const auto agent = server_->agent(uid_);
        return at(agent, {"health", "healthy"}) == boost::json::value(false) &&
               !string_at(agent, {"health", "last_error"}).empty();
      },
      kDeadline));
  const std::string good = push(pipeline_yaml(free_tcp_port()));
  wait_status("APPLIED", good);
  EXPECT_TRUE(eventually([&] { return healthy(); }, kDeadline));
  stop_supervisor();
}

TEST_F(RemoteConfigE2e, SupervisorValidatesConfigBeforeApplying) {
  start(run("  validate_config: true\n"));
  const std::string good = push(pipeline_yaml(free_tcp_port()));
  wait_status("APPLIED", good);
  const pid_t pid = current_collector_pid();
  const std::string before = effective();

  const std::string invalid = push(
      "exporters:\n  debug:\n    not_a_debug_setting: 1\nservice:\n  pipelines:\n"
      "    traces:\n      receivers: [nop]\n      exporters: [debug]\nreceivers:\n  nop: {}\n");
  const auto failed = wait_status("FAILED", invalid);
  EXPECT_NE(
      string_at(failed, {"remote_config_status", "error_message"}).find("not_a_debug_setting"),
      std::string::npos);
  EXPECT_EQ(effective(), before);
  EXPECT_EQ(current_collector_pid(), pid);
  EXPECT_TRUE(process_exists(pid));
  stop_supervisor();
}

TEST_F(RemoteConfigE2e, SupervisorValidateConfigWithLocalConfig) {
  const uint16_t port = free_tcp_port();
  const auto local = dir_.write_file("local.yaml", pipeline_yaml(port));
  start(run("  validate_config: true\n  config_files:\n    - " + local.string() + "\n"));
  ASSERT_TRUE(eventually([&] { return healthy(); }, kDeadline)) << supervisor_->output();
  const std::string before = effective();
  const std::string invalid =
      push("service:\n  pipelines:\n    traces:\n      exporters: [missing_exporter]\n");
  const auto failed = wait_status("FAILED", invalid);
  EXPECT_NE(string_at(failed, {"remote_config_status", "error_message"}).find("missing_exporter"),
            std::string::npos);
  EXPECT_EQ(effective(), before);
  EXPECT_TRUE(healthy());
  EXPECT_TRUE(span_comes_out(port, "local-still-runs"));
  stop_supervisor();
}

TEST_F(RemoteConfigE2e, SupervisorRestartsWithLastReceivedConfig) {
  start(run());
  const uint16_t port = free_tcp_port();
  wait_status("APPLIED", push(pipeline_yaml(port)));
  stop_supervisor();

  // A new server that has no config for this agent: the last received one runs anyway.
  server_ = std::make_unique<OpampServerProcess>();
  start(run());
  EXPECT_TRUE(span_comes_out(port, "after-restart-span")) << supervisor_->output();
  stop_supervisor();
}

TEST_F(RemoteConfigE2e, SupervisorStartsCollectorWithNoOpAMPServerUsingLastRemoteConfig) {
  start(run());
  const uint16_t port = free_tcp_port();
  wait_status("APPLIED", push(pipeline_yaml(port)));
  stop_supervisor();

  start(run("", "ws://127.0.0.1:1/v1/opamp"), /*wait_connected=*/false);
  EXPECT_TRUE(span_comes_out(port, "no-server-span")) << supervisor_->output();
  stop_supervisor();
}

TEST_F(RemoteConfigE2e, SupervisorRestoresLastWorkingRemoteConfigAtRuntimeAfterFailedConfig) {
  start(run("  automatic_config_rollback: true\n"));
  const uint16_t port = free_tcp_port();
  const std::string good = push(pipeline_yaml(port));
  wait_status("APPLIED", good);
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "storage" / "last_working_remote_config.dat"));

  const std::string bad = push(kCrashingConfig);
  const auto failed = wait_status("FAILED", bad);
  EXPECT_NE(string_at(failed, {"remote_config_status", "error_message"})
                .find("running the last working config"),
            std::string::npos);
  EXPECT_TRUE(eventually([&] { return effective().find("nosuchreceiver") == std::string::npos; },
                         kDeadline));
  EXPECT_TRUE(span_comes_out(port, "rolled-back-span")) << supervisor_->output();
  stop_supervisor();
}

TEST_F(RemoteConfigE2e, SupervisorReportsCollectorLogTailOnRemoteConfigCrash) {
  start(run("  collector_crash_log_snippet_kib: 4\n"));
  const std::string bad = push(kCrashingConfig);
  const auto failed = wait_status("FAILED", bad);
  // The Collector's own words about the bad config, from its output's tail.
  EXPECT_NE(string_at(failed, {"remote_config_status", "error_message"}).find("nosuchreceiver"),
            std::string::npos)
      << string_at(failed, {"remote_config_status", "error_message"});
  stop_supervisor();
}

// A storage directory written in the Go supervisor's formats (persistent_state.yaml,
// last_recv_remote_config.dat as a serialized AgentRemoteConfig) is picked up: the same
// instance UID, and the last received config runs before the server sends anything.
TEST_F(RemoteConfigE2e, AGoSupervisorStorageDirectoryIsPickedUp) {
  const std::string uid = "0190f6a8-1234-7abc-8def-00000000abcd";
  const uint16_t port = free_tcp_port();
  const auto storage = dir_.path() / "storage";
  write_last_received_config(storage, pipeline_yaml(port), "\x0a\x0b");
  std::ofstream(storage / "persistent_state.yaml")
      << "instance_id: " << uid
      << "\nlast_remote_config_status:\n  status: 1\n  last_remote_config_hash: \"0a0b\"\n"
         "  error_message: \"\"\n";

  start(run());
  EXPECT_EQ(uid_, uid);
  EXPECT_TRUE(span_comes_out(port, "go-storage-span")) << supervisor_->output();
  const auto agent = wait_status("APPLIED", "0a0b");
  EXPECT_EQ(string_at(agent, {"instance_uid"}), uid);
  stop_supervisor();
}

// Beyond upstream: the same bad config sent again is refused with its first reason and the
// running Collector is left alone.
TEST_F(RemoteConfigE2e, AKnownBadConfigIsNotAppliedAgain) {
  start(run("  validate_config: true\n"));
  const std::string good = push(pipeline_yaml(free_tcp_port()));
  wait_status("APPLIED", good);
  const std::string bad_yaml = std::string(kCrashingConfig);
  const std::string bad = push(bad_yaml);
  const std::string first_reason =
      string_at(wait_status("FAILED", bad), {"remote_config_status", "error_message"});
  const std::string good_again = push(pipeline_yaml(free_tcp_port()));
  wait_status("APPLIED", good_again);
  const pid_t pid = current_collector_pid();

  EXPECT_EQ(push(bad_yaml), bad);
  wait_status("FAILED", bad);
  EXPECT_EQ(string_at(server_->agent(uid_), {"remote_config_status", "error_message"}),
            first_reason);
  EXPECT_TRUE(supervisor_->wait_for_line("failed before; not applying it again", kDeadline));
  EXPECT_EQ(current_collector_pid(), pid);
  stop_supervisor();
}

// The fallback runs while no server can be reached at the first start; the server then
// comes up at `opamp_port`. Returns the fallback's OTLP port.
uint16_t RemoteConfigE2e::start_on_fallback_then_connect(uint16_t opamp_port) {
  const uint16_t fallback_port = free_tcp_port();
  const auto fallback = dir_.write_file("fallback.yaml", pipeline_yaml(fallback_port));
  server_.reset();
  start(run("  startup_fallback_configs:\n    - " + fallback.string() + "\n",
            "ws://127.0.0.1:" + std::to_string(opamp_port) + "/v1/opamp"),
        /*wait_connected=*/false);
  EXPECT_TRUE(span_comes_out(fallback_port, "fallback-span")) << supervisor_->output();
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "storage" / "last_recv_remote_config.dat"));

  server_ = std::make_unique<OpampServerProcess>(
      std::vector<std::string>{"--opamp-listen", "127.0.0.1:" + std::to_string(opamp_port)});
  uid_ = wait_for_connected_agent(*server_, kDeadline);
  EXPECT_FALSE(uid_.empty()) << supervisor_->output();
  return fallback_port;
}

TEST_F(RemoteConfigE2e, SupervisorFallbackWhenNoPersistedConfig) {
  const uint16_t fallback_port = start_on_fallback_then_connect(free_tcp_port());
  // The fallback gave way to the normal config (local files only here) at the connect.
  EXPECT_TRUE(eventually(
      [&] { return effective().find(std::to_string(fallback_port)) == std::string::npos; },
      kDeadline))
      << effective();
  stop_supervisor();
}

TEST_F(RemoteConfigE2e, SupervisorFallbackDisablesAfterFirstConnect) {
  const uint16_t fallback_port = start_on_fallback_then_connect(free_tcp_port());
  ASSERT_TRUE(eventually(
      [&] { return effective().find(std::to_string(fallback_port)) == std::string::npos; },
      kDeadline))
      << effective();

  // The server goes away: the fallback does not come back.
  server_.reset();
  EXPECT_TRUE(supervisor_->wait_for_line("Disconnected|disconnected|Failed to connect", kDeadline));
  EXPECT_EQ(supervisor_->count_lines("switching to the startup fallback"), 1u);
  EXPECT_EQ(effective().find(std::to_string(fallback_port)), std::string::npos);
  stop_supervisor();
}

// Upstream checks agent.startup_fallback_configs with `<collector> validate` when the
// supervisor starts: a good config, a profiles config that needs a feature gate from
// agent.args, and a bad config, which stops start-up with the Collector's own words.
TEST_F(RemoteConfigE2e, ValidateFallbackConfigsWithColBin) {
  auto start_with_fallback = [&](const std::filesystem::path &fallback,
                                 const std::string &more_agent_yaml) {
    start(run("  startup_fallback_configs:\n    - " + fallback.string() + "\n" + more_agent_yaml,
              "ws://127.0.0.1:1/v1/opamp"),
          /*wait_connected=*/false);
  };
  const auto good = dir_.write_file("good.yaml", pipeline_yaml(free_tcp_port()));
  start_with_fallback(good, "");
  EXPECT_TRUE(supervisor_->wait_for_line(
      "Startup fallback configs \\(.*good.yaml\\) pass the Collector's validate", kDeadline))
      << supervisor_->output();
  EXPECT_TRUE(supervisor_->wait_for_line("Collector started \\(pid", kDeadline));
  stop_supervisor();

  const std::string profiles_yaml =
      "receivers:\n  otlp:\n    protocols:\n      http:\n        endpoint: 127.0.0.1:" +
      std::to_string(free_tcp_port()) +
      "\nexporters:\n  debug: {}\nservice:\n  telemetry:\n    metrics:\n      level: none\n"
      "  pipelines:\n    profiles:\n      receivers: [otlp]\n      exporters: [debug]\n";
  const auto profiles = dir_.write_file("profiles.yaml", profiles_yaml);
  std::filesystem::remove_all(dir_.path() / "storage");
  start_with_fallback(profiles, "  args: [\"--feature-gates=service.profilesSupport\"]\n");
  EXPECT_TRUE(supervisor_->wait_for_line(
      "Startup fallback configs \\(.*profiles.yaml\\) pass the Collector's validate", kDeadline))
      << supervisor_->output();
  stop_supervisor();

  const auto bad = dir_.write_file("bad.yaml", kCrashingConfig);
  std::filesystem::remove_all(dir_.path() / "storage");
  start_with_fallback(bad, "");
  EXPECT_EQ(supervisor_->wait_exit(kDeadline), 1) << supervisor_->output();
  supervisor_->wait_output_closed(10s);
  EXPECT_EQ(
      supervisor_->count_lines("supervisor.yaml:[0-9]+: agent.startup_fallback_configs \\(" +
                               bad.string() + "\\): the Collector's `validate` refuses them: "),
      1u)
      << supervisor_->output();
  EXPECT_EQ(supervisor_->count_lines("nosuchreceiver"), 1u) << supervisor_->output();
  EXPECT_EQ(supervisor_->count_lines("Collector started"), 0u);
}

TEST_F(RemoteConfigE2e, SupervisorStartsCollectorWithNoOpAMPServerWithNoLastRemoteConfig) {
  const uint16_t opamp_port = free_tcp_port();
  const uint16_t port = free_tcp_port();
  const auto local = dir_.write_file("local.yaml", pipeline_yaml(port));
  server_.reset();
  start(run("  config_files:\n    - " + local.string() + "\n",
            "ws://127.0.0.1:" + std::to_string(opamp_port) + "/v1/opamp"),
        /*wait_connected=*/false);
  EXPECT_TRUE(span_comes_out(port, "no-server-local-span")) << supervisor_->output();

  server_ = std::make_unique<OpampServerProcess>(
      std::vector<std::string>{"--opamp-listen", "127.0.0.1:" + std::to_string(opamp_port)});
  uid_ = wait_for_connected_agent(*server_, kDeadline);
  EXPECT_FALSE(uid_.empty()) << supervisor_->output();
  EXPECT_TRUE(eventually([&] { return healthy(); }, kDeadline));
  stop_supervisor();
}

TEST_F(RemoteConfigE2e, SupervisorStartsWithNoOpAMPServer) {
  const uint16_t opamp_port = free_tcp_port();
  server_.reset();
  start(run("", "ws://127.0.0.1:" + std::to_string(opamp_port) + "/v1/opamp"),
        /*wait_connected=*/false);
  ASSERT_TRUE(supervisor_->wait_for_line("Collector started \\(pid", kDeadline))
      << supervisor_->output();

  server_ = std::make_unique<OpampServerProcess>(
      std::vector<std::string>{"--opamp-listen", "127.0.0.1:" + std::to_string(opamp_port)});
  uid_ = wait_for_connected_agent(*server_, kDeadline);
  ASSERT_FALSE(uid_.empty()) << supervisor_->output();
  const uint16_t port = free_tcp_port();
  const std::string hash = push(pipeline_yaml(port));
  const auto agent = wait_status("APPLIED", hash);
  EXPECT_EQ(string_at(agent, {"remote_config_status", "last_remote_config_hash"}), hash);
  EXPECT_TRUE(span_comes_out(port, "late-server-span")) << supervisor_->output();
  stop_supervisor();
}

// Rollback across a supervisor restart: the last received config failed, so the restarted
// supervisor runs the last working one, and does not claim it APPLIED to the new server.
TEST_F(RemoteConfigE2e, SupervisorRestartsWithLastWorkingRemoteConfigAfterFailedConfig) {
  start(run("  automatic_config_rollback: true\n"));
  const uint16_t port = free_tcp_port();
  const std::string good = push(pipeline_yaml(port));
  wait_status("APPLIED", good);
  const std::string bad = push(kCrashingConfig);
  wait_status("FAILED", bad);
  stop_supervisor();

  server_ = std::make_unique<OpampServerProcess>();
  start(run("  automatic_config_rollback: true\n"));
  EXPECT_TRUE(span_comes_out(port, "last-working-after-restart")) << supervisor_->output();
  ASSERT_TRUE(eventually([&] { return healthy(); }, kDeadline)) << supervisor_->output();
  EXPECT_TRUE(supervisor_->wait_for_line("failed; starting from the last working one", kDeadline));
  // What the new server heard about remote configs: the persisted FAILED, never APPLIED.
  const boost::json::value messages = server_->get_json("/api/agents/" + uid_ + "/messages");
  bool heard_status = false;
  for (const auto &message : at(messages, {"messages"}).as_array()) {
    if (string_at(message, {"remote_config_status"}).empty())
      continue;
    heard_status = true;
    EXPECT_NE(string_at(message, {"remote_config_status"}), "APPLIED")
        << boost::json::serialize(message);
  }
  EXPECT_TRUE(heard_status);
  EXPECT_EQ(string_at(server_->agent(uid_), {"remote_config_status", "last_remote_config_hash"}),
            bad);
  stop_supervisor();
}

// The restored last working config fails too: the Collector is retried at the restart
// backoff, not in a tight loop. A wrapper logs each run's start time.
TEST_F(RemoteConfigE2e, SupervisorDoesNotTightlyLoopWhenRestoredLastWorkingRemoteConfigFails) {
  // The wrapper timestamps each Collector run; once the test creates `broken`, every run
  // exits at once, as a Collector whose restored config cannot work any more does. (Taking
  // the working config's port instead raced the restored Collector for it: under load the
  // restored Collector sometimes won and ran healthy.)
  const auto runs_log = dir_.path() / "collector-runs.log";
  const auto broken = dir_.path() / "restored-config-fails";
  const auto wrapper = dir_.write_file(
      "otelcol-counting", "#!/bin/sh\ncase \"$1\" in --config)\n  echo \"$(date +%s%N)\" >> '" +
                              runs_log.string() + "'\n  if [ -e '" + broken.string() +
                              "' ]; then echo 'restored config cannot work' >&2; exit 1; fi;;\n"
                              "esac\nexec '" +
                              collector_executable(CollectorKind::kReal).string() + "' \"$@\"\n");
  std::filesystem::permissions(wrapper, std::filesystem::perms::owner_all);
  SupervisorRun with = run("  automatic_config_rollback: true\n");
  with.collector = wrapper;
  start(with);
  const uint16_t port = free_tcp_port();
  const std::string good = push(pipeline_yaml(port));
  wait_status("APPLIED", good);
  ASSERT_TRUE(std::filesystem::exists(dir_.path() / "storage" / "last_working_remote_config.dat"));

  auto run_starts = [&] {
    std::vector<long long> starts;
    std::istringstream lines(read_file(runs_log));
    for (std::string line; std::getline(lines, line);)
      starts.push_back(std::stoll(line));
    return starts;
  };
  const size_t before = run_starts().size();
  dir_.write_file(broken.filename().string(), "");
  push(kCrashingConfig);

  // The bad config's run, the restored config's run, then one retry after the backoff.
  ASSERT_TRUE(eventually([&] { return run_starts().size() >= before + 3; }, kDeadline))
      << supervisor_->output();
  const std::vector<long long> starts = run_starts();
  const long long retry_gap_ms = (starts[before + 2] - starts[before + 1]) / 1000000;
  EXPECT_GE(retry_gap_ms, 900) << "the failing restored config was retried after only "
                               << retry_gap_ms << " ms\n"
                               << supervisor_->output();
  stop_supervisor();
}

// A persisted remote config, local config_files, agent.args and agent.env all take effect
// together: three pipelines, each with its own OTLP port, carry data.
TEST_F(RemoteConfigE2e, SupervisorStartsCollectorWithRemoteConfigAndExecParams) {
  const uint16_t remote_port = free_tcp_port();
  const uint16_t local_port = free_tcp_port();
  const uint16_t args_port = free_tcp_port();
  write_last_received_config(dir_.path() / "storage",
                             named_pipeline_yaml(std::to_string(remote_port), "remote"),
                             "\x01\x02");
  const auto local =
      dir_.write_file("local.yaml", named_pipeline_yaml("${env:OPSUP_E2E_LOCAL_PORT}", "local"));
  const auto from_args =
      dir_.write_file("args.yaml", named_pipeline_yaml(std::to_string(args_port), "args"));
  start(run("  config_files:\n    - " + local.string() + "\n  args: [\"--config\", \"" +
            from_args.string() + "\"]\n  env:\n    OPSUP_E2E_LOCAL_PORT: \"" +
            std::to_string(local_port) + "\"\n"));
  EXPECT_TRUE(span_comes_out(remote_port, "exec-remote-span")) << supervisor_->output();
  EXPECT_TRUE(span_comes_out(local_port, "exec-local-span")) << supervisor_->output();
  EXPECT_TRUE(span_comes_out(args_port, "exec-args-span")) << supervisor_->output();
  stop_supervisor();
}

}  // namespace
}  // namespace opsup::testing
