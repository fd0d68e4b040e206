// CollectorController, the Collector side of the supervisor, driving the real Collector (and
// the stand-in for a crash loop): the first composition after the bootstrap, module and
// remote layers with generations, vetoes, the Collector's own `validate`, an empty remote
// map, restarts, ReportFullState and health notices carrying the generation.
#include "collector/collector_controller.hpp"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "loop_thread.hpp"
#include "opamp.pb.h"
#include "support/temp_dir.hpp"
#include "test_configs.hpp"

namespace opsup::collector {
namespace {

using namespace std::chrono_literals;
using modules::ConfigChangeResult;
using opsup::testing::CollectorKind;
using opsup::testing::read_file;
using opsup::testing::TempDir;

constexpr auto kDeadline = 60s;
constexpr const char *kUid = "0190f6a8-1234-7abc-8def-0123456789ab";
using Status = ConfigChangeResult::Status;

class ControllerHarness {
 public:
  ControllerHarness(CollectorKind kind, const TempDir &storage, std::string config_file,
                    std::function<std::string(const std::string &)> veto = {}) {
    CollectorControllerOptions options;
    options.executable = opsup::testing::collector_executable(kind);
    options.storage_directory = storage.path();
    options.config_files = {std::move(config_file)};
    options.instance_uid = kUid;
    options.bootstrap_timeout = 30s;
    options.crash_log_snippet_bytes = 4096;
    options.restart_initial = 200ms;
    CollectorControllerCallbacks callbacks;
    callbacks.on_notice = [this](const CollectorNotice &notice) { notices_.add(notice); };
    callbacks.on_collector_message = [this](const std::string &bytes) {
      opamp::proto::v1::AgentToServer message;
      message.ParseFromString(bytes);
      messages_.add(message);
    };
    if (veto) {
      callbacks.veto = [veto = std::move(veto)](const std::string &config, bool) {
        return veto(config);
      };
    }
    loop_.on_loop([&] {
      controller_ = std::make_unique<CollectorController>(loop_.io(), options, callbacks);
      controller_->prepare();
      controller_->start([this](const std::string &error) { ready_.add(error); });
    });
    const auto bootstrap = ready_.wait_for([](const std::string &) { return true; }, kDeadline);
    EXPECT_TRUE(bootstrap && bootstrap->empty()) << (bootstrap ? *bootstrap : "no answer");
  }
  ~ControllerHarness() {
    std::promise<void> stopped;
    loop_.on_loop([&] { controller_->stop([&] { stopped.set_value(); }); });
    stopped.get_future().wait_for(kDeadline);
    loop_.on_loop([this] { controller_.reset(); });
  }

  ConfigChangeResult set_layer(const std::string &name, std::optional<std::string> yaml,
                               bool validate = false) {
    return wait_result([&](CollectorController::ChangeDone done) {
      controller_->set_config_layer("test.module", name, std::move(yaml), {validate}, done);
    });
  }
  ConfigChangeResult set_remote(std::optional<std::vector<modules::RemoteConfigFile>> files) {
    return wait_result([&](CollectorController::ChangeDone done) {
      controller_->set_remote_config(std::move(files), {}, done);
    });
  }
  modules::CollectorStateView state() {
    modules::CollectorStateView view;
    loop_.on_loop([&] { view = controller_->collector_state(); });
    return view;
  }
  std::string composed() {
    std::string text;
    loop_.on_loop([&] { text = controller_->composed_config().value_or(""); });
    return text;
  }
  void on_loop(const std::function<void(CollectorController &)> &task) {
    loop_.on_loop([&] { task(*controller_); });
  }
  std::optional<CollectorNotice> wait_notice(CollectorNoticeKind kind, std::uint64_t generation,
                                             std::size_t from = 0,
                                             std::chrono::milliseconds timeout = kDeadline) {
    return notices_.wait_for(
        [&](const CollectorNotice &notice) {
          return notice.kind == kind && (generation == 0 || notice.generation == generation);
        },
        timeout, from);
  }
  std::size_t notice_count() { return notices_.size(); }
  std::size_t message_count() { return messages_.size(); }
  std::optional<opamp::proto::v1::AgentToServer> wait_message(
      const std::function<bool(const opamp::proto::v1::AgentToServer &)> &predicate,
      std::size_t from) {
    return messages_.wait_for(predicate, kDeadline, from);
  }

