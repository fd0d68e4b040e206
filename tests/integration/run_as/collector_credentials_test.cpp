// agent.run_as on the Collector side (core/collector), as root with the user `nobody`:
// every kind of Collector process (CollectorProcess itself, the `featuregate` probe, the
// bootstrap run, `validate`, the running Collector) starts with the credentials and keeps
// PR_SET_PDEATHSIG, the files it reads are open to its group and nothing else, the
// supervisor's own checks (privileges, reachability), and the Unix-socket peer check
// accepting the run_as uid only. The Collector is a probe (run_as_probe.cpp) that says who
// it runs as.
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <optional>

#include "collector/collector_bootstrap.hpp"
#include "collector/collector_credentials.hpp"
#include "collector/collector_process.hpp"
#include "collector/collector_runner.hpp"
#include "collector/collector_validation.hpp"
#include "collector/local_opamp_server.hpp"
#include "common/uuid.hpp"
#include "local_server_harness.hpp"
#include "run_as_test_support.hpp"
#include "support/temp_dir.hpp"

namespace opsup::collector {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;

const std::filesystem::path kProbe = OPSUP_RUN_AS_PROBE;

CollectorCredentials nobody() {
  const passwd *user = ::getpwnam("nobody");
  if (user == nullptr)
    throw std::runtime_error("there is no user nobody");
  CollectorCredentials credentials;
  credentials.uid = user->pw_uid;
  credentials.gid = user->pw_gid;
  credentials.groups = {user->pw_gid};
  const group *primary = ::getgrgid(user->pw_gid);
  credentials.description = "user nobody (uid " + std::to_string(user->pw_uid) + "), group " +
                            (primary != nullptr ? primary->gr_name : "?") + " (gid " +
                            std::to_string(user->pw_gid) + ")";
  return credentials;
}

// The probe's first line when it runs as `uid`/`gid` with no capabilities.
std::string identity(uid_t uid, gid_t gid, const std::string &groups, const std::string &caps) {
  const std::string u = std::to_string(uid), g = std::to_string(gid);
  return "pdeathsig=" + std::to_string(SIGKILL) + " uid=" + u + "," + u + "," + u + " gid=" + g +
         "," + g + "," + g + " groups=" + groups + " capeff=" + caps + " capprm=" + caps;
}

std::string nobody_identity() {
  const CollectorCredentials user = nobody();
  return identity(user.uid, user.gid, std::to_string(user.gid), "0");
}

struct ProbeRun {
  std::vector<std::string> lines;
  std::optional<ExitStatus> exit;
};

// Runs `command` to its end on a loop of its own.
ProbeRun run(const CollectorCommand &command) {
  boost::asio::io_context io;
  ProbeRun result;
  CollectorProcess process(
      io, [&](std::string_view line) { result.lines.emplace_back(line); },
      [&](const ExitStatus &status) {
        result.exit = status;
        io.stop();
      });
  process.start(command);
  io.run_for(30s);
  return result;
}

struct FileState {
  unsigned mode = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  bool operator==(const FileState &) const = default;
};

std::ostream &operator<<(std::ostream &out, const FileState &state) {
  return out << "mode " << std::oct << state.mode << std::dec << ", owner " << state.uid << ":"
             << state.gid;
}

FileState file_state(const std::filesystem::path &path) {
  struct stat info {};
  EXPECT_EQ(::lstat(path.c_str(), &info), 0) << path;
  return {static_cast<unsigned>(info.st_mode & 07777), info.st_uid, info.st_gid};
}

class RunAsCollector : public ::testing::Test {
 protected:
  void SetUp() override {
    OPSUP_REQUIRE_ROOT();
    user_ = nobody();
    // The probe and the storage directory must be reachable for `nobody`.
    std::filesystem::permissions(dir_.path(), std::filesystem::perms(0711));
    // As the supervisor makes it (storage::ensure_private_directory).
    std::filesystem::create_directory(storage());
    std::filesystem::permissions(storage(), std::filesystem::perms(0700));
  }

  std::filesystem::path storage() const { return dir_.path() / "storage"; }

