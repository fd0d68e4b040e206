// The ABI 1.3 services through the real loader and host, with real modules (the C++
// helper's wrappers in collector_peer.cpp, a module built against minor 1) and a fake
// CollectorAccess standing in for the supervisor's Collector side.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <deque>
#include <optional>

#include "common/uuid.hpp"
#include "module_test_support.hpp"
#include "modules/collector_access.hpp"
#include "modules/module_registry.hpp"
#include "opamp.pb.h"
#include "storage/persistent_state.hpp"

namespace opsup::modules {
namespace {

using opsup::test::install_module;
using opsup::test::LogCapture;
using opsup::test::RecordingContext;
using opsup::test::run_until;
using opsup::test::TempDir;
using opsup::test::test_module;

constexpr const char *kA = "io.opsup.test.collector_a";  // owns AcceptsRemoteConfig
constexpr const char *kB = "io.opsup.test.collector_b";  // owns nothing

// Records what the module host asks; the test decides when and how changes complete.
class FakeCollectorAccess : public CollectorAccess {
 public:
  struct LayerCall {
    std::string module_id;
    std::string layer_name;
    std::optional<std::string> yaml;
    bool validate = false;
  };
  struct RemoteCall {
    std::optional<std::vector<RemoteConfigFile>> files;
    bool validate = false;
  };

  void set_config_layer(std::string_view module_id, std::string_view layer_name,
                        std::optional<std::string> yaml, ConfigChangeOptions options,
                        ChangeDone done) override {
    layer_calls.push_back(LayerCall{std::string(module_id), std::string(layer_name),
                                    std::move(yaml), options.validate_with_collector});
    queue(std::move(done));
  }
  void set_remote_config(std::optional<std::vector<RemoteConfigFile>> files,
                         ConfigChangeOptions options, ChangeDone done) override {
    remote_calls.push_back(RemoteCall{std::move(files), options.validate_with_collector});
    queue(std::move(done));
  }
  CollectorStateView collector_state() const override { return state; }
  std::optional<std::string> composed_config() const override { return composed; }
  bool restart_collector() override {
    if (!composed)
      return false;
    ++restarts;
    return true;
  }
  void validate_collector_config(std::string config_yaml,
                                 std::function<void(const CollectorValidation &)> done) override {
    validated.push_back(std::move(config_yaml));
    pending_validations.push_back(std::move(done));
  }

  // Completes the oldest pending change.
  void complete(ConfigChangeResult result) {
    ASSERT_FALSE(pending.empty());
    ChangeDone done = std::move(pending.front());
    pending.pop_front();
    done(result);
  }

  std::vector<LayerCall> layer_calls;
  std::vector<RemoteCall> remote_calls;
  std::deque<ChangeDone> pending;
  // Breaks the contract on purpose: answers inside the call.
  std::optional<ConfigChangeResult> answer_at_once;
  CollectorStateView state;
  std::optional<std::string> composed;
  int restarts = 0;
  std::vector<std::string> validated;
  std::deque<std::function<void(const CollectorValidation &)>> pending_validations;

 private:
  void queue(ChangeDone done) {
    if (answer_at_once) {
      done(*answer_at_once);
    } else {
      pending.push_back(std::move(done));
    }
  }
};

ConfigChangeResult result(ConfigChangeResult::Status status, uint64_t generation,
                          std::string error = "") {
  ConfigChangeResult r;
  r.status = status;
  r.generation = generation;
  r.error = std::move(error);
  return r;
}

class CollectorServices : public ::testing::Test {
 protected:
  CollectorServices() : context_(storage_.path()) {}