 private:
  ConfigChangeResult wait_result(const std::function<void(CollectorController::ChangeDone)> &call) {
    auto result = std::make_shared<testing::Recorder<ConfigChangeResult>>();
    loop_.on_loop([&] { call([result](const ConfigChangeResult &r) { result->add(r); }); });
    auto answer = result->wait_for([](const ConfigChangeResult &) { return true; }, kDeadline);
    EXPECT_TRUE(answer) << "the change was never answered";
    return answer.value_or(ConfigChangeResult{Status::kFailed, 0, false, "no answer"});
  }

  testing::LoopThread loop_;
  std::unique_ptr<CollectorController> controller_;
  testing::Recorder<std::string> ready_;
  testing::Recorder<CollectorNotice> notices_;
  testing::Recorder<opamp::proto::v1::AgentToServer> messages_;
};

TEST(CollectorController, ALayerRestartsTheCollectorOnANewGenerationAndHealthCarriesIt) {
  TempDir dir;
  ControllerHarness harness(CollectorKind::kReal, dir, testing::pipeline_config(dir));
  ASSERT_TRUE(harness.wait_notice(CollectorNoticeKind::kStarted, 1));
  ASSERT_TRUE(harness.wait_notice(CollectorNoticeKind::kHealthy, 1));
  EXPECT_EQ(harness.state().health, modules::CollectorHealth::kHealthy);

  const ConfigChangeResult added =
      harness.set_layer("batching", "processors:\n  batch:\n    timeout: 3s\n");
  EXPECT_EQ(added.status, Status::kOk) << added.error;
  EXPECT_TRUE(added.changed);
  EXPECT_EQ(added.generation, 2u);
  ASSERT_TRUE(harness.wait_notice(CollectorNoticeKind::kStarted, 2));
  ASSERT_TRUE(harness.wait_notice(CollectorNoticeKind::kHealthy, 2));
  const YAML::Node effective = YAML::LoadFile((dir.path() / "effective.yaml").string());
  EXPECT_EQ(effective["processors"]["batch"]["timeout"].as<std::string>(), "3s");
  const auto state = harness.state();
  EXPECT_TRUE(state.running);
  EXPECT_EQ(state.generation, 2u);
  EXPECT_EQ(state.latest_generation, 2u);
  EXPECT_GT(state.start_time_unix_nano, 0u);

  // The same text again: nothing restarts, the generation stays.
  const std::size_t notices = harness.notice_count();
  const ConfigChangeResult again =
      harness.set_layer("batching", "processors:\n  batch:\n    timeout: 3s\n");
  EXPECT_EQ(again.status, Status::kOk);
  EXPECT_FALSE(again.changed);
  EXPECT_EQ(again.generation, 2u);
  EXPECT_FALSE(harness.wait_notice(CollectorNoticeKind::kStarted, 0, notices, 1s))
      << "an unchanged config restarted the Collector";

  // Removing it is a change again.
  const ConfigChangeResult removed = harness.set_layer("batching", std::nullopt);
  EXPECT_EQ(removed.status, Status::kOk);
  EXPECT_EQ(removed.generation, 3u);
  EXPECT_EQ(harness.composed().find("batch"), std::string::npos) << harness.composed();
}

TEST(CollectorController, AVetoedOrInvalidLayerIsRefusedAndForgotten) {
  TempDir dir;
  ControllerHarness harness(CollectorKind::kReal, dir, testing::pipeline_config(dir),
                            [](const std::string &config) {
                              return config.find("forbidden") == std::string::npos
                                         ? std::string()
                                         : std::string("no forbidden processors here");
                            });
  ASSERT_TRUE(harness.wait_notice(CollectorNoticeKind::kStarted, 1));
  const std::string before = harness.composed();
  const ConfigChangeResult vetoed =
      harness.set_layer("bad", "processors:\n  batch/forbidden: {}\n");
  EXPECT_EQ(vetoed.status, Status::kVeto);
  EXPECT_EQ(vetoed.error, "no forbidden processors here");
  EXPECT_EQ(harness.composed(), before);

  const ConfigChangeResult invalid = harness.set_layer("list", "- not\n- a map\n");
  EXPECT_EQ(invalid.status, Status::kInvalid);
  EXPECT_NE(invalid.error.find("module layer 'test.module/list'"), std::string::npos)
      << invalid.error;

  // A later change is composed without the refused layers.
  const ConfigChangeResult fine = harness.set_layer("ok", "processors:\n  batch: {}\n");
  EXPECT_EQ(fine.status, Status::kOk) << fine.error;
  EXPECT_EQ(harness.composed().find("forbidden"), std::string::npos);
  EXPECT_EQ(fine.generation, 2u);
}

TEST(CollectorController, TheOperatorsOwnLayersAreOnlyWarnedAboutWhenARuleRefusesThem) {
  TempDir dir;
  ControllerHarness harness(
      CollectorKind::kReal, dir, testing::pipeline_config(dir),
      [](const std::string &) { return std::string("every config refused"); });
  // The local config is trusted: it runs although the rule refuses it.
  ASSERT_TRUE(harness.wait_notice(CollectorNoticeKind::kStarted, 1));
  // A module's layer is not.
  const ConfigChangeResult layered = harness.set_layer("x", "processors:\n  batch: {}\n");
  EXPECT_EQ(layered.status, Status::kVeto);
  EXPECT_EQ(layered.error, "every config refused");
}

TEST(CollectorController, TheCollectorsOwnValidateRefusesABadConfigAndTheOldOneKeepsRunning) {
  TempDir dir;
  ControllerHarness harness(CollectorKind::kReal, dir, testing::pipeline_config(dir));
  const auto started = harness.wait_notice(CollectorNoticeKind::kStarted, 1);
  ASSERT_TRUE(started);
  const ConfigChangeResult refused = harness.set_layer(
      "bad", "exporters:\n  debug:\n    verbosity_is_not_a_key: 1\n", /*validate=*/true);
  EXPECT_EQ(refused.status, Status::kVeto);
  EXPECT_NE(refused.error.find("verbosity_is_not_a_key"), std::string::npos) << refused.error;
  EXPECT_EQ(harness.state().pid, started->pid);
  EXPECT_EQ(harness.state().generation, 1u);

  const ConfigChangeResult good = harness.set_layer(
      "good", "exporters:\n  debug:\n    verbosity: detailed\n", /*validate=*/true);
  EXPECT_EQ(good.status, Status::kOk) << good.error;
  EXPECT_EQ(good.generation, 2u);
  // The validate files are gone.
  for (const auto &entry : std::filesystem::directory_iterator(dir.path()))
    EXPECT_EQ(entry.path().filename().string().rfind("validate-config-", 0), std::string::npos);
}

TEST(CollectorController, AnEmptyRemoteMapStopsTheCollectorAndARemoteLayerCannotCutItOff) {
  TempDir dir;
  ControllerHarness harness(CollectorKind::kReal, dir, testing::pipeline_config(dir));
  ASSERT_TRUE(harness.wait_notice(CollectorNoticeKind::kStarted, 1));

  const ConfigChangeResult empty = harness.set_remote(std::vector<modules::RemoteConfigFile>{});
  EXPECT_EQ(empty.status, Status::kOk);
  const auto exited = harness.wait_notice(CollectorNoticeKind::kExited, 1);
  ASSERT_TRUE(exited);
  EXPECT_NE(exited->message.find("stopped by the supervisor"), std::string::npos);
  EXPECT_FALSE(harness.state().running);

  // A remote file that redirects the extension and drops it from the service: the
  // supervisor's keys win and the Collector still reports to us.
  const std::size_t messages = harness.message_count();
  const ConfigChangeResult hostile = harness.set_remote(std::vector<modules::RemoteConfigFile>{
      {"",
       "extensions:\n  opamp:\n    server:\n      ws:\n        endpoint: ws://192.0.2.1:1/\n"
       "service:\n  extensions: []\n",
       "text/yaml"}});
  EXPECT_EQ(hostile.status, Status::kOk) << hostile.error;
  ASSERT_TRUE(harness.wait_notice(CollectorNoticeKind::kStarted, hostile.generation));
  EXPECT_TRUE(harness.wait_message(
      [](const auto &message) { return message.has_agent_description(); }, messages));
  EXPECT_EQ(harness.composed().find("192.0.2.1"), std::string::npos) << harness.composed();
}

TEST(CollectorController, RestartAndReportFullStateReachTheCollector) {
  TempDir dir;
  ControllerHarness harness(CollectorKind::kReal, dir, testing::pipeline_config(dir));
  const auto first = harness.wait_notice(CollectorNoticeKind::kHealthy, 1);
  ASSERT_TRUE(first);
  const std::size_t messages = harness.message_count();
  harness.on_loop([](CollectorController &controller) { controller.request_full_state(); });
  EXPECT_TRUE(harness.wait_message(
      [](const auto &message) { return message.has_agent_description(); }, messages));

  const std::size_t notices = harness.notice_count();
  bool restarted = false;
  harness.on_loop(
      [&](CollectorController &controller) { restarted = controller.restart_collector(); });
  EXPECT_TRUE(restarted);
  const auto again = harness.wait_notice(CollectorNoticeKind::kStarted, 1, notices);
  ASSERT_TRUE(again);
  EXPECT_NE(again->pid, first->pid);
  EXPECT_EQ(harness.state().restart_count, 0u) << "a requested restart is not a crash";
}

TEST(CollectorController, ACrashingCollectorIsReportedWithItsTailAndCounted) {
  TempDir dir;
  ControllerHarness harness(
      CollectorKind::kStandIn, dir,
      testing::stand_in_config(dir, "{exit_after: 300ms, exit_code: 4, crash_message: boom}"));
  const auto exited = harness.wait_notice(CollectorNoticeKind::kExited, 1);
  ASSERT_TRUE(exited);
  EXPECT_EQ(exited->exit_code, 4);
  EXPECT_NE(exited->message.find("exit code 4"), std::string::npos) << exited->message;
  EXPECT_NE(exited->message.find("boom"), std::string::npos) << exited->message;
  ASSERT_TRUE(harness.wait_notice(CollectorNoticeKind::kExited, 1, harness.notice_count()));
  EXPECT_GE(harness.state().restart_count, 2u);
}

TEST(CollectorController, ValidateRunsTheCollectorsValidateOffTheLoop) {
  TempDir dir;
  ControllerHarness harness(CollectorKind::kReal, dir, testing::pipeline_config(dir));
  testing::Recorder<modules::CollectorValidation> results;
  harness.on_loop([&](CollectorController &controller) {
    controller.validate_collector_config(
        read_file(dir.path() / "collector.yaml"),
        [&](const modules::CollectorValidation &result) { results.add(result); });
    controller.validate_collector_config(
        "receivers:\n  nosuchreceiver: {}\n",
        [&](const modules::CollectorValidation &result) { results.add(result); });
  });
  ASSERT_TRUE(results.wait_for([](const auto &) { return true; }, kDeadline, 1));
  const auto all = results.all();
  ASSERT_EQ(all.size(), 2u);
  int valid = 0;
  for (const auto &result : all) {
    if (result.valid) {
      ++valid;
      EXPECT_EQ(result.exit_code, 0);
    } else {
      EXPECT_NE(result.exit_code, 0);
      EXPECT_NE(result.message.find("nosuchreceiver"), std::string::npos) << result.message;
    }
  }
  EXPECT_EQ(valid, 1);
}

}  // namespace
}  // namespace opsup::collector
