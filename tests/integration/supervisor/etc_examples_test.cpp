// Every supervisor config in etc/ as a user would run it, unchanged: `opampsupervisor
// validate` accepts it with the built modules and the real Collector (tools/otelcol) named
// through its ${env:...} values, and the ones that point at a local server run against
// tools/opamp-server (the wss ones in its --tls-self-signed mode) until the server lists the
// agent with the Collector's own description. The examples equivalent to upstream's
// cmd/opampsupervisor/examples are supervisor-linux (also for _darwin and _windows),
// supervisor-docker, supervisor-fallback and supervisor-http (upstream's supervisor.yaml).
//
// An example that needs a capability module this build does not have yet (one still being
// written) is skipped with the module named, never passed silently.
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <csignal>
#include <regex>
#include <set>

#include "supervisor_fixture.hpp"
#include "support/collector.hpp"
#include "support/ports.hpp"

namespace opsup::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr auto kDeadline = 60s;

// The server an example runs against. kNone: validated only, because it names a server on
// the internet or keeps its state in the system's default storage directory
// (/var/lib/otelcol/supervisor), which a test must not touch.
enum class Server { kNone, kPlain, kTlsSkipVerify, kTlsWithCaFile };

struct Example {
  std::string file;
  Server server;
};

std::ostream &operator<<(std::ostream &out, const Example &example) {
  return out << example.file;
}

class EtcExample : public ::testing::TestWithParam<Example> {
 protected:
  fs::path path() const { return fs::path(OPSUP_ETC_DIR) / GetParam().file; }

  // What the ${env:...} values of the examples are given here.
  std::vector<std::pair<std::string, std::string>> env(const std::string &endpoint,
                                                       const std::string &ca_file) const {
    std::vector<std::pair<std::string, std::string>> values = {
        {"OTELCOL_BIN", collector_executable(CollectorKind::kReal).string()},
        {"OPSUP_STORAGE", (dir_.path() / "storage").string()},
        {"OPSUP_FALLBACK_CONFIG", (fs::path(OPSUP_ETC_DIR) / "collector-fallback.yaml").string()},
        {"OTELCOL_CONFIG", collector_config_.string()}};
    if (!endpoint.empty())
      values.emplace_back("OPAMP_ENDPOINT", endpoint);
    if (!ca_file.empty())
      values.emplace_back("OPAMP_CA_FILE", ca_file);
    return values;
  }

  // A Collector config with no fixed port, for the examples that name one.
  void SetUp() override {
    collector_config_ = dir_.write_file(
        "collector.yaml",
        "receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpoint: "
        "127.0.0.1:" +
            std::to_string(free_tcp_port()) +
            "\nexporters:\n  nop: {}\nservice:\n  telemetry:\n    metrics:\n"
            "      level: none\n  pipelines:\n    traces:\n      receivers: [otlp]\n"
            "      exporters: [nop]\n");
  }

  // Runs `validate`. Returns "" when it accepts the example (a failure is recorded when it
  // refuses it for any other reason than missing modules), else the names of the capability
  // modules it needs that this build does not have.
  std::string missing_modules() {
    ProcessOptions options;
    options.executable = binary("opampsupervisor");
    options.args = {"validate", "--config", path().string(), "--modules-dir", OPSUP_MODULES_DIR};
    options.extra_env = env("wss://127.0.0.1:4320/v1/opamp", "");
    ChildProcess validate(options);
    const auto code = validate.wait_exit(kDeadline);
    validate.wait_output_closed(10s);
    if (code == 0) {
      EXPECT_TRUE(validate.wait_for_line("is valid", 1s)) << validate.output();
      return {};
    }
    std::set<std::string> missing;
    bool other_error = false;
    const std::regex not_installed(
        R"re(needs module "([A-Za-z0-9_.-]+)" .*which is not installed)re");
    for (const std::string &line : validate.lines()) {
      if (line.rfind("error:", 0) != 0)
        continue;
      std::smatch match;
      if (std::regex_search(line, match, not_installed))
        missing.insert(match[1].str());
      else
        other_error = true;
    }
    if (other_error || missing.empty()) {
      ADD_FAILURE() << "validate exited " << code.value_or(-1) << ":\n" << validate.output();
      return {};
    }
    std::string names;
    for (const std::string &name : missing)
      names += (names.empty() ? "" : ", ") + name;
    return names;
  }

  TempDir dir_;
  fs::path collector_config_;
};

TEST_P(EtcExample, ValidatesAndRunsUnchangedAgainstTheReferenceServer) {
  const std::string missing = missing_modules();
  // Every module an example needs is built with the supervisor: a missing one is a broken
  // build, not a reason to skip.
  ASSERT_TRUE(missing.empty()) << GetParam().file << " needs modules this build lacks: " << missing;
  if (HasFailure())
    return;
  const Example &example = GetParam();
  if (example.server == Server::kNone)
    return;  // see kNone

  const fs::path ca_file = dir_.path() / "opamp-ca.pem";
  std::vector<std::string> server_args;
  if (example.server != Server::kPlain)
    server_args = {"--tls-self-signed", "--tls-ca-out", ca_file.string()};
  OpampServerProcess server(server_args);
  const bool plain_http = example.file == "supervisor-http.yaml";
  const std::string endpoint = plain_http ? server.http_url() : server.websocket_url();
  if (example.server != Server::kPlain) {
    ASSERT_EQ(endpoint.rfind("wss://", 0), 0u) << endpoint;
  }

  ProcessOptions options;
  options.executable = binary("opampsupervisor");
  options.args = {"--config", path().string(), "--modules-dir", OPSUP_MODULES_DIR};
  options.extra_env =
      env(endpoint, example.server == Server::kTlsWithCaFile ? ca_file.string() : std::string());
  options.working_directory = dir_.path();  // for a storage directory of "."
  ChildProcess supervisor(options);

  std::string uid;
  boost::json::value agent;
  eventually(
      [&] {
        uid = wait_for_connected_agent(server, 1s);
        if (uid.empty())
          return false;
        agent = server.agent(uid);
        return string_at(agent, {"description", "identifying_attributes", "service.name"}) ==
               "otelcol-opsup";
      },
      kDeadline);
  ASSERT_FALSE(uid.empty()) << supervisor.output();
  EXPECT_EQ(string_at(agent, {"description", "identifying_attributes", "service.name"}),
            "otelcol-opsup")
      << boost::json::serialize(agent) << "\n"
      << supervisor.output();
  EXPECT_TRUE(supervisor.wait_for_line("Collector started \\(pid", kDeadline))
      << supervisor.output();
  supervisor.send_signal(SIGTERM);
  EXPECT_EQ(supervisor.wait_exit(kDeadline), 0) << supervisor.output();
}

INSTANTIATE_TEST_SUITE_P(
    Etc, EtcExample,
    ::testing::Values(Example{"supervisor.yaml", Server::kNone},
                      Example{"supervisor-tls.yaml", Server::kNone},
                      Example{"supervisor-minimal.yaml", Server::kNone},
                      Example{"supervisor-http.yaml", Server::kPlain},
                      Example{"supervisor-linux.yaml", Server::kTlsSkipVerify},
                      Example{"supervisor-docker.yaml", Server::kTlsSkipVerify},
                      Example{"supervisor-fallback.yaml", Server::kTlsWithCaFile}),
    [](const ::testing::TestParamInfo<Example> &info) {
      std::string name = info.param.file.substr(0, info.param.file.find('.'));
      std::erase(name, '-');
      return name;
    });

}  // namespace
}  // namespace opsup::testing
