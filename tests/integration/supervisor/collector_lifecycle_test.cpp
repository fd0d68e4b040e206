// The supervisor runs the real Collector (tools/otelcol): bootstrap and its cache, local
// config files with data flowing through, no-pipeline configs, the local OpAMP server's
// port, graceful stop and dying with the supervisor. The stand-in only where the real
// Collector cannot show the case (a failing bootstrap, the Unix-socket link, which the
// real extension v0.149.0 does not know).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <csignal>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "common/uuid.hpp"
#include "e2e_support.hpp"
#include "supervisor_fixture.hpp"
#include "support/collector.hpp"
#include "support/http.hpp"
#include "support/opamp_test_server.hpp"
#include "support/ports.hpp"

namespace opsup::testing {
namespace {

using namespace std::chrono_literals;
constexpr auto kDeadline = 60s;
constexpr const char *kSpanName = "opsup-lifecycle-span";

struct BuildInfo {
  std::string command;
  std::string version;
};

BuildInfo components_build_info(const std::filesystem::path &collector) {
  ChildProcess components({collector, {"components"}, {}, {}});
  EXPECT_EQ(components.wait_exit(kDeadline), 0);
  components.wait_output_closed(10s);
  const YAML::Node info = YAML::Load(components.output())["buildinfo"];
  return {info["command"].as<std::string>(), info["version"].as<std::string>()};
}

// The real Collector behind a script whose `featuregate` hides service.AllowNoPipelines, as
// a Collector without the gate would print it (upstream's e2e test wraps it the same way).
std::filesystem::path without_allow_no_pipelines(const TempDir &dir) {
  const std::string real = collector_executable(CollectorKind::kReal).string();
  const auto path = dir.write_file(
      "otelcol-without-gate",
      "#!/bin/sh\nif [ \"$1\" = featuregate ]; then\n  \"" + real +
          "\" featuregate | grep -v '^service.AllowNoPipelines'\n  exit 0\nfi\nexec \"" + real +
          "\" \"$@\"\n");
  std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  return path;
}

class CollectorLifecycle : public ::testing::Test {
 protected:
  TempDir dir_;
  TempDir modules_;
  OpampServerProcess server_;

  SupervisorRun run_with(const std::filesystem::path &collector, const std::string &agent_yaml) {
    return {.endpoint = server_.websocket_url(),
            .storage = dir_.path() / "storage",
            .modules_dir = modules_.path(),
            .collector = collector,
            .agent_yaml = agent_yaml};
  }

  std::string local_config(uint16_t otlp_port) {
    return "  config_files:\n    - " +
           dir_.write_file("collector.yaml", pipeline_yaml(otlp_port)).string() + "\n";
  }

  // Waits for the server to see the agent described by the Collector itself.
  boost::json::value wait_for_collector_description(const std::string &service_name) {
    boost::json::value agent;
    eventually(
        [&] {
          const std::string uid = wait_for_connected_agent(server_, 1s);
          if (uid.empty())
            return false;
          agent = server_.agent(uid);
          return string_at(agent, {"description", "identifying_attributes", "service.name"}) ==
                 service_name;
        },
        kDeadline);
    return agent;
  }

