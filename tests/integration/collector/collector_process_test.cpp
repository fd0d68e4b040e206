// CollectorProcess against real child processes: the real Collector started and stopped
// gracefully, the stand-in crashing and ignoring SIGTERM, a missing executable, and the
// Collector dying with its host.
#include "collector/collector_process.hpp"

#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <netinet/in.h>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <condition_variable>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

#include "loop_thread.hpp"
#include "support/child_process.hpp"
#include "support/collector.hpp"
#include "support/eventually.hpp"
#include "support/paths.hpp"
#include "support/ports.hpp"
#include "support/temp_dir.hpp"
#include "test_configs.hpp"

namespace opsup::collector {
namespace {

using namespace std::chrono_literals;
using opsup::testing::CollectorKind;
using opsup::testing::TempDir;
using testing::command_for;
using testing::pipeline_config;
using testing::stand_in_config;

constexpr auto kDeadline = 60s;

// A CollectorProcess living on its own loop thread, with what it reported.
class Harness {
 public:
  Harness() {
    loop_.on_loop([this] {
      process_ = std::make_unique<CollectorProcess>(
          loop_.io(), [this](std::string_view line) { lines_.add(std::string(line)); },
          [this](const ExitStatus &status) {
            lines_at_exit_ = lines_.size();
            exits_.add(status);
          });
    });
  }
  ~Harness() {
    loop_.on_loop([this] { process_.reset(); });
  }

  void start(const CollectorCommand &command) {
    loop_.on_loop([&] { process_->start(command); });
  }
  void stop(std::chrono::milliseconds grace) {
    loop_.on_loop([&] { process_->stop(grace); });
  }
  pid_t pid() {
    pid_t pid = 0;
    loop_.on_loop([&] { pid = process_->pid(); });
    return pid;
  }

  bool wait_for_line(const std::string &text) {
    return lines_
        .wait_for([&](const std::string &line) { return line.find(text) != std::string::npos; },
                  kDeadline)
        .has_value();
  }
  std::optional<ExitStatus> wait_exit() {
    return exits_.wait_for([](const ExitStatus &) { return true; }, kDeadline);
  }
  // Lines delivered before the exit handler ran.
  std::string output_before_exit() {
    const auto lines = lines_.all();
    std::string text;
    for (std::size_t i = 0; i < lines_at_exit_ && i < lines.size(); ++i)
      text += lines[i] + "\n";
    return text;
  }
  std::string output() {
    std::string text;
    for (const auto &line : lines_.all())
      text += line + "\n";
    return text;
  }