  CollectorCredentials user_;
  TempDir dir_;
};

TEST_F(RunAsCollector, TheChildRunsWithTheCredentialsAndStillDiesWithItsParent) {
  CollectorCommand command;
  command.executable = kProbe;
  command.credentials = user_;
  const ProbeRun result = run(command);
  ASSERT_TRUE(result.exit);
  EXPECT_EQ(result.exit->code, 0);
  ASSERT_FALSE(result.lines.empty());
  // Real, effective and saved ids; only its own group; no capability left; and the
  // PR_SET_PDEATHSIG the kernel cleared at setuid is set again.
  EXPECT_EQ(result.lines[0], nobody_identity());
}

TEST_F(RunAsCollector, WithoutCredentialsTheChildIsTheSupervisorsOwn) {
  CollectorCommand command;
  command.executable = kProbe;
  const ProbeRun result = run(command);
  ASSERT_FALSE(result.lines.empty());
  EXPECT_EQ(result.lines[0].rfind("pdeathsig=9 uid=0,0,0 gid=0,0,0", 0), 0u) << result.lines[0];
}

TEST_F(RunAsCollector, AnExecutableTheUserCannotRunIsAnErrorNamingTheUser) {
  const auto hidden = dir_.path() / "private";
  std::filesystem::create_directory(hidden);
  std::filesystem::permissions(hidden, std::filesystem::perms(0700));
  std::filesystem::copy_file(kProbe, hidden / "otelcol");
  CollectorCommand command;
  command.executable = hidden / "otelcol";
  command.credentials = user_;
  boost::asio::io_context io;
  CollectorProcess process(io, nullptr, nullptr);
  try {
    process.start(command);
    FAIL() << "started although " << hidden << " is closed to nobody";
  } catch (const std::runtime_error &error) {
    EXPECT_EQ(std::string(error.what()), "cannot start " + command.executable.string() + " as " +
                                             user_.description + ": Permission denied");
  }
  EXPECT_FALSE(process.running());
  EXPECT_NE(unreachable_reason(command.executable, user_, true)
                .find(hidden.string() + " is not searchable for " + user_.description),
            std::string::npos)
      << unreachable_reason(command.executable, user_, true);
}

TEST_F(RunAsCollector, TheFeatureGateProbeRunsAsTheUser) {
  const std::string as_user = "probe.Uid" + std::to_string(user_.uid);
  EXPECT_TRUE(collector_has_feature_gate(kProbe, as_user, 30s, user_));
  EXPECT_FALSE(collector_has_feature_gate(kProbe, "probe.Uid0", 30s, user_));
  EXPECT_TRUE(collector_has_feature_gate(kProbe, "probe.Uid0", 30s));
}

TEST_F(RunAsCollector, CollectorFilesAreOpenToTheRunAsGroupOnly) {
  write_collector_file(storage() / "plain.yaml", "a: 1\n", std::nullopt);
  EXPECT_EQ(file_state(storage() / "plain.yaml"), (FileState{0600, 0, 0}));
  write_collector_file(storage() / "effective.yaml", "a: 1\n", user_);
  EXPECT_EQ(file_state(storage() / "effective.yaml"), (FileState{0640, 0, user_.gid}));
  // Rewritten, it keeps them.
  write_collector_file(storage() / "effective.yaml", "a: 2\n", user_);
  EXPECT_EQ(file_state(storage() / "effective.yaml"), (FileState{0640, 0, user_.gid}));
  open_storage_directory(storage(), user_);
  EXPECT_EQ(file_state(storage()), (FileState{0710, 0, user_.gid}));
}

TEST_F(RunAsCollector, ValidateRunsAsTheUserOnAFileOnlyItsGroupMayRead) {
  boost::asio::io_context io;
  CollectorValidationOptions options;
  options.executable = kProbe;
  options.storage_directory = storage();
  options.credentials = user_;
  CollectorValidation validation(io, options);
  std::vector<ValidationOutcome> outcomes;
  const auto keep = [&](const ValidationOutcome &outcome) {
    outcomes.push_back(outcome);
    io.stop();
  };

  // The storage directory still closed to the user: `validate` cannot read the candidate.
  validation.run("valid: true\n", keep);
  io.run_for(30s);
  io.restart();
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_FALSE(outcomes[0].valid);
  EXPECT_NE(outcomes[0].message.find("Permission denied"), std::string::npos)
      << outcomes[0].message;

  open_storage_directory(storage(), user_);
  validation.run("valid: true\n", keep);
  io.run_for(30s);
  io.restart();
  validation.run("valid: false\n", keep);
  io.run_for(30s);
  ASSERT_EQ(outcomes.size(), 3u);
  EXPECT_TRUE(outcomes[1].valid) << outcomes[1].message;
  EXPECT_FALSE(outcomes[2].valid);
  EXPECT_NE(outcomes[2].message.find(nobody_identity()), std::string::npos) << outcomes[2].message;
  EXPECT_NE(outcomes[2].message.find("validate-config-3.yaml: ok"), std::string::npos)
      << outcomes[2].message;
  EXPECT_TRUE(std::filesystem::is_empty(storage()));  // the candidates are removed
}

TEST_F(RunAsCollector, TheRunningCollectorReadsItsEffectiveConfigAsTheUser) {
  open_storage_directory(storage(), user_);
  boost::asio::io_context io;
  std::vector<std::string> lines;
  CollectorRunnerOptions options;
  options.executable = kProbe;
  options.storage_directory = storage();
  options.credentials = user_;
  options.passthrough = [&](std::string_view line) {
    lines.emplace_back(line);
    if (line.find("effective.yaml") != std::string_view::npos)
      io.stop();
  };
  CollectorRunner runner(io, options, nullptr);
  runner.apply("receivers: {}\n");
  io.run_for(30s);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], nobody_identity());
  EXPECT_EQ(lines[1], "read " + (storage() / "effective.yaml").string() + ": ok");
  EXPECT_EQ(file_state(storage() / "effective.yaml"), (FileState{0640, 0, user_.gid}));
}

