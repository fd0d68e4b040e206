// ABI 1.3 under the SDK's fake host: the C++ helper's wrappers of the Collector and
// persistent-state services, and the fake's scripted Collector, recorded config changes,
// validate answer and state map, as a vendor would use them to unit-test a module.
#include <gtest/gtest.h>

#include <memory>
#include <opsup/module.hpp>
#include <opsup/testing/fake_host.hpp>

namespace {

using opsup::ConfigChangeResult;
using opsup::testing::FakeHost;

// Records what it sees; the tests drive its Host directly.
class CollectorUser : public opsup::Module {
 public:
  explicit CollectorUser(opsup::Host &host) : opsup::Module(host) { current = this; }
  ~CollectorUser() override { current = nullptr; }
  void on_event(const opsup::Event &event) override {
    events.emplace_back(event.kind, event.generation);
  }
  opsup::Host &services() { return host(); }

  static inline CollectorUser *current = nullptr;
  std::vector<std::pair<opsup_event_kind, uint64_t>> events;
};
class RemoteOwner : public CollectorUser {
 public:
  using CollectorUser::CollectorUser;
};

}  // namespace

// Two modules in one test binary: a plain one and the owner of AcceptsRemoteConfig, each
// with the entry OPSUP_DEFINE_MODULE would define, under its own name.
extern "C" opsup_status plain_entry(const opsup_host_info *host,
                                    const opsup_module_descriptor **out_descriptor) {
  static const opsup::ModuleInfo info{.id = "io.opsup.test.collector_user"};
  return opsup::detail::Adapter<CollectorUser>::entry(info, host, out_descriptor);
}
extern "C" opsup_status remote_owner_entry(const opsup_host_info *host,
                                           const opsup_module_descriptor **out_descriptor) {
  static const opsup::ModuleInfo info{
      .id = "io.opsup.test.remote_owner",
      .capabilities = OPSUP_CAP_ACCEPTS_REMOTE_CONFIG | OPSUP_CAP_REPORTS_REMOTE_CONFIG};
  return opsup::detail::Adapter<RemoteOwner>::entry(info, host, out_descriptor);
}

namespace {

class FakeCollector : public ::testing::Test {
 protected:
  void start(opsup_module_entry_fn entry) {
    ASSERT_EQ(host_.load(entry), OPSUP_OK);
    ASSERT_EQ(host_.create(), OPSUP_OK) << host_.last_error();
    ASSERT_EQ(host_.start(), OPSUP_OK);
    ASSERT_NE(CollectorUser::current, nullptr);
  }
  opsup::Host &services() { return CollectorUser::current->services(); }

  FakeHost host_;
};

TEST_F(FakeCollector, ALayerChangeStaysPendingUntilTheTestCompletesIt) {
  start(&plain_entry);
  std::vector<ConfigChangeResult> results;
  ASSERT_EQ(services().set_config_layer(
                "sampling", "processors: {probabilistic_sampler: {}}\n",
                [&](const ConfigChangeResult &result) { results.push_back(result); },
                OPSUP_CONFIG_VALIDATE),
            OPSUP_OK);
  EXPECT_TRUE(results.empty());  // never before the call returns
  ASSERT_EQ(host_.config_changes().size(), 1u);
  EXPECT_FALSE(host_.config_changes()[0].remote);
  EXPECT_EQ(host_.config_changes()[0].layer_name, "sampling");
  EXPECT_EQ(host_.config_changes()[0].flags, OPSUP_CONFIG_VALIDATE);
  EXPECT_EQ(host_.pending_config_changes(), 1u);
  EXPECT_TRUE(host_.config_layers().empty());

  host_.collector_state().latest_generation = 4;
  ASSERT_TRUE(host_.complete_config_change());
  ASSERT_EQ(results.size(), 1u);
  EXPECT_TRUE(results[0].ok());
  EXPECT_EQ(results[0].generation, 5u);
  EXPECT_EQ(host_.collector_state().latest_generation, 5u);
  EXPECT_EQ(host_.config_layers().at("sampling"), "processors: {probabilistic_sampler: {}}\n");

  // A refusal: the layers stay as they were, generation 0, the error reaches the module.
  ASSERT_EQ(services().remove_config_layer(
                "sampling", [&](const ConfigChangeResult &result) { results.push_back(result); }),
            OPSUP_OK);
  ASSERT_TRUE(host_.complete_config_change(OPSUP_ERR_VETO, 9, "policy says no"));
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[1].status, OPSUP_ERR_VETO);
  EXPECT_EQ(results[1].generation, 0u);
  EXPECT_EQ(results[1].error, "policy says no");
  EXPECT_EQ(host_.config_layers().size(), 1u);

