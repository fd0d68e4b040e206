// agent.run_as end to end (issue 13). As root, the test creates an unprivileged system user
// (removed at the end, even on failure) and runs the supervisor with the real Collector as
// that user: the Collector's /proc status shows the user's ids, its opamp extension connects,
// its data flows, `validate` runs as that user too, only the files it needs are open to it
// (the certificate files of offered other connections included), and it dies with the
// supervisor. Run as that user instead, the supervisor cannot
// switch users and refuses to start, naming the key. Both tests need root (CI runs as root)
// and fail without it, unless OPSUP_ALLOW_NO_ROOT=1 makes them skip.
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "e2e_support.hpp"
#include "otlp_http_sink.hpp"
#include "run_as_test_support.hpp"
#include "supervisor_fixture.hpp"
#include "support/collector.hpp"
#include "support/ports.hpp"
#include "test_certs.hpp"

namespace opsup::testing {
namespace {

using namespace std::chrono_literals;
constexpr auto kDeadline = 60s;

std::filesystem::path find_tool(const std::string &name) {
  for (const char *dir : {"/usr/sbin", "/sbin", "/usr/bin", "/bin"}) {
    const std::filesystem::path path = std::filesystem::path(dir) / name;
    if (::access(path.c_str(), X_OK) == 0)
      return path;
  }
  throw std::runtime_error(name + " is not installed (it is in passwd/util-linux)");
}

// Runs a tool to completion; its exit code and output.
std::pair<int, std::string> run_tool(const std::string &name,
                                     const std::vector<std::string> &args) {
  ChildProcess process({find_tool(name), args, {}, {}});
  const int code = process.wait_exit(kDeadline).value_or(-1);
  process.wait_output_closed(10s);
  return {code, process.output()};
}

// A system user and its group, made for one test and deleted with the object.
class TestUser {
 public:
  TestUser() {
    std::random_device random;
    std::ostringstream suffix;
    suffix << std::hex << random() << random();
    name_ = "opsup-test-" + suffix.str().substr(0, 10);
    const auto [code, output] = run_tool(
        "useradd", {"--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name_});
    if (code != 0)
      throw std::runtime_error("useradd " + name_ + " failed (" + std::to_string(code) +
                               "): " + output);
    const passwd *entry = ::getpwnam(name_.c_str());
    if (entry == nullptr)
      throw std::runtime_error("useradd made no passwd entry for " + name_);
    uid_ = entry->pw_uid;
    gid_ = entry->pw_gid;
  }
  ~TestUser() {
    // userdel refuses (exit code 8) while a process still runs as the user, e.g. a
    // Collector that has been sent SIGKILL and is not gone yet.
    std::pair<int, std::string> result;
    for (int attempt = 0; attempt < 100; ++attempt) {
      result = run_tool("userdel", {name_});
      if (result.first != 8)
        break;
      std::this_thread::sleep_for(100ms);
    }
    EXPECT_EQ(result.first, 0) << "userdel " << name_ << ": " << result.second;
  }
  TestUser(const TestUser &) = delete;
  TestUser &operator=(const TestUser &) = delete;

  const std::string &name() const { return name_; }
  uid_t uid() const { return uid_; }
  gid_t gid() const { return gid_; }

 private:
  std::string name_;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
};

// The fields of /proc/<pid>/status line `key` ("Uid", "Gid", "Groups", "CapEff").
std::vector<std::string> status_fields(pid_t pid, const std::string &key) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(key + ":", 0) != 0)
      continue;
    std::istringstream fields(line.substr(key.size() + 1));
    std::vector<std::string> values;
    for (std::string value; fields >> value;)
      values.push_back(value);
    return values;
  }
  return {};
}

void expect_runs_as(pid_t pid, const TestUser &user) {
  const std::string uid = std::to_string(user.uid());
  const std::string gid = std::to_string(user.gid());
  // Real, effective, saved and filesystem ids.
  EXPECT_EQ(status_fields(pid, "Uid"), (std::vector<std::string>{uid, uid, uid, uid}));
  EXPECT_EQ(status_fields(pid, "Gid"), (std::vector<std::string>{gid, gid, gid, gid}));
  EXPECT_EQ(status_fields(pid, "Groups"), std::vector<std::string>{gid});
  EXPECT_EQ(status_fields(pid, "CapEff"), std::vector<std::string>{"0000000000000000"});
  EXPECT_EQ(status_fields(pid, "CapPrm"), std::vector<std::string>{"0000000000000000"});
}

struct FileState {
  mode_t mode = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

FileState file_state(const std::filesystem::path &path) {
  struct stat info {};
  EXPECT_EQ(::stat(path.c_str(), &info), 0) << path;
  return {static_cast<mode_t>(info.st_mode & 07777), info.st_uid, info.st_gid};
}

void expect_file(const std::filesystem::path &path, mode_t mode, gid_t gid) {
  const FileState state = file_state(path);
  EXPECT_EQ(state.mode, mode) << path << " has mode " << std::oct << state.mode;
  EXPECT_EQ(state.uid, 0u) << path;
  EXPECT_EQ(state.gid, gid) << path;
}

class RunAsE2e : public ::testing::Test {
 protected:
  TempDir dir_;
  TempDir modules_;
  OpampServerProcess server_;
  // Made after REQUIRE_ROOT; deleted after the supervisor (and so its Collector) is gone.
  std::optional<TestUser> user_;
  std::unique_ptr<ChildProcess> supervisor_;
  std::string uid_;