  ModuleRegistry &load_and_start(const std::vector<std::string> &files, bool with_access = true) {
    for (const std::string &file : files)
      install_module(test_module(file), modules_dir_.path(), file);
    registry_.emplace(io_, context_, ModulesConfig{modules_dir_.path(), {}, "test-host"});
    if (with_access)
      registry_->set_collector_access(&access_);
    registry_->load();
    EXPECT_TRUE(registry_->create("plugins:\n  io.opsup.test.minor1: {greeting: hi}\n").empty());
    EXPECT_TRUE(registry_->start().empty());
    for (const ModuleListing &entry : registry_->listing())
      EXPECT_EQ(entry.state, ModuleState::kStarted) << entry.path << ": " << entry.reason;
    return *registry_;
  }

  // Sends a custom message of `module`'s capability to it.
  void ask(const std::string &module, const std::string &type, const std::string &data = "") {
    opamp::proto::v1::ServerToAgent message;
    message.set_instance_uid(std::string(16, 'u'));
    auto *custom = message.mutable_custom_message();
    custom->set_capability(module);
    custom->set_type(type);
    custom->set_data(data);
    EXPECT_EQ(registry_->route_server_message(message.SerializeAsString(), 0),
              std::vector<std::string>{module});
  }

  // What `module` answered (or logged: answers after stop cannot be sent), oldest first,
  // as "type:data".
  std::vector<std::string> answers(const std::string &module) const {
    std::vector<std::string> found;
    const std::string prefix = "collector_peer " + module + " ";
    for (const std::string &line : logs_.lines()) {
      const size_t at = line.find(prefix);
      if (at != std::string::npos)
        found.push_back(line.substr(at + prefix.size()));
    }
    return found;
  }
  bool answered(const std::string &module, const std::string &answer) const {
    const auto found = answers(module);
    return std::find(found.begin(), found.end(), answer) != found.end();
  }
  // The last answer of `module` starting with "type:".
  std::string last(const std::string &module, const std::string &type) const {
    const auto found = answers(module);
    for (auto it = found.rbegin(); it != found.rend(); ++it) {
      if (it->starts_with(type + ":"))
        return it->substr(type.size() + 1);
    }
    return "<none>";
  }
  void run_loop() {
    io_.restart();
    io_.poll();
  }