  void expect_bootstrap_learns_build_info(const std::filesystem::path &collector) {
    const BuildInfo info = components_build_info(collector_executable(CollectorKind::kReal));
    auto supervisor = start_supervisor(run_with(collector, ""), dir_.path());
    const boost::json::value agent = wait_for_collector_description(info.command);
    EXPECT_EQ(string_at(agent, {"description", "identifying_attributes", "service.name"}),
              info.command)
        << supervisor->output();
    EXPECT_EQ(string_at(agent, {"description", "identifying_attributes", "service.version"}),
              info.version);
    EXPECT_EQ(string_at(agent, {"description", "identifying_attributes", "service.instance.id"}),
              string_at(agent, {"instance_uid"}));
    // The Collector runs with no config of ours: started and connected to the local server.
    EXPECT_TRUE(supervisor->wait_for_line("Collector started \\(pid", kDeadline))
        << supervisor->output();
    EXPECT_TRUE(supervisor->wait_for_line("local OpAMP server: Collector connected", kDeadline));
    supervisor->send_signal(SIGTERM);
    EXPECT_EQ(supervisor->wait_exit(kDeadline), 0) << supervisor->output();
    supervisor->wait_output_closed(10s);
    EXPECT_EQ(supervisor->count_lines("Collector bootstrap failed"), 0u) << supervisor->output();
  }
};

TEST_F(CollectorLifecycle, SupervisorBootstrapsCollector) {
  expect_bootstrap_learns_build_info(collector_executable(CollectorKind::kReal));
  // With the gate, the Collector runs without any pipeline and without a nop one.
  const std::string effective = read_file(dir_.path() / "storage" / "effective.yaml");
  EXPECT_EQ(effective.find("nop"), std::string::npos) << effective;
}

TEST_F(CollectorLifecycle, SupervisorBootstrapsCollectorWithoutTheAllowNoPipelinesGate) {
  expect_bootstrap_learns_build_info(without_allow_no_pipelines(dir_));
  // Without the gate, a nop pipeline lies under the empty config.
  const YAML::Node effective =
      YAML::LoadFile((dir_.path() / "storage" / "effective.yaml").string());
  EXPECT_TRUE(effective["service"]["pipelines"]["traces"]) << YAML::Dump(effective);
}

// The bootstrap runs its Collector with internal metrics off, so a taken default metrics port
// (localhost:8888) does not fail it (upstream I#50608).
TEST_F(CollectorLifecycle, SupervisorBootstrapsCollectorWithInternalTelemetryPortInUse) {
  const int taken = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(taken, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(8888);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // Either this test holds the port or another process does: in use both ways.
  if (::bind(taken, reinterpret_cast<sockaddr *>(&address), sizeof address) == 0) {
    ASSERT_EQ(::listen(taken, 1), 0);
  }
  expect_bootstrap_learns_build_info(collector_executable(CollectorKind::kReal));
  ::close(taken);
}

TEST_F(CollectorLifecycle, TheSecondStartUsesTheBootstrapCacheAndAChangedBinaryDoesNot) {
  const auto collector = dir_.path() / "otelcol-copy";
  std::filesystem::copy_file(collector_executable(CollectorKind::kReal), collector);
  auto run_once = [&](bool expect_cached) {
    auto supervisor = start_supervisor(run_with(collector, ""), dir_.path());
    ASSERT_TRUE(supervisor->wait_for_line("Collector started \\(pid", kDeadline))
        << supervisor->output();
    supervisor->send_signal(SIGTERM);
    EXPECT_EQ(supervisor->wait_exit(kDeadline), 0) << supervisor->output();
    supervisor->wait_output_closed(10s);
    EXPECT_EQ(supervisor->count_lines("taken from the bootstrap cache"), expect_cached ? 1u : 0u)
        << supervisor->output();
    EXPECT_EQ(supervisor->count_lines("Bootstrapping the Collector"), expect_cached ? 0u : 1u);
  };
  run_once(false);
  run_once(true);
  // The same bytes with a new modification time count as another binary.
  std::filesystem::last_write_time(collector, std::filesystem::last_write_time(collector) + 10s);
  run_once(false);
  run_once(true);
}

TEST_F(CollectorLifecycle, SupervisorStartsCollectorWithLocalConfigOnly) {
  const uint16_t otlp_port = free_tcp_port();
  auto supervisor = start_supervisor(
      run_with(collector_executable(CollectorKind::kReal), local_config(otlp_port)), dir_.path());
  const BuildInfo info = components_build_info(collector_executable(CollectorKind::kReal));
  wait_for_collector_description(info.command);
  ASSERT_TRUE(supervisor->wait_for_line("local OpAMP server: Collector connected", kDeadline))
      << supervisor->output();

  const auto agent_log = dir_.path() / "storage" / "agent.log";
  EXPECT_TRUE(eventually(
      [&] {
        return send_span(otlp_port, kSpanName) &&
               read_file(agent_log).find(kSpanName) != std::string::npos;
      },
      kDeadline))
      << read_file(agent_log);
  supervisor->send_signal(SIGTERM);
  EXPECT_EQ(supervisor->wait_exit(kDeadline), 0) << supervisor->output();
}

// agent.log (the Collector's output) and effective.yaml (what it runs) are private files in
// the storage directory.
TEST_F(CollectorLifecycle, SupervisorWritesAgentFilesToStorageDir) {
  auto supervisor = start_supervisor(
      run_with(collector_executable(CollectorKind::kReal), local_config(free_tcp_port())),
      dir_.path());
  const auto agent_log = dir_.path() / "storage" / "agent.log";
  ASSERT_TRUE(eventually(
      [&] { return read_file(agent_log).find("Everything is ready") != std::string::npos; },
      kDeadline))
      << supervisor->output();
  for (const char *name : {"agent.log", "effective.yaml"}) {
    struct stat info {};
    ASSERT_EQ(::stat((dir_.path() / "storage" / name).c_str(), &info), 0) << name;
    EXPECT_EQ(info.st_mode & 0777, 0600u) << name;
  }
  const YAML::Node effective =
      YAML::LoadFile((dir_.path() / "storage" / "effective.yaml").string());
  EXPECT_TRUE(effective["extensions"]["opamp"]) << YAML::Dump(effective);
  EXPECT_TRUE(effective["receivers"]["otlp"]) << YAML::Dump(effective);
  supervisor->send_signal(SIGTERM);
  EXPECT_EQ(supervisor->wait_exit(kDeadline), 0) << supervisor->output();
}

// A local config with components but no pipeline: the Collector runs it and is healthy.
TEST_F(CollectorLifecycle, SupervisorStartsCollectorWithNoPipelineConfig) {
  const auto config =
      dir_.write_file("no-pipeline.yaml",
                      "receivers:\n  nop: {}\nexporters:\n  nop: {}\nservice:\n  telemetry:\n"
                      "    metrics:\n      level: none\n");
  auto supervisor = start_supervisor(run_with(collector_executable(CollectorKind::kReal),
                                              "  config_files:\n    - " + config.string() + "\n"),
                                     dir_.path());
  EXPECT_TRUE(supervisor->wait_for_line("local OpAMP server: Collector connected", kDeadline))
      << supervisor->output();
  EXPECT_TRUE(eventually(
      [&] {
        return read_file(dir_.path() / "storage" / "agent.log").find("Everything is ready") !=
               std::string::npos;
      },
      kDeadline))
      << read_file(dir_.path() / "storage" / "agent.log");
  const YAML::Node effective =
      YAML::LoadFile((dir_.path() / "storage" / "effective.yaml").string());
  EXPECT_TRUE(effective["receivers"]["nop"]) << YAML::Dump(effective);
  supervisor->send_signal(SIGTERM);
  EXPECT_EQ(supervisor->wait_exit(kDeadline), 0) << supervisor->output();
}

// Local service::telemetry::resource in the declarative form (an `attributes` list) is kept,
// and the supervisor's service.instance.id joins that list instead of inline keys. The real
// Collector (v0.149.0) reads only the inline map, so the stand-in runs this config.
TEST_F(CollectorLifecycle, SupervisorStartsCollectorWithDeclarativeTelemetryResourceConfig) {
  const auto config =
      dir_.write_file("declarative.yaml",
                      "receivers:\n  nop: {}\nexporters:\n  nop: {}\nservice:\n  telemetry:\n"
                      "    resource:\n      attributes:\n"
                      "        - name: otelcol.service.mode\n          value: agent\n"
                      "  pipelines:\n    logs:\n      receivers: [nop]\n      exporters: [nop]\n");
  auto supervisor = start_supervisor(
      run_with({}, "  config_files:\n    - " + config.string() + "\n"), dir_.path());
  ASSERT_TRUE(supervisor->wait_for_line("Collector started \\(pid", kDeadline))
      << supervisor->output();
  const YAML::Node resource = YAML::LoadFile(
      (dir_.path() / "storage" / "effective.yaml").string())["service"]["telemetry"]["resource"];
  ASSERT_TRUE(resource.IsMap()) << YAML::Dump(resource);
  EXPECT_FALSE(resource["service.name"]) << YAML::Dump(resource);
  EXPECT_FALSE(resource["service.instance.id"]) << YAML::Dump(resource);
  std::map<std::string, std::string> attributes;
  for (const auto &entry : resource["attributes"])
    attributes[entry["name"].as<std::string>()] = entry["value"].as<std::string>();
  EXPECT_EQ(attributes["otelcol.service.mode"], "agent") << YAML::Dump(resource);
  EXPECT_EQ(attributes.count("service.instance.id"), 1u) << YAML::Dump(resource);
  supervisor->send_signal(SIGTERM);
  EXPECT_EQ(supervisor->wait_exit(kDeadline), 0) << supervisor->output();
}

TEST_F(CollectorLifecycle, SigtermStopsTheCollectorGracefullyThenSaysGoodbye) {
  auto supervisor = start_supervisor(
      run_with(collector_executable(CollectorKind::kReal), local_config(free_tcp_port())),
      dir_.path());
  const auto started = supervisor->wait_for_line("Collector started \\(pid", kDeadline);
  ASSERT_TRUE(started) << supervisor->output();
  const pid_t collector_pid = collector_pid_from(*started);
  ASSERT_GT(collector_pid, 0);
  const std::string uid = wait_for_connected_agent(server_, kDeadline);
  ASSERT_FALSE(uid.empty());
  // The Collector installs its SIGTERM handler only after "Everything is ready".
  ASSERT_TRUE(eventually(
      [&] {
        return read_file(dir_.path() / "storage" / "agent.log").find("Everything is ready") !=
               std::string::npos;
      },
      kDeadline));

  supervisor->send_signal(SIGTERM);
  EXPECT_EQ(supervisor->wait_exit(kDeadline), 0) << supervisor->output();
  EXPECT_FALSE(process_exists(collector_pid));
  const std::string log = read_file(dir_.path() / "storage" / "agent.log");
  EXPECT_NE(log.find("Shutdown complete"), std::string::npos) << log;
  EXPECT_EQ(server_.agent(uid).at_pointer("/connection/disconnect_seen"), boost::json::value(true));
  const boost::json::value messages = server_.get_json("/api/agents/" + uid + "/messages");
  const auto &list = at(messages, {"messages"}).as_array();
  ASSERT_FALSE(list.empty());
  EXPECT_EQ(at(list.back(), {"agent_disconnect"}), boost::json::value(true));
}

TEST_F(CollectorLifecycle, TheCollectorDiesWithAKilledSupervisor) {
  auto supervisor = start_supervisor(
      run_with(collector_executable(CollectorKind::kReal), local_config(free_tcp_port())),
      dir_.path());
  const auto started = supervisor->wait_for_line("Collector started \\(pid", kDeadline);
  ASSERT_TRUE(started) << supervisor->output();
  const pid_t collector_pid = collector_pid_from(*started);
  ASSERT_TRUE(process_exists(collector_pid));
  supervisor->send_signal(SIGKILL);
  supervisor->wait_exit(kDeadline);
  EXPECT_TRUE(eventually([&] { return !process_exists(collector_pid); }, 10s))
      << "the Collector (pid " << collector_pid << ") outlived its supervisor";
  if (process_exists(collector_pid))
    ::kill(collector_pid, SIGKILL);
}

TEST_F(CollectorLifecycle, SupervisorOpAmpServerPort) {
  const uint16_t port = free_tcp_port();
  auto supervisor =
      start_supervisor(run_with(collector_executable(CollectorKind::kReal),
                                "  opamp_server_port: " + std::to_string(port) + "\n"),
                       dir_.path());
  // The bootstrap's Collector connects to a server of its own first; the second connection
  // is the running Collector's, at the configured port.
  ASSERT_TRUE(eventually(
      [&] { return supervisor->count_lines("local OpAMP server: Collector connected") >= 2; },
      kDeadline))
      << supervisor->output();
  EXPECT_EQ(supervisor->count_lines("listening on ws://127\\.0\\.0\\.1:" + std::to_string(port) +
                                    "/v1/opamp"),
            1u)
      << supervisor->output();
  const YAML::Node effective =
      YAML::LoadFile((dir_.path() / "storage" / "effective.yaml").string());
  EXPECT_EQ(effective["extensions"]["opamp"]["server"]["ws"]["endpoint"].as<std::string>(),
            "ws://127.0.0.1:" + std::to_string(port) + "/v1/opamp");
  supervisor->send_signal(SIGTERM);
  EXPECT_EQ(supervisor->wait_exit(kDeadline), 0) << supervisor->output();
}

// Modules hear what happens to the Collector: its messages (routed by field) and the
// started, healthy and exited events; the exit at SIGTERM comes before the modules stop.
TEST_F(CollectorLifecycle, ModulesHearTheCollectorsEventsAndMessages) {
  std::filesystem::copy_file(OPSUP_EVENT_PROBE_MODULE, modules_.path() / "event_probe.so");
  auto supervisor = start_supervisor(
      run_with(collector_executable(CollectorKind::kReal), local_config(free_tcp_port())),
      dir_.path());
  const auto started = supervisor->wait_for_line("Collector started \\(pid", kDeadline);
  ASSERT_TRUE(started) << supervisor->output();
  const std::string pid = std::to_string(collector_pid_from(*started));
  EXPECT_TRUE(
      supervisor->wait_for_line("probe event kind=1 pid=" + pid + " .*generation=1", kDeadline))
      << supervisor->output();
  EXPECT_TRUE(
      supervisor->wait_for_line("probe event kind=3 pid=" + pid + " .*generation=1", kDeadline))
      << supervisor->output();
  EXPECT_TRUE(supervisor->wait_for_line("probe collector message bytes=[1-9]", kDeadline));
  supervisor->send_signal(SIGTERM);
  EXPECT_EQ(supervisor->wait_exit(kDeadline), 0) << supervisor->output();
  supervisor->wait_output_closed(10s);
  EXPECT_EQ(supervisor->count_lines("probe event kind=2 pid=" + pid), 1u) << supervisor->output();
}

// A server-assigned instance UID reaches the Collector (its opamp extension and resource get
// it: the config is recomposed and the Collector restarted on it), and is the one used after
// a supervisor restart.
TEST_F(CollectorLifecycle, SupervisorPersistsNewInstanceID) {
  OpampTestServer test_server;
  SupervisorRun run = run_with({}, "");
  run.endpoint = test_server.ws_url();
  auto supervisor = start_supervisor(run, dir_.path());
  const auto first = test_server.wait_for_message(
      [](const auto &message) { return message.has_agent_description(); }, kDeadline);
  ASSERT_TRUE(first) << supervisor->output();
  ASSERT_TRUE(supervisor->wait_for_line("on config generation 1", kDeadline));

  const std::string new_uid = "0190f6a8-9999-7abc-8def-0123456789ab";
  const auto new_bytes = common::parse_uuid(new_uid);
  ASSERT_TRUE(new_bytes);
  OpampTestServer::ServerToAgent assign;
  assign.set_instance_uid(first->instance_uid());
  assign.mutable_agent_identification()->set_new_instance_uid(
      std::string(new_bytes->begin(), new_bytes->end()));
  test_server.send(assign);

  ASSERT_TRUE(supervisor->wait_for_line("on config generation 2", kDeadline))
      << supervisor->output();
  const YAML::Node effective = YAML::LoadFile((run.storage / "effective.yaml").string());
  EXPECT_EQ(effective["extensions"]["opamp"]["instance_uid"].as<std::string>(), new_uid);
  EXPECT_EQ(effective["service"]["telemetry"]["resource"]["service.instance.id"].as<std::string>(),
            new_uid);
  EXPECT_TRUE(test_server.wait_for_message(
      [&](const auto &message) {
        return message.instance_uid() == std::string(new_bytes->begin(), new_bytes->end());
      },
      kDeadline));
  supervisor->send_signal(SIGTERM);
  EXPECT_EQ(supervisor->wait_exit(kDeadline), 0) << supervisor->output();

  OpampTestServer next_server;
  run.endpoint = next_server.ws_url();
  auto restarted = start_supervisor(run, dir_.path());
  const auto after_restart = next_server.wait_for_message(
      [](const auto &message) { return message.has_agent_description(); }, kDeadline);
  ASSERT_TRUE(after_restart) << restarted->output();
  EXPECT_EQ(after_restart->instance_uid(), std::string(new_bytes->begin(), new_bytes->end()));
  restarted->send_signal(SIGTERM);
  EXPECT_EQ(restarted->wait_exit(kDeadline), 0) << restarted->output();
}

// telemetry.logs as upstream: the level filters, the JSON lines go to the output path, and
// with passthrough_logs the Collector's lines are there under the logger "collector".
TEST_F(CollectorLifecycle, SupervisorLogging) {
  const auto log_file = dir_.path() / "supervisor.log";
  SupervisorRun run =
      run_with(collector_executable(CollectorKind::kReal),
               "  config_files:\n    - " +
                   dir_.write_file("broken.yaml", "receivers:\n  nosuchreceiver: {}\n").string() +
                   "\n  passthrough_logs: true\n");
  run.telemetry_yaml =
      "telemetry:\n  logs:\n    level: warn\n    output_paths: [" + log_file.string() + "]\n";
  auto supervisor = start_supervisor(run, dir_.path());
  // The Collector refuses the config; its final "Error: ..." line is an error.
  ASSERT_TRUE(eventually(
      [&] { return read_file(log_file).find("nosuchreceiver") != std::string::npos; }, kDeadline))
      << read_file(log_file) << supervisor->output();
  supervisor->send_signal(SIGTERM);
  EXPECT_EQ(supervisor->wait_exit(kDeadline), 0) << supervisor->output();

  bool collector_error_seen = false;
  std::istringstream lines(read_file(log_file));
  for (std::string line; std::getline(lines, line);) {
    const YAML::Node record = YAML::Load(line);  // JSON is YAML
    const std::string level = record["level"].as<std::string>();
    EXPECT_TRUE(level == "warn" || level == "error") << line;
    if (record["logger"].as<std::string>("") == "collector" && level == "error" &&
        line.find("nosuchreceiver") != std::string::npos)
      collector_error_seen = true;
  }
  EXPECT_TRUE(collector_error_seen) << read_file(log_file);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "storage" / "agent.log"));
}

// passthrough_logs: the Collector's lines go into the supervisor's log at their own level,
// and agent.log is not written.
TEST_F(CollectorLifecycle, PassthroughLogsKeepTheCollectorsLevels) {
  auto supervisor =
      start_supervisor(run_with(collector_executable(CollectorKind::kReal),
                                local_config(free_tcp_port()) + "  passthrough_logs: true\n"),
                       dir_.path());
  EXPECT_TRUE(supervisor->wait_for_line("\tinfo\tcollector\t.*Everything is ready", kDeadline))
      << supervisor->output();
  supervisor->send_signal(SIGTERM);
  EXPECT_EQ(supervisor->wait_exit(kDeadline), 0) << supervisor->output();
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "storage" / "agent.log"));

  // A config the Collector refuses: its final "Error: ..." line is logged as an error.
  TempDir other_storage;
  SupervisorRun broken =
      run_with(collector_executable(CollectorKind::kReal),
               "  config_files:\n    - " +
                   dir_.write_file("broken.yaml", "receivers:\n  nosuchreceiver: {}\n").string() +
                   "\n  passthrough_logs: true\n");
  broken.storage = other_storage.path();
  auto failing = start_supervisor(broken, dir_.path());
  EXPECT_TRUE(failing->wait_for_line("\terror\tcollector\t.*nosuchreceiver", kDeadline))
      << failing->output();
  failing->send_signal(SIGTERM);
  EXPECT_EQ(failing->wait_exit(kDeadline), 0) << failing->output();
}

