// CollectorRunner keeping the real Collector (and, for crashes, the stand-in) running on a
// composed config: effective.yaml, agent.log, generations, restart or SIGHUP on a change,
// backoff in a crash loop, a graceful stop.
#include "collector/collector_runner.hpp"

#include <signal.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "loop_thread.hpp"
#include "support/eventually.hpp"
#include "support/temp_dir.hpp"
#include "test_configs.hpp"

namespace opsup::collector {
namespace {

using namespace std::chrono_literals;
using opsup::testing::CollectorKind;
using opsup::testing::read_file;
using opsup::testing::TempDir;
using testing::pipeline_config;
using testing::stand_in_config;

constexpr auto kDeadline = 60s;

class RunnerHarness {
 public:
  RunnerHarness(CollectorKind kind, const TempDir &storage,
                std::function<void(CollectorRunnerOptions &)> adjust = {}) {
    CollectorRunnerOptions options;
    options.executable = opsup::testing::collector_executable(kind);
    options.storage_directory = storage.path();
    options.crash_log_snippet_bytes = 4096;
    if (adjust)
      adjust(options);
    loop_.on_loop([&] {
      runner_ = std::make_unique<CollectorRunner>(
          loop_.io(), options, [this](const CollectorEvent &event) { events_.add(event); });
    });
  }
  ~RunnerHarness() {
    loop_.on_loop([this] { runner_.reset(); });
  }

  std::uint64_t apply(const std::string &config) {
    std::uint64_t generation = 0;
    loop_.on_loop([&] { generation = runner_->apply(config); });
    return generation;
  }
  void stop() {
    loop_.on_loop([&] { runner_->stop(); });
  }
  pid_t pid() {
    pid_t pid = 0;
    loop_.on_loop([&] { pid = runner_->pid(); });
    return pid;
  }
  CollectorCounters counters() {
    CollectorCounters counters;
    loop_.on_loop([&] { counters = runner_->counters(); });
    return counters;
  }
  std::optional<CollectorEvent> wait_event(CollectorEventKind kind, std::uint64_t generation = 0,
                                           std::size_t from = 0) {
    return events_.wait_for(
        [&](const CollectorEvent &event) {
          return event.kind == kind && (generation == 0 || event.generation == generation);
        },
        kDeadline, from);
  }
  std::vector<CollectorEvent> events() { return events_.all(); }
  std::size_t event_count() { return events_.size(); }