  LogCapture logs_;
  TempDir modules_dir_;
  TempDir storage_;
  boost::asio::io_context io_;
  RecordingContext context_;
  FakeCollectorAccess access_;
  std::optional<ModuleRegistry> registry_;
};

const std::string kOk = std::to_string(OPSUP_OK);
const std::string kInvalid = std::to_string(OPSUP_ERR_INVALID_ARGUMENT);
const std::string kFailed = std::to_string(OPSUP_ERR_FAILED);
const std::string kUnsupported = std::to_string(OPSUP_ERR_UNSUPPORTED);
const std::string kNotFound = std::to_string(OPSUP_ERR_NOT_FOUND);
const std::string kVeto = std::to_string(OPSUP_ERR_VETO);

TEST_F(CollectorServices, WithoutCollectorAccessOrStateTheServicesAreUnsupported) {
  load_and_start({"collector_a.so"}, /*with_access=*/false);
  ask(kA, "layer", "extra|0|receivers: {}\n");
  ask(kA, "remote", "0");
  ask(kA, "state");
  ask(kA, "composed");
  ask(kA, "restart");
  ask(kA, "validate", "receivers: {}\n");
  ask(kA, "state-read", "count");
  ask(kA, "state-write", "count|1");
  for (const char *type : {"layer", "remote", "state", "restart", "validate", "state-write"})
    EXPECT_EQ(last(kA, type), kUnsupported) << type;
  EXPECT_EQ(last(kA, "composed"), kUnsupported + " ");
  EXPECT_EQ(last(kA, "state-read"), kUnsupported + " ");
  // The module is built against the header's newest minor and loads.
  EXPECT_EQ(registry_->listing()[0].abi_minor, uint32_t{OPSUP_HEADER_ABI_MINOR});
}

TEST_F(CollectorServices, LayersArePerModuleAndDoneRunsAfterTheCallReturned) {
  load_and_start({"collector_a.so", "collector_b.so"});
  ask(kA, "layer", "extra|" + std::to_string(OPSUP_CONFIG_VALIDATE) + "|exporters: {debug: {}}\n");
  ask(kB, "layer", "extra|0|processors: {batch: {}}\n");
  EXPECT_EQ(last(kA, "layer"), kOk);
  EXPECT_EQ(last(kB, "layer"), kOk);
  ASSERT_EQ(access_.layer_calls.size(), 2u);
  EXPECT_EQ(access_.layer_calls[0].module_id, kA);
  EXPECT_EQ(access_.layer_calls[0].layer_name, "extra");
  EXPECT_EQ(access_.layer_calls[0].yaml, "exporters: {debug: {}}\n");
  EXPECT_TRUE(access_.layer_calls[0].validate);
  EXPECT_EQ(access_.layer_calls[1].module_id, kB);
  EXPECT_EQ(access_.layer_calls[1].layer_name, "extra");
  EXPECT_FALSE(access_.layer_calls[1].validate);
  EXPECT_EQ(last(kA, "done"), "<none>");

  access_.complete(result(ConfigChangeResult::Status::kOk, 5));
  access_.complete(result(ConfigChangeResult::Status::kVeto, 99, "policy: no batch"));
  EXPECT_EQ(last(kA, "done"), "extra " + kOk + " 5 after-call ");
  // A refusal carries generation 0 whatever the access said, and the reason.
  EXPECT_EQ(last(kB, "done"), "extra " + kVeto + " 0 after-call policy: no batch");

  ask(kA, "remove-layer", "extra");
  ASSERT_EQ(access_.layer_calls.size(), 3u);
  EXPECT_EQ(access_.layer_calls[2].yaml, std::nullopt);
  access_.complete(result(ConfigChangeResult::Status::kInvalid, 0, "line 1: not a map"));
  EXPECT_EQ(last(kA, "done"), "extra " + kInvalid + " 0 after-call line 1: not a map");
  ask(kA, "remove-layer", "extra");
  access_.complete(result(ConfigChangeResult::Status::kFailed, 0, "stopping"));
  EXPECT_EQ(last(kA, "done"), "extra " + kFailed + " 0 after-call stopping");
}

TEST_F(CollectorServices, DoneNeverRunsInsideTheCallEvenWhenTheCollectorAnswersAtOnce) {
  load_and_start({"collector_a.so"});
  access_.answer_at_once = result(ConfigChangeResult::Status::kOk, 3);
  ask(kA, "layer", "now|0|receivers: {}\n");
  EXPECT_EQ(last(kA, "layer"), kOk);
  EXPECT_EQ(last(kA, "done"), "<none>");  // posted, not run inside the call
  run_loop();
  EXPECT_EQ(last(kA, "done"), "now " + kOk + " 3 after-call ");
}

TEST_F(CollectorServices, BadLayerNamesAndFlagsAreRefusedAndLogged) {
  load_and_start({"collector_a.so"});
  ask(kA, "layer", "two words|0|a: 1\n");
  EXPECT_EQ(last(kA, "layer"), kInvalid);
  EXPECT_TRUE(logs_.contains("layer name \"two words\" has a character outside [A-Za-z0-9_.-]"))
      << logs_.all();
  ask(kA, "layer", "|0|a: 1\n");
  EXPECT_EQ(last(kA, "layer"), kInvalid);
  EXPECT_TRUE(logs_.contains("layer name is empty"));
  ask(kA, "null-layer");
  EXPECT_EQ(last(kA, "null-layer"), kInvalid);
  EXPECT_TRUE(logs_.contains("layer name is NULL"));
  ask(kA, "layer", "ok|" + std::to_string(OPSUP_REMOTE_CONFIG_CLEAR) + "|a: 1\n");
  EXPECT_EQ(last(kA, "layer"), kInvalid);
  EXPECT_TRUE(logs_.contains("unknown flags 0x2"));
  EXPECT_TRUE(access_.layer_calls.empty());
  run_loop();
  EXPECT_EQ(last(kA, "done"), "<none>");
}

TEST_F(CollectorServices, OnlyTheRemoteConfigOwnerSetsTheRemoteConfig) {
  load_and_start({"collector_a.so", "collector_b.so"});
  ask(kB, "remote", "0");
  EXPECT_EQ(last(kB, "remote"), kInvalid);
  EXPECT_TRUE(
      logs_.contains("module io.opsup.test.collector_b: set_remote_config: only the "
                     "module owning AcceptsRemoteConfig may set the remote config"))
      << logs_.all();
  EXPECT_TRUE(access_.remote_calls.empty());

  ask(kA, "remote", std::to_string(OPSUP_CONFIG_VALIDATE));
  EXPECT_EQ(last(kA, "remote"), kOk);
  ASSERT_EQ(access_.remote_calls.size(), 1u);
  EXPECT_TRUE(access_.remote_calls[0].validate);
  ASSERT_TRUE(access_.remote_calls[0].files);
  const auto &files = *access_.remote_calls[0].files;
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].name, "base");
  EXPECT_EQ(files[0].body, "receivers: {}\n");
  EXPECT_EQ(files[0].content_type, "text/yaml");
  EXPECT_EQ(files[1].name, "");
  EXPECT_EQ(files[1].body, "exporters: {}\n");
  access_.complete(result(ConfigChangeResult::Status::kOk, 8));
  EXPECT_EQ(last(kA, "done"), "remote " + kOk + " 8 after-call ");

