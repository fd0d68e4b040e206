// opampsupervisor as a real process, against a real opamp-server, on loopback. Assertions
// are on what the server saw (its JSON API) and on the process's exit.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <sstream>

#include <boost/json/serialize.hpp>

#include "opsup/module.h"
#include "supervisor_fixture.hpp"
#include "support/collector.hpp"

namespace opsup::testing {
namespace {

using namespace std::chrono_literals;
constexpr auto kDeadline = 30s;

std::filesystem::path example_modules_dir() {
  return build_dir() / "lib" / "opampsupervisor" / "examples";
}

std::string read_file(const std::filesystem::path &path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class SupervisorProcess : public ::testing::Test {
 protected:
  TempDir dir_;
  TempDir empty_modules_;
  OpampServerProcess server_;

  SupervisorRun run_with(const std::string &endpoint) {
    return {.endpoint = endpoint,
            .storage = dir_.path() / "storage",
            .modules_dir = empty_modules_.path()};
  }
  // The upstream scenarios run the real Collector (tools/otelcol).
  SupervisorRun real_collector_run_with(const std::string &endpoint) {
    SupervisorRun run = run_with(endpoint);
    run.collector = collector_executable(CollectorKind::kReal);
    return run;
  }
};

TEST_F(SupervisorProcess, ConnectsOverWebSocketAndSendsAgentDisconnectOnSigterm) {
  auto supervisor = start_supervisor(run_with(server_.websocket_url()), dir_.path());
  const std::string uid = wait_for_connected_agent(server_, kDeadline);
  ASSERT_FALSE(uid.empty()) << "the server never saw the supervisor connect";

  boost::json::value agent = server_.agent(uid);
  // Without modules only the core's bits are advertised (the Go supervisor's "nocap").
  EXPECT_EQ(at(agent, {"capabilities", "value"}).to_number<uint64_t>(), 0x2001u);
  EXPECT_EQ(string_at(agent, {"connection", "transport"}), "ws");
  // The session connects once the Collector (here the stand-in) has described itself.
  EXPECT_EQ(string_at(agent, {"description", "identifying_attributes", "service.name"}),
            "fake-otelcol");
  EXPECT_EQ(string_at(agent, {"description", "non_identifying_attributes", "os.type"}), "linux");
  EXPECT_FALSE(
      string_at(agent, {"description", "non_identifying_attributes", "host.name"}).empty());

  supervisor->send_signal(SIGTERM);
  EXPECT_EQ(supervisor->wait_exit(kDeadline), 0);
  agent = server_.agent(uid);
  EXPECT_EQ(at(agent, {"connection", "disconnect_seen"}), boost::json::value(true));
  boost::json::value messages = server_.get_json("/api/agents/" + uid + "/messages");
  const auto &list = at(messages, {"messages"}).as_array();
  ASSERT_FALSE(list.empty());
  EXPECT_EQ(at(list.back(), {"agent_disconnect"}), boost::json::value(true));
}

TEST_F(SupervisorProcess, SecretsNeverReachItsLogs) {
  // Every place a credential can sit: endpoint userinfo, a header, an auth extension.
  std::string endpoint = server_.websocket_url();
  endpoint.insert(endpoint.find("://") + 3, "agent:pw-s3cret@");
  SupervisorRun run = run_with(endpoint);
  run.server_yaml = "  headers:\n    X-Api-Key: hdr-s3cret\n  auth: bearertokenauth/main\n";
  run.extra_yaml = "extensions:\n  bearertokenauth/main:\n    token: tok-s3cret\n";
  run.extra_args = {"--feature-gates", "opampsupervisor.Extensions"};
  auto supervisor = start_supervisor(run, dir_.path());
  const std::string uid = wait_for_connected_agent(server_, kDeadline);
  ASSERT_FALSE(uid.empty());
  supervisor->send_signal(SIGTERM);
  EXPECT_EQ(supervisor->wait_exit(kDeadline), 0);
  ASSERT_TRUE(supervisor->wait_output_closed(kDeadline));
  const std::string output = supervisor->output();
  EXPECT_EQ(output.find("s3cret"), std::string::npos) << output;
  EXPECT_NE(output.find("ws://[REDACTED]@127.0.0.1:"), std::string::npos)
      << "the endpoint is logged, redacted: " << output;
}

TEST_F(SupervisorProcess, SupervisorOpAMPWithHTTPEndpoint) {
  auto supervisor = start_supervisor(real_collector_run_with(server_.http_url()), dir_.path());
  const std::string uid = wait_for_connected_agent(server_, kDeadline);
  ASSERT_FALSE(uid.empty());
  EXPECT_EQ(string_at(server_.agent(uid), {"connection", "transport"}), "http");
  supervisor->send_signal(SIGINT);
  EXPECT_EQ(supervisor->wait_exit(kDeadline), 0);
  EXPECT_EQ(at(server_.agent(uid), {"connection", "disconnect_seen"}), boost::json::value(true));
}

TEST_F(SupervisorProcess, SupervisorPersistsInstanceID) {
  const SupervisorRun run = real_collector_run_with(server_.websocket_url());
  auto first = start_supervisor(run, dir_.path());
  const std::string uid = wait_for_connected_agent(server_, kDeadline);
  ASSERT_FALSE(uid.empty());
  first->send_signal(SIGTERM);
  ASSERT_EQ(first->wait_exit(kDeadline), 0);
  // The Go supervisor's file and key.
  EXPECT_NE(read_file(run.storage / "persistent_state.yaml").find("instance_id: " + uid),
            std::string::npos);

  auto second = start_supervisor(run, dir_.path());
  ASSERT_TRUE(eventually(
      [&] {
        return at(server_.agent(uid), {"connection", "connected"}) == boost::json::value(true);
      },
      kDeadline));
  EXPECT_EQ(at(server_.get_json("/api/agents"), {"count"}).to_number<int>(), 1);
}

TEST_F(SupervisorProcess, ExampleModulesAnswerCustomMessagesThroughTheServer) {
  SupervisorRun run = run_with(server_.websocket_url());
  run.modules_dir = example_modules_dir();
  auto supervisor = start_supervisor(run, dir_.path());
  const std::string uid = wait_for_connected_agent(server_, kDeadline);
  ASSERT_FALSE(uid.empty());
  ASSERT_TRUE(eventually(
      [&] {
        const std::string capabilities =
            boost::json::serialize(at(server_.agent(uid), {"custom_capabilities"}));
        return capabilities.find("io.opsup.example.hello") != std::string::npos;
      },
      kDeadline))
      << "the C example's custom capability never reached the server";

  auto answer = server_.post_json("/api/agents/" + uid + "/custom-message",
                                  R"({"capability":"io.opsup.example.hello","type":"ping",)"
                                  R"("data":"are you there"})");
  ASSERT_EQ(answer.status, 200);
  EXPECT_TRUE(eventually(
      [&] {
        boost::json::value agent = server_.agent(uid);
        const auto &received = at(agent, {"custom_messages"});
        if (!received.is_array())
          return false;
        for (const auto &message : received.as_array()) {
          if (string_at(message, {"type"}) == "pong" &&
              string_at(message, {"data"}) == "are you there") {
            return true;
          }
        }
        return false;
      },
      kDeadline))
      << "no pong from the C example module";
  supervisor->send_signal(SIGTERM);
  EXPECT_EQ(supervisor->wait_exit(kDeadline), 0);
}

TEST(SupervisorCommands, ValidateReportsAMissingModuleForAWrittenCapability) {
  TempDir dir;
  TempDir modules;
  const auto config = dir.path() / "supervisor.yaml";
  std::ofstream(config) << "server:\n  endpoint: ws://127.0.0.1:4320/v1/opamp\n"
                           "capabilities:\n  accepts_remote_config: true\n"
                           "agent:\n  executable: /bin/true\n"
                           "storage:\n  directory: "
                        << (dir.path() / "s").string() << "\n";
  CommandResult result = run_supervisor_command(
      {"validate", "--config", config.string(), "--modules-dir", modules.path().string()});
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("accepts_remote_config"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("remote_config"), std::string::npos) << result.output;

  // Running refuses the same config, before connecting anywhere.
  result = run_supervisor_command(
      {"--config", config.string(), "--modules-dir", modules.path().string()});
  EXPECT_EQ(result.exit_code, 1) << result.output;
}

TEST(SupervisorCommands, ValidateNamesFileAndLineOfABadKey) {
  TempDir dir;
  const auto config = dir.path() / "supervisor.yaml";
  std::ofstream(config) << "server:\n  endpoint: ws://127.0.0.1:4320/v1/opamp\n"
                           "agent:\n  executable: /bin/true\n"
                           "  config_apply_timeout: 0s\n";
  CommandResult result = run_supervisor_command({"validate", "--config", config.string()});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find("supervisor.yaml:5"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("agent.config_apply_timeout"), std::string::npos) << result.output;
}

TEST(SupervisorCommands, ValidateAcceptsAGoodConfigAndSaysWhatItWouldAdvertise) {
  TempDir dir;
  const auto config = dir.path() / "supervisor.yaml";
  std::ofstream(config) << "server:\n  endpoint: ws://127.0.0.1:4320/v1/opamp\n"
                           "agent:\n  executable: /bin/true\n"
                           "storage:\n  directory: "
                        << (dir.path() / "s").string() << "\n";
  CommandResult result = run_supervisor_command(
      {"validate", "--config", config.string(), "--modules-dir", example_modules_dir().string()});
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("would advertise: ReportsStatus|ReportsHeartbeat"),
            std::string::npos)
      << result.output;
  // The examples' custom capabilities, in file-name order (echo_cpp.so, hello_c.so).
  EXPECT_NE(result.output.find("; custom capabilities: io.opsup.example.echo,"
                               "io.opsup.example.hello\n"),
            std::string::npos)
      << result.output;
}

TEST(SupervisorCommands, ModulesListsEachModuleWithWhatItOwns) {
  CommandResult result =
      run_supervisor_command({"modules", "--modules-dir", example_modules_dir().string()});
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("io.opsup.example.hello"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("loaded"), std::string::npos) << result.output;

  TempDir dir;
  std::ofstream(dir.path() / "notes.so") << "not a library";
  result = run_supervisor_command({"modules", "--modules-dir", dir.path().string()});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_NE(result.output.find("refused"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("notes.so"), std::string::npos) << result.output;
}

TEST(SupervisorCommands, VersionAndHelp) {
  CommandResult result = run_supervisor_command({"--version"});
  EXPECT_EQ(result.exit_code, 0);
  // Version from CMake's project(), commit from configure time, ABI from the SDK header.
  const std::string expected =
      "opampsupervisor " OPSUP_EXPECTED_VERSION " (commit " OPSUP_EXPECTED_COMMIT ", module ABI " +
      std::to_string(OPSUP_ABI_MAJOR) + "." + std::to_string(OPSUP_HEADER_ABI_MINOR) + ")";
  EXPECT_EQ(result.output.substr(0, result.output.find_last_not_of('\n') + 1), expected);
  result = run_supervisor_command({"--help"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_NE(result.output.find("--modules-dir"), std::string::npos);
  result = run_supervisor_command({"--no-such-flag"});
  EXPECT_EQ(result.exit_code, 2);
}

}  // namespace
}  // namespace opsup::testing