 private:
  testing::LoopThread loop_;
  std::unique_ptr<CollectorRunner> runner_;
  testing::Recorder<CollectorEvent> events_;
};

bool file_contains(const std::filesystem::path &path, const std::string &text) {
  return read_file(path).find(text) != std::string::npos;
}

TEST(CollectorRunner, RunsTheRealCollectorOnItsEffectiveConfigAndLogsToAgentLog) {
  TempDir storage, configs;
  RunnerHarness harness(CollectorKind::kReal, storage);
  const std::string config = read_file(pipeline_config(configs));
  const auto generation = harness.apply(config);
  EXPECT_EQ(generation, 1u);
  auto started = harness.wait_event(CollectorEventKind::kStarted, generation);
  ASSERT_TRUE(started);
  EXPECT_GT(started->pid, 0);

  const auto effective = storage.path() / "effective.yaml";
  EXPECT_EQ(read_file(effective), config);
  struct stat info {};
  ASSERT_EQ(::stat(effective.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_TRUE(opsup::testing::eventually(
      [&] { return file_contains(storage.path() / "agent.log", "Everything is ready"); },
      kDeadline))
      << read_file(storage.path() / "agent.log");

  // The same text again changes nothing.
  EXPECT_EQ(harness.apply(config), generation);
  EXPECT_EQ(harness.pid(), started->pid);

  harness.stop();
  auto stopped = harness.wait_event(CollectorEventKind::kStopped);
  ASSERT_TRUE(stopped);
  EXPECT_NE(stopped->exit.signal, SIGKILL) << stopped->exit.describe();
  EXPECT_EQ(harness.counters().unexpected_exits, 0u);
  EXPECT_EQ(harness.pid(), 0);
}

TEST(CollectorRunner, ANewConfigRestartsTheCollectorOnItsGeneration) {
  TempDir storage, configs;
  RunnerHarness harness(CollectorKind::kReal, storage);
  const auto first = harness.apply(read_file(pipeline_config(configs)));
  auto first_start = harness.wait_event(CollectorEventKind::kStarted, first);
  ASSERT_TRUE(first_start);
  ASSERT_TRUE(opsup::testing::eventually(
      [&] { return file_contains(storage.path() / "agent.log", "Everything is ready"); },
      kDeadline));

  const auto second = harness.apply(read_file(pipeline_config(configs)));  // a new free port
  EXPECT_EQ(second, first + 1);
  auto second_start = harness.wait_event(CollectorEventKind::kStarted, second);
  ASSERT_TRUE(second_start);
  EXPECT_NE(second_start->pid, first_start->pid);
  EXPECT_EQ(harness.counters().starts, 2u);
  EXPECT_EQ(harness.counters().unexpected_exits, 0u);
}

TEST(CollectorRunner, HupModeReloadsTheRunningCollector) {
  TempDir storage, configs;
  RunnerHarness harness(CollectorKind::kReal, storage, [](CollectorRunnerOptions &options) {
    options.use_hup_config_reload = true;
  });
  const auto first = harness.apply(read_file(pipeline_config(configs)));
  auto started = harness.wait_event(CollectorEventKind::kStarted, first);
  ASSERT_TRUE(started);
  ASSERT_TRUE(opsup::testing::eventually(
      [&] { return file_contains(storage.path() / "agent.log", "Everything is ready"); },
      kDeadline));
  const auto second = harness.apply(read_file(pipeline_config(configs)));
  auto reloaded = harness.wait_event(CollectorEventKind::kReloaded, second);
  ASSERT_TRUE(reloaded);
  EXPECT_EQ(reloaded->pid, started->pid);
  // The real Collector logs the hangup and starts its service again.
  EXPECT_TRUE(opsup::testing::eventually(
      [&] { return file_contains(storage.path() / "agent.log", "hangup"); }, kDeadline))
      << read_file(storage.path() / "agent.log");
  EXPECT_EQ(harness.counters().starts, 1u);
}

TEST(CollectorRunner, ACrashLoopBacksOffAndReportsTheLogTail) {
  TempDir storage, configs;
  RunnerHarness harness(CollectorKind::kStandIn, storage, [](CollectorRunnerOptions &options) {
    options.restart_initial = 100ms;
    options.restart_max = 800ms;
  });
  const auto generation = harness.apply(read_file(stand_in_config(
      configs, "{exit_after: 50ms, exit_code: 7, crash_message: crashed-on-purpose}")));
  // Five exits: the delays double from 100 ms and stop at the maximum.
  auto count = [&](CollectorEventKind kind) {
    std::size_t n = 0;
    for (const auto &event : harness.events())
      n += event.kind == kind ? 1 : 0;
    return n;
  };
  ASSERT_TRUE(opsup::testing::eventually(
      [&] { return count(CollectorEventKind::kRestartScheduled) >= 5; }, kDeadline));
  harness.stop();
  std::vector<long> delays;
  for (const auto &event : harness.events()) {
    if (event.kind == CollectorEventKind::kRestartScheduled && delays.size() < 5)
      delays.push_back(event.restart_delay.count());
    if (event.kind == CollectorEventKind::kExited) {
      EXPECT_EQ(event.generation, generation);
      EXPECT_EQ(event.exit.code, 7) << event.exit.describe();
      EXPECT_NE(event.log_tail.find("crashed-on-purpose"), std::string::npos) << event.log_tail;
    }
  }
  EXPECT_EQ(delays, (std::vector<long>{100, 200, 400, 800, 800}));
  EXPECT_GE(harness.counters().unexpected_exits, 5u);
}

TEST(CollectorRunner, AnEmptyConfigStopsTheCollector) {
  TempDir storage, configs;
  RunnerHarness harness(CollectorKind::kReal, storage);
  const auto first = harness.apply(read_file(pipeline_config(configs)));
  ASSERT_TRUE(harness.wait_event(CollectorEventKind::kStarted, first));
  harness.apply("");
  ASSERT_TRUE(harness.wait_event(CollectorEventKind::kStopped));
  EXPECT_EQ(harness.pid(), 0);
  EXPECT_EQ(harness.counters().unexpected_exits, 0u);
}

TEST(CollectorRunner, AnExecutableThatCannotStartIsRetriedWithTheReason) {
  TempDir storage, configs;
  RunnerHarness harness(CollectorKind::kReal, storage, [&](CollectorRunnerOptions &options) {
    options.executable = storage.path() / "no-such-collector";
    options.restart_initial = 100ms;
  });
  harness.apply(read_file(pipeline_config(configs)));
  auto first = harness.wait_event(CollectorEventKind::kRestartScheduled);
  ASSERT_TRUE(first);
  EXPECT_NE(first->error.find("no-such-collector: No such file or directory"), std::string::npos)
      << first->error;
  EXPECT_TRUE(
      opsup::testing::eventually([&] { return harness.counters().failed_starts >= 2; }, kDeadline));
}

}  // namespace
}  // namespace opsup::collector