  // A received empty config map, then no remote config at all.
  ask(kA, "remote-empty");
  ask(kA, "remote-clear");
  ASSERT_EQ(access_.remote_calls.size(), 3u);
  ASSERT_TRUE(access_.remote_calls[1].files);
  EXPECT_TRUE(access_.remote_calls[1].files->empty());
  EXPECT_FALSE(access_.remote_calls[2].files);
  EXPECT_FALSE(access_.remote_calls[2].validate);
}

TEST_F(CollectorServices, DoneCallbacksAreDroppedOnceTheModuleIsStopped) {
  load_and_start({"collector_a.so"});
  ask(kA, "layer", "pending|0|a: 1\n");
  ask(kA, "validate", "receivers: {}\n");
  access_.composed = "receivers: {}\n";
  registry_->stop();
  // Once stopped, new changes and restarts are refused (the module's destroy hook tried).
  EXPECT_TRUE(answered(kA, "destroy-layer:" + kFailed)) << logs_.all();
  EXPECT_TRUE(answered(kA, "destroy-restart:" + kFailed));
  EXPECT_EQ(access_.layer_calls.size(), 1u);
  EXPECT_EQ(access_.restarts, 0);
  // The Collector side may still answer; the module never hears of it.
  access_.complete(result(ConfigChangeResult::Status::kOk, 2));
  CollectorValidation validation;
  validation.valid = true;
  access_.pending_validations.front()(validation);
  run_loop();
  EXPECT_EQ(last(kA, "done"), "<none>");
  EXPECT_EQ(last(kA, "validate-done"), "<none>");
}