 private:
  testing::LoopThread loop_;
  std::unique_ptr<CollectorProcess> process_;
  testing::Recorder<std::string> lines_;
  testing::Recorder<ExitStatus> exits_;
  std::atomic<std::size_t> lines_at_exit_{0};
};

bool process_gone(pid_t pid) {
  if (::kill(pid, 0) != 0)
    return true;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string pid_field, name, state;
  stat >> pid_field >> name >> state;
  return state == "Z";  // dead, waiting for a reaper that is not us
}

TEST(CollectorProcess, RealCollectorRunsAndStopsGracefully) {
  TempDir dir;
  Harness harness;
  harness.start(command_for(CollectorKind::kReal, pipeline_config(dir)));
  ASSERT_TRUE(harness.wait_for_line("Everything is ready")) << harness.output();
  EXPECT_GT(harness.pid(), 0);
  harness.stop(30s);
  auto status = harness.wait_exit();
  ASSERT_TRUE(status) << harness.output();
  EXPECT_NE(status->signal, SIGKILL) << "SIGTERM was not enough: " << status->describe();
  // v0.149.0 logs "Everything is ready" before it handles SIGTERM: a SIGTERM in between ends
  // it by the signal's default action (tools/fake-otelcol/README.md). Otherwise it shuts down.
  if (status->signal == 0) {
    EXPECT_EQ(status->code, 0) << status->describe();
    EXPECT_NE(harness.output_before_exit().find("Shutdown complete."), std::string::npos)
        << harness.output();
  } else {
    EXPECT_EQ(status->signal, SIGTERM) << status->describe();
  }
  EXPECT_EQ(harness.pid(), 0);
}

TEST(CollectorProcess, CrashIsReportedWithItsCodeAfterItsLastLines) {
  TempDir dir;
  Harness harness;
  harness.start(command_for(
      CollectorKind::kStandIn,
      stand_in_config(dir, "{exit_after: 200ms, exit_code: 3, crash_message: boom-at-exit}")));
  auto status = harness.wait_exit();
  ASSERT_TRUE(status) << harness.output();
  EXPECT_EQ(status->code, 3) << status->describe();
  EXPECT_EQ(status->describe(), "exit code 3");
  EXPECT_NE(harness.output_before_exit().find("boom-at-exit"), std::string::npos)
      << harness.output();
}

TEST(CollectorProcess, StopEscalatesToSigkillWhenSigtermIsIgnored) {
  TempDir dir;
  Harness harness;
  harness.start(
      command_for(CollectorKind::kStandIn, stand_in_config(dir, "{ignore_sigterm: true}")));
  ASSERT_TRUE(harness.wait_for_line("Everything is ready")) << harness.output();
  harness.stop(300ms);
  auto status = harness.wait_exit();
  ASSERT_TRUE(status) << harness.output();
  EXPECT_EQ(status->signal, SIGKILL) << status->describe();
  EXPECT_EQ(status->describe(), "killed by signal 9 (SIGKILL)");
}

TEST(CollectorProcess, AMissingExecutableIsNamed) {
  TempDir dir;
  Harness harness;
  CollectorCommand command;
  command.executable = dir.path() / "no-such-collector";
  try {
    harness.start(command);
    FAIL() << "started a missing executable";
  } catch (const std::runtime_error &error) {
    EXPECT_EQ(std::string(error.what()),
              "cannot start " + command.executable.string() + ": No such file or directory");
  }
  EXPECT_EQ(harness.pid(), 0);
}

TEST(CollectorProcess, ArgsAndEnvironmentReachTheChild) {
  Harness harness;
  CollectorCommand command;
  command.executable = "/bin/sh";
  command.args = {"-c", "echo \"$OPSUP_AGENT_ENV_TEST $0\"; echo to-stderr >&2", "an-arg"};
  command.extra_env = std::map<std::string, std::string>{{"OPSUP_AGENT_ENV_TEST", "from-env"}};
  harness.start(command);
  auto status = harness.wait_exit();
  ASSERT_TRUE(status);
  EXPECT_EQ(status->code, 0);
  EXPECT_EQ(harness.output_before_exit(), "from-env an-arg\nto-stderr\n");
}

// The Collector inherits none of the supervisor's descriptors (asio opens its sockets, the
// local OpAMP server's listener among them, without O_CLOEXEC).
TEST(CollectorProcess, TheChildInheritsNoneOfTheSupervisorsDescriptors) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);  // deliberately not CLOEXEC
  ASSERT_GE(listener, 3);
  Harness harness;
  CollectorCommand command;
  command.executable = "/bin/sh";
  command.args = {"-c", "if [ -e /proc/$$/fd/" + std::to_string(listener) +
                            " ]; then echo inherited; else echo closed; fi"};
  harness.start(command);
  auto status = harness.wait_exit();
  ::close(listener);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->code, 0);
  EXPECT_EQ(harness.output_before_exit(), "closed\n");
}

TEST(CollectorProcess, TheCollectorDiesWithItsHost) {
  TempDir dir;
  opsup::testing::ChildProcess host(
      {opsup::testing::binary("collector_process_host"),
       {opsup::testing::collector_executable(CollectorKind::kReal).string(), "--config",
        pipeline_config(dir)},
       {},
       {}});
  const auto pid_line = host.wait_for_line("^collector pid [0-9]+$", kDeadline);
  ASSERT_TRUE(pid_line) << host.output();
  const pid_t collector = std::stoi(pid_line->substr(std::string("collector pid ").size()));
  ASSERT_TRUE(host.wait_for_line("Everything is ready", kDeadline)) << host.output();
  host.send_signal(SIGKILL);
  host.wait_exit(kDeadline);
  EXPECT_TRUE(opsup::testing::eventually([&] { return process_gone(collector); }, 10s))
      << "the Collector (pid " << collector << ") outlived its host";
  if (!process_gone(collector))
    ::kill(collector, SIGKILL);
}

}  // namespace
}  // namespace opsup::collector