  std::filesystem::path storage() const { return dir_.path() / "storage"; }

  std::string push(const std::string &yaml) { return push_remote_config(server_, uid_, yaml); }

  // The error message once the server has `status` for `hash`.
  std::string wait_status(const std::string &status, const std::string &hash) {
    const auto agent = wait_for_remote_config_status(server_, uid_, status, hash, kDeadline);
    EXPECT_TRUE(agent) << "no " << status << " for " << hash << "\n" << supervisor_->output();
    return agent ? string_at(*agent, {"remote_config_status", "error_message"}) : std::string();
  }

  // The pid of the `nth` (1-based) Collector the supervisor started.
  pid_t nth_collector_pid(std::size_t nth) {
    pid_t pid = 0;
    eventually(
        [&] {
          std::size_t seen = 0;
          for (const auto &line : supervisor_->lines()) {
            if (collector_pid_from(line) > 0 && ++seen == nth) {
              pid = collector_pid_from(line);
              return true;
            }
          }
          return false;
        },
        kDeadline);
    return pid;
  }
};

TEST_F(RunAsE2e, TheRealCollectorRunsAsTheRunAsUser) {
  OPSUP_REQUIRE_ROOT();
  const TestUser &user = user_.emplace();
  // The Collector's user must reach the storage directory inside the test's directory.
  std::filesystem::permissions(dir_.path(), std::filesystem::perms(0711));
  for (const char *module : {"remote_config.so", "health.so"}) {
    std::filesystem::copy_file(std::filesystem::path(OPSUP_MODULES_DIR) / module,
                               modules_.path() / module);
  }
  supervisor_ = start_supervisor(
      {.endpoint = server_.websocket_url(),
       .storage = storage(),
       .modules_dir = modules_.path(),
       .extra_yaml = "capabilities:\n  accepts_remote_config: true\n",
       .collector = collector_executable(CollectorKind::kReal),
       // Internal metrics off: the default port 8888 may be taken by another test's Collector,
       // which would end the first Collector this test looks at.
       .agent_yaml = "  validate_config: true\n  run_as:\n    user: " + user.name() +
                     "\n  config_files:\n    - " +
                     dir_.write_file("quiet.yaml",
                                     "service:\n  telemetry:\n    metrics:\n      level: none\n")
                         .string() +
                     "\n"},
      dir_.path());
  ASSERT_TRUE(
      supervisor_->wait_for_line("Every Collector process runs as user " + user.name(), kDeadline))
      << supervisor_->output();

  // The bootstrap ran as the user (it read bootstrap.yaml and reported), then the Collector.
  const pid_t first = nth_collector_pid(1);
  ASSERT_GT(first, 0) << supervisor_->output();
  expect_runs_as(first, user);
  ASSERT_TRUE(supervisor_->wait_for_line("local OpAMP server: Collector connected", kDeadline))
      << supervisor_->output();
  uid_ = wait_for_connected_agent(server_, kDeadline);
  ASSERT_FALSE(uid_.empty()) << supervisor_->output();
  EXPECT_EQ(supervisor_->count_lines("Collector bootstrap failed"), 0u) << supervisor_->output();

  // A remote config goes through `validate` (as the user: it reads validate-config-N.yaml)
  // and runs; its data comes out.
  const uint16_t port = free_tcp_port();
  wait_status("APPLIED", push(pipeline_yaml(port)));
  const pid_t second = nth_collector_pid(2);
  ASSERT_GT(second, 0) << supervisor_->output();
  expect_runs_as(second, user);
  EXPECT_TRUE(eventually(
      [&] {
        return send_span(port, "opsup-run-as-span") &&
               read_file(storage() / "agent.log").find("opsup-run-as-span") != std::string::npos;
      },
      kDeadline))
      << read_file(storage() / "agent.log");
  // `validate` really reads the candidate: an unknown component is its error.
  const std::string message = wait_status(
      "FAILED", push("receivers:\n  opsupnosuchreceiver: {}\nexporters:\n  debug: {}\n"
                     "service:\n  pipelines:\n    traces:\n      receivers: [opsupnosuchreceiver]\n"
                     "      exporters: [debug]\n"));
  EXPECT_NE(message.find("opsupnosuchreceiver"), std::string::npos) << message;
  EXPECT_EQ(message.find("permission denied"), std::string::npos) << message;

  // Only what the Collector needs is open to its group; the rest stays the supervisor's.
  expect_file(storage(), 0710, user.gid());
  expect_file(storage() / "effective.yaml", 0640, user.gid());
  expect_file(storage() / "bootstrap.yaml", 0640, user.gid());
  expect_file(storage() / "persistent_state.yaml", 0600, 0);
  expect_file(storage() / "agent.log", 0600, 0);
  for (const auto &entry : std::filesystem::directory_iterator(storage())) {
    const std::string name = entry.path().filename().string();
    EXPECT_EQ(name.rfind("validate-config-", 0), std::string::npos) << name << " was left";
    if (name != "effective.yaml" && name != "bootstrap.yaml") {
      EXPECT_EQ(file_state(entry.path()).mode & 077, 0u) << name;
    }
  }

  // The Collector dies with the supervisor (PR_SET_PDEATHSIG, set again after the switch;
  // collector_credentials_test reads the flag in the child itself).
  const pid_t running = nth_collector_pid(2);
  supervisor_->send_signal(SIGKILL);
  supervisor_->wait_exit(kDeadline);
  EXPECT_TRUE(eventually([&] { return !process_exists(running); }, 10s))
      << "the Collector (pid " << running << ") outlived the supervisor";
}

// Other connections under run_as: the offered CA, client certificate and key are files the
// Collector's user must read. They get its group and mode 0640 (still root's, like
// effective.yaml), and the Collector sends its data over mutual TLS with them.
TEST_F(RunAsE2e, TheRunAsCollectorReadsTheOfferedCertificateFiles) {
  OPSUP_REQUIRE_ROOT();
  const TestUser &user = user_.emplace();
  std::filesystem::permissions(dir_.path(), std::filesystem::perms(0711));
  std::filesystem::copy_file(std::filesystem::path(OPSUP_MODULES_DIR) / "connection_settings.so",
                             modules_.path() / "connection_settings.so");
  const TestPki pki = make_test_pki();
  OtlpHttpSink sink(OtlpHttpSink::Tls{pki.server, pki.ca.cert_pem});
  const uint16_t port = free_tcp_port();
  const std::string collector_yaml =
      "receivers:\n  otlp:\n    protocols:\n      http:\n        endpoint: 127.0.0.1:" +
      std::to_string(port) + "\nexporters:\n  otlphttp/backend:\n    endpoint: http://127.0.0.1:" +
      std::to_string(free_tcp_port()) +
      "\n    compression: none\n    retry_on_failure:\n      enabled: false\n"
      "service:\n  telemetry:\n    metrics:\n      level: none\n"
      "  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [otlphttp/backend]\n";
  supervisor_ = start_supervisor(
      {.endpoint = server_.websocket_url(),
       .storage = storage(),
       .modules_dir = modules_.path(),
       .extra_yaml = "capabilities:\n  accepts_other_connection_settings: true\n"
                     "  reports_connection_settings_status: true\n",
       .collector = collector_executable(CollectorKind::kReal),
       .agent_yaml = "  run_as:\n    user: " + user.name() + "\n  config_files:\n    - " +
                     dir_.write_file("collector.yaml", collector_yaml).string() + "\n"},
      dir_.path());
  uid_ = wait_for_connected_agent(server_, kDeadline);
  ASSERT_FALSE(uid_.empty()) << supervisor_->output();

  const boost::json::object entry{
      {"destination_endpoint", sink.url("")},
      {"tls", boost::json::object{{"ca_pem_contents", pki.ca.cert_pem}}},
      {"certificate",
       boost::json::object{{"cert", pki.client.cert_pem}, {"private_key", pki.client.key_pem}}}};
  const auto answer = server_.post_json(
      "/api/agents/" + uid_ + "/other-connections",
      boost::json::serialize(
          boost::json::object{{"connections", boost::json::object{{"otlphttp/backend", entry}}}}));
  ASSERT_EQ(answer.status, 200) << boost::json::serialize(answer.body);
  const std::string hash = string_at(answer.body, {"hash"});
  ASSERT_TRUE(eventually(
      [&] {
        const auto agent = server_.agent(uid_);
        return string_at(agent, {"connection_settings_status", "status"}) == "APPLIED" &&
               string_at(agent, {"connection_settings_status", "last_connection_settings_hash"}) ==
                   hash;
      },
      kDeadline))
      << boost::json::serialize(server_.agent(uid_)) << supervisor_->output();

  size_t files = 0;
  for (const auto &file : std::filesystem::directory_iterator(storage())) {
    if (file.path().filename().string().rfind("other_connection_", 0) != 0)
      continue;
    ++files;
    expect_file(file.path(), 0640, user.gid());
  }
  EXPECT_EQ(files, 3u);
  EXPECT_TRUE(eventually(
      [&] {
        for (const auto &request : sink.requests_to("/v1/traces")) {
          if (request.body.find("opsup-run-as-tls-span") != std::string::npos)
            return true;
        }
        send_span(port, "opsup-run-as-tls-span");
        return false;
      },
      kDeadline))
      << "TLS handshakes refused: " << sink.handshake_failures() << "\n"
      << read_file(storage() / "agent.log") << supervisor_->output();
  supervisor_->send_signal(SIGTERM);
  EXPECT_EQ(supervisor_->wait_exit(kDeadline), 0) << supervisor_->output();
}

// Own telemetry under run_as: the offered CA, client certificate and key of the Collector's
// own metrics are files its user must read, like other connections' (0640, the run_as group),
// and the Collector's metrics arrive over mutual TLS with them.
TEST_F(RunAsE2e, TheRunAsCollectorReadsItsOwnTelemetryCertificateFiles) {
  OPSUP_REQUIRE_ROOT();
  const TestUser &user = user_.emplace();
  std::filesystem::permissions(dir_.path(), std::filesystem::perms(0711));
  std::filesystem::copy_file(std::filesystem::path(OPSUP_MODULES_DIR) / "own_telemetry.so",
                             modules_.path() / "own_telemetry.so");
  const TestPki pki = make_test_pki();
  OtlpHttpSink sink(OtlpHttpSink::Tls{pki.server, pki.ca.cert_pem});
  const std::string collector_yaml =
      "receivers:\n  nop: {}\nexporters:\n  nop: {}\n"
      "service:\n  pipelines:\n    traces:\n      receivers: [nop]\n      exporters: [nop]\n";
  supervisor_ = start_supervisor(
      {.endpoint = server_.websocket_url(),
       .storage = storage(),
       .modules_dir = modules_.path(),
       .extra_yaml = "capabilities:\n  reports_own_metrics: true\n"
                     "plugins:\n  own_telemetry:\n    metrics_interval: 1s\n",
       .collector = collector_executable(CollectorKind::kReal),
       .agent_yaml = "  run_as:\n    user: " + user.name() + "\n  config_files:\n    - " +
                     dir_.write_file("collector.yaml", collector_yaml).string() +
                     "\n    - $OWN_TELEMETRY_CONFIG\n"},
      dir_.path());
  uid_ = wait_for_connected_agent(server_, kDeadline);
  ASSERT_FALSE(uid_.empty()) << supervisor_->output();

  const boost::json::object metrics{
      {"destination_endpoint", sink.url("/v1/metrics")},
      {"tls", boost::json::object{{"ca_pem_contents", pki.ca.cert_pem}}},
      {"certificate",
       boost::json::object{{"cert", pki.client.cert_pem}, {"private_key", pki.client.key_pem}}}};
  const auto answer =
      server_.post_json("/api/agents/" + uid_ + "/own-telemetry",
                        boost::json::serialize(boost::json::object{{"metrics", metrics}}));
  ASSERT_EQ(answer.status, 200) << boost::json::serialize(answer.body);

  EXPECT_TRUE(eventually([&] { return !sink.requests_to("/v1/metrics").empty(); }, kDeadline))
      << "TLS handshakes refused: " << sink.handshake_failures() << "\n"
      << read_file(storage() / "agent.log") << supervisor_->output();
  for (const char *name : {"own_telemetry_metrics_ca.pem", "own_telemetry_metrics_cert.pem",
                           "own_telemetry_metrics_key.pem"}) {
    expect_file(storage() / name, 0640, user.gid());
  }
  supervisor_->send_signal(SIGTERM);
  EXPECT_EQ(supervisor_->wait_exit(kDeadline), 0) << supervisor_->output();
}

TEST_F(RunAsE2e, WithoutRootTheSupervisorRefusesToStartInsteadOfRunningTheCollectorAsItself) {
  OPSUP_REQUIRE_ROOT();
  const TestUser &user = user_.emplace();
  // The supervisor runs as the test's user: it reads its config, owns its storage.
  std::filesystem::permissions(dir_.path(), std::filesystem::perms(0755));
  std::filesystem::permissions(modules_.path(), std::filesystem::perms(0755));
  std::filesystem::create_directory(storage());
  ASSERT_EQ(::chown(storage().c_str(), user.uid(), user.gid()), 0);
  ::chmod(storage().c_str(), 0700);
  const SupervisorRun run{.endpoint = server_.websocket_url(),
                          .storage = storage(),
                          .modules_dir = modules_.path(),
                          .collector = collector_executable(CollectorKind::kReal),
                          .agent_yaml = "  run_as:\n    user: nobody\n"};
  const std::string yaml = supervisor_yaml(run);
  const int run_as_line =
      1 + static_cast<int>(std::count(yaml.begin(), yaml.begin() + yaml.find("  run_as:"), '\n'));
  const auto config = dir_.write_file("supervisor.yaml", yaml);
  std::filesystem::permissions(config, std::filesystem::perms(0644));

  ChildProcess supervisor(
      {find_tool("setpriv"),
       {"--reuid=" + std::to_string(user.uid()), "--regid=" + std::to_string(user.gid()),
        "--clear-groups", "--", binary("opampsupervisor").string(), "--config", config.string(),
        "--modules-dir", modules_.path().string()},
       {},
       {}});
  EXPECT_EQ(supervisor.wait_exit(kDeadline), 1) << supervisor.output();
  supervisor.wait_output_closed(10s);
  const std::string output = supervisor.output();
  const std::string expected = config.string() + ":" + std::to_string(run_as_line) +
                               ": agent.run_as: cannot run the Collector as user nobody";
  EXPECT_NE(output.find(expected), std::string::npos) << "no \"" << expected << "\" in\n" << output;
  EXPECT_NE(output.find("the supervisor runs as uid " + std::to_string(user.uid()) +
                        " without CAP_SETUID, CAP_SETGID and CAP_CHOWN"),
            std::string::npos)
      << output;
  EXPECT_NE(output.find("never run as the supervisor's own user"), std::string::npos) << output;
  // Nothing ran: no probe, no bootstrap, no Collector.
  EXPECT_EQ(output.find("Bootstrapping the Collector"), std::string::npos) << output;
  EXPECT_EQ(output.find("Collector started"), std::string::npos) << output;
}

}  // namespace
}  // namespace opsup::testing