TEST_F(CollectorServices, StateComposedConfigRestartAndValidate) {
  load_and_start({"collector_a.so"});
  access_.state.running = true;
  access_.state.pid = 4242;
  access_.state.health = CollectorHealth::kUnhealthy;
  access_.state.last_error = "exporter otlp: connection refused";
  access_.state.generation = 4;
  access_.state.latest_generation = 5;
  access_.state.restart_count = 2;
  access_.state.start_time_unix_nano = 1700000000000000000ull;
  ask(kA, "state");
  EXPECT_EQ(last(kA, "state"),
            "1 4242 2 4 5 2 1700000000000000000 exporter otlp: connection refused");

  ask(kA, "composed");
  EXPECT_EQ(last(kA, "composed"), kNotFound + " ");
  ask(kA, "restart");
  EXPECT_EQ(last(kA, "restart"), kNotFound);
  access_.composed = "receivers: {otlp: {}}\n";
  ask(kA, "composed");
  EXPECT_EQ(last(kA, "composed"), kOk + " receivers: {otlp: {}}\n");
  ask(kA, "restart");
  EXPECT_EQ(last(kA, "restart"), kOk);
  EXPECT_EQ(access_.restarts, 1);
  EXPECT_TRUE(logs_.contains("module io.opsup.test.collector_a restarted the Collector"));

  ask(kA, "validate", "receivers: {foo: {}}\n");
  EXPECT_EQ(last(kA, "validate"), kOk);
  EXPECT_EQ(access_.validated, std::vector<std::string>{"receivers: {foo: {}}\n"});
  CollectorValidation validation;
  validation.valid = false;
  validation.exit_code = 1;
  validation.message = "unknown type: \"foo\"";
  access_.pending_validations.front()(validation);
  // Answered inside the call it was not, so it runs at once, on this (the loop) thread.
  EXPECT_EQ(last(kA, "validate-done"), "0 1 after-call unknown type: \"foo\"");
}

TEST_F(CollectorServices, EventsCarryTheGenerationAndAMinorOneModuleStillGetsThem) {
  load_and_start({"collector_a.so", "minor1.so"});
  const auto listing = registry_->listing();
  ASSERT_EQ(listing.size(), 2u);
  EXPECT_EQ(listing[0].abi_minor, uint32_t{OPSUP_HEADER_ABI_MINOR});  // collector_a.so
  EXPECT_EQ(listing[1].abi_minor, 1u);                                // minor1.so
  EXPECT_TRUE(logs_.contains("minor1 created on host minor " +
                             std::to_string(OPSUP_HEADER_ABI_MINOR) +
                             " with settings \"greeting: hi"))
      << logs_.all();

  opsup_event event{};
  event.struct_size = sizeof event;
  event.kind = OPSUP_EVENT_COLLECTOR_HEALTHY;
  event.pid = 77;
  event.message = "ok";
  event.generation = 9;
  registry_->publish_event(event);
  EXPECT_EQ(last(kA, "event"), std::to_string(OPSUP_EVENT_COLLECTOR_HEALTHY) + " 9");
  EXPECT_TRUE(logs_.contains("minor1 event 3 pid 77 message \"ok\" struct_size " +
                             std::to_string(sizeof(opsup_event))))
      << logs_.all();

  // A caller built before minor 3 leaves generation out: modules read 0.
  opsup_event old_event{};
  old_event.struct_size = offsetof(opsup_event, generation);
  old_event.kind = OPSUP_EVENT_COLLECTOR_STARTED;
  registry_->publish_event(old_event);
  EXPECT_EQ(last(kA, "event"), std::to_string(OPSUP_EVENT_COLLECTOR_STARTED) + " 0");

  // The minor-3 module's services work beside the minor-1 one.
  ask(kA, "layer", "side|0|a: 1\n");
  EXPECT_EQ(last(kA, "layer"), kOk);
}

class CollectorServicesWithState : public CollectorServices {
 protected:
  void SetUp() override {
    state_ = storage::PersistentState::load_or_create(state_dir_.path());
    context_.persistent_state_ = state_.get();
  }
  YAML::Node file() const {
    return YAML::LoadFile((state_dir_.path() / "persistent_state.yaml").string());
  }
  TempDir state_dir_;
  std::unique_ptr<storage::PersistentState> state_;
};