  // Accepted with a chosen generation, and without a done callback.
  ASSERT_EQ(services().remove_config_layer("sampling"), OPSUP_OK);
  ASSERT_TRUE(host_.complete_config_change(OPSUP_OK, 42));
  EXPECT_TRUE(host_.config_layers().empty());
  EXPECT_EQ(host_.collector_state().latest_generation, 42u);
  EXPECT_FALSE(host_.complete_config_change());  // nothing pending
}

TEST_F(FakeCollector, BadNamesAndFlagsAreRefusedAndTheirDoneNeverRuns) {
  start(&plain_entry);
  int calls = 0;
  auto count = [&](const ConfigChangeResult &) { ++calls; };
  EXPECT_EQ(services().set_config_layer("", "a: 1\n", count), OPSUP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(services().set_config_layer("my layer", "a: 1\n", count), OPSUP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(services().set_config_layer("ok", "a: 1\n", count, 0x80), OPSUP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(host_.host_api().set_config_layer(host_.host_handle(), nullptr, "a: 1\n", 0, nullptr,
                                              nullptr),
            OPSUP_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(host_.logged("set_config_layer: bad layer name", OPSUP_LOG_ERROR));
  EXPECT_TRUE(host_.config_changes().empty());
  EXPECT_FALSE(host_.complete_config_change());
  EXPECT_EQ(calls, 0);
}

TEST_F(FakeCollector, DoneCallbacksAreDroppedOnceStoppedAndFreedWithTheModule) {
  start(&plain_entry);
  auto token = std::make_shared<int>(0);
  int calls = 0;
  ASSERT_EQ(services().set_config_layer("x", "a: 1\n",
                                        [&calls, token](const ConfigChangeResult &) { ++calls; }),
            OPSUP_OK);
  EXPECT_EQ(token.use_count(), 2);  // the Host keeps the callback
  host_.stop();
  EXPECT_EQ(services().set_config_layer("y", "a: 1\n"), OPSUP_ERR_FAILED);
  EXPECT_EQ(services().restart_collector(), OPSUP_ERR_FAILED);
  ASSERT_TRUE(host_.complete_config_change());  // the change still completes...
  EXPECT_EQ(host_.config_layers().count("x"), 1u);
  EXPECT_EQ(calls, 0);  // ...but the module hears nothing
  host_.destroy();
  EXPECT_EQ(token.use_count(), 1);  // freed with the instance
}

TEST_F(FakeCollector, OnlyTheRemoteConfigOwnerSetsTheRemoteConfig) {
  start(&plain_entry);
  const opsup::ConfigFile file{"base", "receivers: {}\n", "text/yaml"};
  EXPECT_EQ(services().set_remote_config({&file, 1}), OPSUP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(services().clear_remote_config(), OPSUP_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(host_.logged("only the module owning AcceptsRemoteConfig"));
  EXPECT_TRUE(host_.config_changes().empty());
}

TEST_F(FakeCollector, TheRemoteConfigOwnerSetsClearsAndEmptiesIt) {
  start(&remote_owner_entry);
  const std::vector<opsup::ConfigFile> files = {{"base", "receivers: {}\n", "text/yaml"},
                                                {"", "exporters: {}\n", ""}};
  std::vector<ConfigChangeResult> results;
  auto record = [&](const ConfigChangeResult &result) { results.push_back(result); };
  ASSERT_EQ(services().set_remote_config(files, record, OPSUP_CONFIG_VALIDATE), OPSUP_OK);
  ASSERT_TRUE(host_.complete_config_change(OPSUP_OK, 7));
  ASSERT_TRUE(host_.remote_config());
  const std::vector<FakeHost::RemoteFile> expected = {{"base", "receivers: {}\n", "text/yaml"},
                                                      {"", "exporters: {}\n", ""}};
  EXPECT_EQ(*host_.remote_config(), expected);
  EXPECT_EQ(host_.config_changes()[0].flags, OPSUP_CONFIG_VALIDATE);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].generation, 7u);

  // An empty config map ("do not run the Collector") differs from no remote config.
  ASSERT_EQ(services().set_remote_config({}, record), OPSUP_OK);
  ASSERT_TRUE(host_.complete_config_change());
  ASSERT_TRUE(host_.remote_config());
  EXPECT_TRUE(host_.remote_config()->empty());
  ASSERT_EQ(services().clear_remote_config(record), OPSUP_OK);
  EXPECT_EQ(host_.config_changes().back().flags, OPSUP_REMOTE_CONFIG_CLEAR);
  ASSERT_TRUE(host_.complete_config_change());
  EXPECT_FALSE(host_.remote_config());
  EXPECT_EQ(results.size(), 3u);
}

TEST_F(FakeCollector, CollectorStateIsScripted) {
  start(&plain_entry);
  auto &state = host_.collector_state();
  state.running = true;
  state.pid = 321;
  state.health = OPSUP_COLLECTOR_HEALTH_UNHEALTHY;
  state.generation = 2;
  state.latest_generation = 3;
  state.restart_count = 1;
  state.start_time_unix_nano = 99;
  state.last_error = "exporter otlp: connection refused";
  opsup::CollectorState read;
  ASSERT_EQ(services().collector_state(read), OPSUP_OK);
  EXPECT_TRUE(read.running);
  EXPECT_EQ(read.pid, 321);
  EXPECT_EQ(read.health, opsup::CollectorHealth::kUnhealthy);
  EXPECT_EQ(read.generation, 2u);
  EXPECT_EQ(read.latest_generation, 3u);
  EXPECT_EQ(read.restart_count, 1u);
  EXPECT_EQ(read.start_time_unix_nano, 99u);
  EXPECT_EQ(read.last_error, "exporter otlp: connection refused");

  // A caller built against a smaller struct gets only what it holds.
  opsup_collector_state small{};
  small.struct_size = offsetof(opsup_collector_state, latest_generation);
  small.latest_generation = 12345;
  ASSERT_EQ(host_.host_api().collector_state(host_.host_handle(), &small), OPSUP_OK);
  EXPECT_EQ(small.struct_size, offsetof(opsup_collector_state, latest_generation));
  EXPECT_EQ(small.generation, 2u);
  EXPECT_EQ(small.latest_generation, 12345u);
}

TEST_F(FakeCollector, ComposedConfigRestartAndValidate) {
  start(&plain_entry);
  std::string config;
  EXPECT_EQ(services().composed_config(config), OPSUP_ERR_NOT_FOUND);
  EXPECT_EQ(services().restart_collector(), OPSUP_ERR_NOT_FOUND);
  host_.set_composed_config("receivers: {otlp: {}}\n");
  ASSERT_EQ(services().composed_config(config), OPSUP_OK);
  EXPECT_EQ(config, "receivers: {otlp: {}}\n");
  EXPECT_EQ(services().restart_collector(), OPSUP_OK);
  EXPECT_EQ(host_.restart_requests(), 1u);

  host_.set_validate_answer(false, 1, "unknown component: foo");
  std::optional<opsup::CollectorValidation> answer;
  ASSERT_EQ(services().validate_collector_config(
                "receivers: {foo: {}}\n",
                [&](const opsup::CollectorValidation &result) { answer = result; }),
            OPSUP_OK);
  EXPECT_FALSE(answer);  // runs on the loop, after the call
  EXPECT_EQ(host_.run_ready(), 1u);
  ASSERT_TRUE(answer);
  EXPECT_FALSE(answer->valid);
  EXPECT_EQ(answer->exit_code, 1);
  EXPECT_EQ(answer->message, "unknown component: foo");
  EXPECT_EQ(host_.validated_configs(), std::vector<std::string>{"receivers: {foo: {}}\n"});
}

TEST_F(FakeCollector, WithoutACollectorEveryCollectorServiceIsUnsupported) {
  host_.set_collector_available(false);
  start(&remote_owner_entry);
  opsup::CollectorState state;
  std::string text;
  EXPECT_EQ(services().set_config_layer("x", "a: 1\n"), OPSUP_ERR_UNSUPPORTED);
  EXPECT_EQ(services().clear_remote_config(), OPSUP_ERR_UNSUPPORTED);
  EXPECT_EQ(services().collector_state(state), OPSUP_ERR_UNSUPPORTED);
  EXPECT_EQ(services().composed_config(text), OPSUP_ERR_UNSUPPORTED);
  EXPECT_EQ(services().restart_collector(), OPSUP_ERR_UNSUPPORTED);
  EXPECT_EQ(services().validate_collector_config("a: 1\n", [](const auto &) {}),
            OPSUP_ERR_UNSUPPORTED);
  // The state services do not need the Collector.
  EXPECT_EQ(services().state_write("k", "1"), OPSUP_OK);
  host_.set_persistent_state_available(false);
  EXPECT_EQ(services().state_write("k", "1"), OPSUP_ERR_UNSUPPORTED);
  EXPECT_EQ(services().state_read("k", text), OPSUP_ERR_UNSUPPORTED);
}

TEST_F(FakeCollector, PersistentStateFollowsTheOwnerRules) {
  host_.set_instance_uid({0x01, 0x90, 0xf1, 0xa8, 0x6b, 0x1c, 0x7c, 0x3e, 0x9d, 0x1f, 0x2b, 0x5c,
                          0x4e, 0x6a, 0x7f, 0x80});
  host_.persistent_state()["preloaded"] = "{a: 1}\n";
  start(&plain_entry);
  std::string value;
  ASSERT_EQ(services().state_read("preloaded", value), OPSUP_OK);
  EXPECT_EQ(value, "{a: 1}\n");
  EXPECT_EQ(services().state_read("absent", value), OPSUP_ERR_NOT_FOUND);
  ASSERT_EQ(services().state_write("count", "3"), OPSUP_OK);
  EXPECT_EQ(host_.persistent_state().at("count"), "3");
  ASSERT_EQ(services().state_remove("count"), OPSUP_OK);
  EXPECT_EQ(host_.persistent_state().count("count"), 0u);
  EXPECT_EQ(services().state_write("bad key", "1"), OPSUP_ERR_INVALID_ARGUMENT);

  ASSERT_EQ(services().state_read("instance_id", value), OPSUP_OK);
  EXPECT_EQ(value, "\"0190f1a8-6b1c-7c3e-9d1f-2b5c4e6a7f80\"\n");
  EXPECT_EQ(services().state_write("instance_id", "x"), OPSUP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(services().state_write("last_remote_config_status", "{status: 1}"),
            OPSUP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(services().state_read("last_remote_config_status", value), OPSUP_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(host_.logged("belongs to the module owning AcceptsRemoteConfig"));
}

TEST_F(FakeCollector, TheRemoteConfigOwnerKeepsItsStatus) {
  start(&remote_owner_entry);
  ASSERT_EQ(services().state_write("last_remote_config_status", "{status: 1}"), OPSUP_OK);
  std::string value;
  ASSERT_EQ(services().state_read("last_remote_config_status", value), OPSUP_OK);
  EXPECT_EQ(value, "{status: 1}");
}

TEST_F(FakeCollector, EventsCarryTheirGeneration) {
  start(&plain_entry);
  host_.deliver_event(OPSUP_EVENT_COLLECTOR_STARTED, "", 77, 0, 6);
  host_.deliver_event(OPSUP_EVENT_SERVER_CONNECTED);
  const std::vector<std::pair<opsup_event_kind, uint64_t>> expected = {
      {OPSUP_EVENT_COLLECTOR_STARTED, 6}, {OPSUP_EVENT_SERVER_CONNECTED, 0}};
  EXPECT_EQ(CollectorUser::current->events, expected);
}

opsup_status never_set_config_layer(opsup_host *, const char *, const char *, uint32_t,
                                    opsup_config_done, void *) {
  ADD_FAILURE() << "set_config_layer called beyond the table's size";
  return OPSUP_OK;
}

TEST(HostWrapper, CollectorServicesOfAMinorTwoHostAreUnsupportedAndNotCalled) {
  opsup_host_api table{};
  table.struct_size = offsetof(opsup_host_api, set_config_layer);
  table.abi_minor = 2;
  table.set_config_layer = &never_set_config_layer;  // present in memory, absent by size
  opsup::Host host(nullptr, &table);
  opsup::CollectorState state;
  std::string text;
  int calls = 0;
  EXPECT_EQ(host.set_config_layer("x", "a: 1\n", [&](const ConfigChangeResult &) { ++calls; }),
            OPSUP_ERR_UNSUPPORTED);
  EXPECT_EQ(host.remove_config_layer("x"), OPSUP_ERR_UNSUPPORTED);
  EXPECT_EQ(host.set_remote_config({}), OPSUP_ERR_UNSUPPORTED);
  EXPECT_EQ(host.collector_state(state), OPSUP_ERR_UNSUPPORTED);
  EXPECT_EQ(host.composed_config(text), OPSUP_ERR_UNSUPPORTED);
  EXPECT_EQ(host.restart_collector(), OPSUP_ERR_UNSUPPORTED);
  EXPECT_EQ(host.validate_collector_config("a: 1\n", [](const auto &) {}), OPSUP_ERR_UNSUPPORTED);
  EXPECT_EQ(host.state_read("k", text), OPSUP_ERR_UNSUPPORTED);
  EXPECT_EQ(host.state_write("k", "1"), OPSUP_ERR_UNSUPPORTED);
  EXPECT_EQ(calls, 0);
}

TEST(EventWrapper, AMinorTwoEventHasNoGeneration) {
  opsup_event raw{};
  raw.struct_size = offsetof(opsup_event, generation);
  raw.kind = OPSUP_EVENT_COLLECTOR_HEALTHY;
  raw.message = "";
  raw.generation = 8;  // beyond the sender's size
  EXPECT_EQ(opsup::Event::from(raw).generation, 0u);
  raw.struct_size = sizeof raw;
  EXPECT_EQ(opsup::Event::from(raw).generation, 8u);
}

}  // namespace