// The real extension (v0.149.0) refuses server.ws.unix_socket (added upstream in v0.159.0),
// so the Unix-socket link is shown with the stand-in, which speaks the newer extension's key.
TEST_F(CollectorLifecycle, SupervisorStartsCollectorOverUnixSocket) {
  const auto socket = dir_.path() / "run" / "opamp.sock";
  auto supervisor =
      start_supervisor(run_with({}, "  opamp_server_socket:\n    endpoint: " + socket.string() +
                                        "\n    transport: unix\n"),
                       dir_.path());
  ASSERT_TRUE(
      supervisor->wait_for_line("local OpAMP server: Collector connected from unix:", kDeadline))
      << supervisor->output();
  struct stat info {};
  ASSERT_EQ(::lstat(socket.c_str(), &info), 0);
  EXPECT_TRUE(S_ISSOCK(info.st_mode));
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  supervisor->send_signal(SIGTERM);
  EXPECT_EQ(supervisor->wait_exit(kDeadline), 0) << supervisor->output();
}

// An unreadable or invalid local config file stops start-up, naming the file and the line.
TEST_F(CollectorLifecycle, AnInvalidLocalConfigFileStopsStartUpWithItsPathAndLine) {
  const auto broken = dir_.write_file("broken.yaml", "receivers:\n  otlp: [unclosed\n");
  auto supervisor = start_supervisor(
      run_with({}, "  config_files:\n    - " + broken.string() + "\n"), dir_.path());
  EXPECT_EQ(supervisor->wait_exit(kDeadline), 1) << supervisor->output();
  supervisor->wait_output_closed(10s);
  EXPECT_EQ(supervisor->count_lines("Cannot run the Collector: .*" + broken.string() + ".*line"),
            1u)
      << supervisor->output();

  const auto missing = dir_.path() / "missing.yaml";
  auto second = start_supervisor(run_with({}, "  config_files:\n    - " + missing.string() + "\n"),
                                 dir_.path());
  EXPECT_EQ(second->wait_exit(kDeadline), 1) << second->output();
  second->wait_output_closed(10s);
  EXPECT_EQ(second->count_lines("Cannot run the Collector: .*" + missing.string()), 1u)
      << second->output();
  EXPECT_EQ(second->count_lines("Collector started"), 0u);
}

// A failed bootstrap is named in the log; the supervisor carries on: it reports with its own
// description and keeps trying to run the Collector.
TEST_F(CollectorLifecycle, AFailedBootstrapIsNamedAndTheSupervisorCarriesOn) {
  const auto collector = dir_.write_file("exits", "#!/bin/sh\necho 'no luck today' >&2\nexit 3\n");
  std::filesystem::permissions(collector, std::filesystem::perms::owner_all);
  auto supervisor = start_supervisor(run_with(collector, ""), dir_.path());
  EXPECT_TRUE(supervisor->wait_for_line(
      "Collector bootstrap failed: the Collector exited during the bootstrap \\(exit code 3\\)",
      kDeadline))
      << supervisor->output();
  EXPECT_FALSE(wait_for_connected_agent(server_, kDeadline).empty()) << supervisor->output();
  EXPECT_TRUE(supervisor->wait_for_line("exited unexpectedly: exit code 3", kDeadline))
      << supervisor->output();
  supervisor->send_signal(SIGTERM);
  EXPECT_EQ(supervisor->wait_exit(kDeadline), 0) << supervisor->output();
}

}  // namespace
}  // namespace opsup::testing