TEST_F(RunAsCollector, TheBootstrapRunsAsTheUserOnItsGroupReadableConfig) {
  open_storage_directory(storage(), user_);
  boost::asio::io_context io;
  CollectorBootstrapOptions options;
  options.executable = kProbe;
  options.storage_directory = storage();
  options.instance_uid = common::format_uuid(common::generate_uuid_v7());
  options.credentials = user_;
  std::string error;
  CollectorBootstrap bootstrap(io, options,
                               [&](std::optional<BootstrapResult>, const std::string &why) {
                                 error = why;
                                 io.stop();
                               });
  bootstrap.start();
  io.run_for(30s);
  // The probe is no Collector: it exits at once, after saying who it was and what it read.
  EXPECT_NE(error.find(nobody_identity()), std::string::npos) << error;
  EXPECT_NE(error.find("read " + (storage() / "bootstrap.yaml").string() + ": ok"),
            std::string::npos)
      << error;
  EXPECT_EQ(file_state(storage() / "bootstrap.yaml"), (FileState{0640, 0, user_.gid}));
}

TEST_F(RunAsCollector, RootMaySwitchUsersAnUnprivilegedProcessMayNot) {
  EXPECT_EQ(missing_privileges(user_), "");
  // A child that dropped to another unprivileged user asks the same question.
  const passwd *daemon = ::getpwnam("daemon");
  ASSERT_NE(daemon, nullptr);
  for (const bool member : {false, true}) {
    CollectorCredentials target = user_;
    if (member)
      target.gid = daemon->pw_gid;  // the child's own group: no CAP_CHOWN needed for it
    int answer[2];
    ASSERT_EQ(::pipe(answer), 0);
    const pid_t child = ::fork();
    if (child == 0) {
      ::close(answer[0]);
      const gid_t gid = daemon->pw_gid;
      if (::setgroups(1, &gid) != 0 || ::setgid(gid) != 0 || ::setuid(daemon->pw_uid) != 0)
        ::_exit(2);
      const std::string text = missing_privileges(target);
      (void)!::write(answer[1], text.data(), text.size());
      ::_exit(0);
    }
    ::close(answer[1]);
    std::string text;
    char buffer[512];
    for (ssize_t n; (n = ::read(answer[0], buffer, sizeof buffer)) > 0;)
      text.append(buffer, static_cast<std::size_t>(n));
    ::close(answer[0]);
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    const std::string expected = "the supervisor runs as uid " + std::to_string(daemon->pw_uid) +
                                 (member ? " without CAP_SETUID and CAP_SETGID"
                                         : " without CAP_SETUID, CAP_SETGID and CAP_CHOWN");
    EXPECT_EQ(text, expected);
  }
}