TEST_F(CollectorServicesWithState, ModuleKeysLiveUnderModulesById) {
  load_and_start({"collector_a.so", "collector_b.so"});
  ask(kA, "state-write", "count|3");
  ask(kB, "state-write", "count|{n: 4}");
  EXPECT_EQ(last(kA, "state-write"), kOk);
  EXPECT_EQ(last(kB, "state-write"), kOk);
  const YAML::Node written = file();
  EXPECT_EQ(written["modules"][kA]["count"].as<int>(), 3);
  EXPECT_EQ(written["modules"][kB]["count"]["n"].as<int>(), 4);
  ask(kA, "state-read", "count");
  EXPECT_EQ(last(kA, "state-read"), kOk + " 3\n");
  ask(kA, "state-read", "absent");
  EXPECT_EQ(last(kA, "state-read"), kNotFound + " ");
  ask(kA, "state-remove", "count");
  EXPECT_EQ(last(kA, "state-remove"), kOk);
  EXPECT_FALSE(file()["modules"][kA]);
  ask(kA, "state-write", "bad key|1");
  EXPECT_EQ(last(kA, "state-write"), kInvalid);
  ask(kA, "state-write", "k|{unclosed: [");
  EXPECT_EQ(last(kA, "state-write"), kInvalid);
  EXPECT_TRUE(logs_.contains("state_write: the value of state key k is not valid YAML"))
      << logs_.all();
}

TEST_F(CollectorServicesWithState, LastRemoteConfigStatusIsTheOwnersInTheUpstreamFormat) {
  load_and_start({"collector_a.so", "collector_b.so"});
  ask(kA, "state-write",
      "last_remote_config_status|{status: 2, last_remote_config_hash: \"0a0b\", "
      "error_message: applying}");
  EXPECT_EQ(last(kA, "state-write"), kOk);
  const YAML::Node top = file()["last_remote_config_status"];
  EXPECT_EQ(top["status"].as<int>(), 2);
  EXPECT_EQ(top["last_remote_config_hash"].as<std::string>(), "0a0b");
  EXPECT_EQ(top["error_message"].as<std::string>(), "applying");
  ASSERT_TRUE(state_->last_remote_config_status());
  EXPECT_EQ(state_->last_remote_config_status()->last_remote_config_hash, "\x0a\x0b");

  ask(kA, "state-read", "last_remote_config_status");
  const std::string read = last(kA, "state-read");
  ASSERT_TRUE(read.starts_with(kOk + " ")) << read;
  const YAML::Node node = YAML::Load(read.substr(kOk.size() + 1));
  EXPECT_EQ(node["status"].as<int>(), 2);
  EXPECT_EQ(node["last_remote_config_hash"].as<std::string>(), "0a0b");

  ask(kA, "state-write", "last_remote_config_status|{status: 9}");
  EXPECT_EQ(last(kA, "state-write"), kInvalid);
  EXPECT_EQ(state_->last_remote_config_status()->status, 2);

  // Not for a module owning neither remote config capability.
  ask(kB, "state-read", "last_remote_config_status");
  EXPECT_EQ(last(kB, "state-read"), kInvalid + " ");
  ask(kB, "state-write", "last_remote_config_status|{status: 1}");
  EXPECT_EQ(last(kB, "state-write"), kInvalid);
  EXPECT_TRUE(
      logs_.contains("module io.opsup.test.collector_b: state_write: state key "
                     "last_remote_config_status belongs to the module owning "
                     "AcceptsRemoteConfig or ReportsRemoteConfig"))
      << logs_.all();
}

TEST_F(CollectorServicesWithState, InstanceIdIsNeverWritable) {
  load_and_start({"collector_a.so"});
  const auto before = state_->instance_id();
  ask(kA, "state-write", "instance_id|0190f1a8-6b1c-7c3e-9d1f-2b5c4e6a7f80");
  EXPECT_EQ(last(kA, "state-write"), kInvalid);
  ask(kA, "state-remove", "instance_id");
  EXPECT_EQ(last(kA, "state-remove"), kInvalid);
  EXPECT_TRUE(logs_.contains("state key instance_id is not writable"));
  EXPECT_EQ(state_->instance_id(), before);
  ask(kA, "state-read", "instance_id");
  const std::string read = last(kA, "state-read");
  ASSERT_TRUE(read.starts_with(kOk + " ")) << read;
  EXPECT_EQ(YAML::Load(read.substr(kOk.size() + 1)).as<std::string>(), common::format_uuid(before));
}

}  // namespace
}  // namespace opsup::modules