TEST_F(RunAsCollector, WhatTheUserCannotReachIsNamed) {
  const auto closed = dir_.path() / "closed";
  std::filesystem::create_directory(closed);
  std::filesystem::permissions(closed, std::filesystem::perms(0700));
  // Missing on the way: nothing to say (yet).
  EXPECT_EQ(unreachable_reason(dir_.path() / "missing" / "storage", user_, false), "");
  const auto inner = closed / "storage";
  std::filesystem::create_directory(inner);
  std::filesystem::permissions(inner, std::filesystem::perms(0700));
  const std::string suffix = " is not searchable for " + user_.description;
  EXPECT_EQ(unreachable_reason(inner, user_, false),
            closed.string() + suffix + " (mode 0700, owner 0:0)");
  std::filesystem::permissions(closed, std::filesystem::perms(0711));
  EXPECT_EQ(unreachable_reason(inner, user_, false),
            inner.string() + suffix + " (mode 0700, owner 0:0)");
  open_storage_directory(inner, user_);  // its group may search it now
  EXPECT_EQ(unreachable_reason(inner, user_, false), "");

  const auto executable = closed / "otelcol";
  std::filesystem::copy_file(kProbe, executable);
  std::filesystem::permissions(executable, std::filesystem::perms(0700));
  EXPECT_EQ(unreachable_reason(executable, user_, true),
            executable.string() + " is not executable for " + user_.description +
                " (mode 0700, owner 0:0)");
  EXPECT_EQ(unreachable_reason(executable, user_, false), "");
  std::filesystem::permissions(executable, std::filesystem::perms(0755));
  EXPECT_EQ(unreachable_reason(executable, user_, true), "");
}

// Sets this whole process's effective ids (every thread: glibc passes setuid calls on) to
// the user's until destroyed, as SO_PEERCRED will see them at connect().
class EffectiveIds {
 public:
  explicit EffectiveIds(const CollectorCredentials &user) {
    EXPECT_EQ(::setegid(user.gid), 0);
    EXPECT_EQ(::seteuid(user.uid), 0);
  }
  ~EffectiveIds() {
    EXPECT_EQ(::seteuid(0), 0);
    EXPECT_EQ(::setegid(0), 0);
  }
  EffectiveIds(const EffectiveIds &) = delete;
  EffectiveIds &operator=(const EffectiveIds &) = delete;
};

TEST_F(RunAsCollector, TheUnixSocketServesTheRunAsUsersCollectorOnly) {
  const auto socket = dir_.path() / "run" / "opamp.sock";
  LocalOpampServerOptions options;
  options.instance_uid = common::format_uuid(common::generate_uuid_v7());
  options.unix_socket_path = socket;
  options.collector_credentials = user_;
  testing::LocalServerHarness harness(options);
  std::string endpoint;
  harness.on_io([&](LocalOpampServer &server) {
    endpoint = server.endpoint();
    server.expect_collector_pid(::getpid());  // this process plays the Collector
  });
  // The directory it created lets the group reach the socket, which is the user's: the
  // configured mode (0600) is the Collector's.
  EXPECT_EQ(file_state(socket.parent_path()), (FileState{0710, 0, user_.gid}));
  EXPECT_EQ(file_state(socket), (FileState{0600, user_.uid, user_.gid}));

  // The Collector's pid with the supervisor's uid (root) is not the Collector.
  {
    testing::RawOpampClient as_root(endpoint, socket.string());
    const auto refused = as_root.wait_disconnected();
    ASSERT_TRUE(refused) << "a peer with uid 0 was served";
    EXPECT_EQ(refused->http_status, 403) << refused->reason;
  }
  EXPECT_EQ(harness.connects(), 0u);

  // The same pid as the run_as user is.
  std::unique_ptr<testing::RawOpampClient> collector;
  bool connected = false;
  {
    EffectiveIds as_user(user_);
    collector = std::make_unique<testing::RawOpampClient>(endpoint, socket.string());
    connected = collector->wait_connected();
  }
  ASSERT_TRUE(connected);
  EXPECT_TRUE(harness.wait_connects(1));

  // Another pid of that user is not.
  harness.on_io([](LocalOpampServer &server) { server.expect_collector_pid(::getpid() + 1); });
  EXPECT_TRUE(collector->wait_disconnected());
}

}  // namespace
}  // namespace opsup::collector
