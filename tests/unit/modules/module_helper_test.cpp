// opsup/module.hpp under the fake host: the macro's descriptor, exceptions stopping at
// the ABI boundary, and the Host wrappers (timers, posts, blocking work, storage, the
// OPSUP_HOST_HAS checks).
#include <gtest/gtest.h>

#include <memory>
#include <opsup/module.hpp>
#include <opsup/testing/fake_host.hpp>
#include <thread>

namespace {

using namespace std::chrono_literals;

class HelperModule : public opsup::Module {
 public:
  HelperModule(opsup::Host &host, std::string_view supervisor_config_yaml) : opsup::Module(host) {
    if (supervisor_config_yaml.find("bad_key") != std::string_view::npos) {
      throw opsup::ConfigError("plugins.io.opsup.test.helper.bad_key: not allowed");
    }
    if (supervisor_config_yaml.find("explode") != std::string_view::npos) {
      throw std::runtime_error("constructor exploded");
    }
    settings = std::string(host.own_settings_yaml());
    // ABI 1.2 settings: absent ones keep the defaults; a wrong type throws ConfigError.
    limit = host.setting_int("limit").value_or(-1);
    verbose = host.setting_bool("verbose").value_or(false);
    every = host.setting_duration("every").value_or(0ms);
    name = host.setting_string("name").value_or("none");
    tags = host.setting_list("tags").value_or(std::vector<std::string>{});
    current = this;
  }
  ~HelperModule() override { current = nullptr; }

  void start() override {
    if (fail_start)
      throw opsup::StatusError(OPSUP_ERR_UNSUPPORTED, "cannot start here");
  }

  void on_server_message(std::string_view bytes) override {
    const std::string command(bytes);
    if (command == "throw")
      throw std::runtime_error("boom in hook");
    if (command == "throw-int")
      throw 42;
    if (command == "timer")
      host().start_timer(100ms, [this] { fired.push_back("timer"); });
    if (command == "timer-cancel") {
      const auto id = host().start_timer(50ms, [this] { fired.push_back("cancelled"); });
      host().cancel_timer(id);
    }
    if (command == "timer-throw") {
      host().start_timer(10ms, [] { throw std::runtime_error("timer threw"); });
    }
    if (command == "blocking") {
      host().run_blocking([this] { worker = std::this_thread::get_id(); },
                          [this] { fired.push_back("done"); });
    }
    if (command == "post-from-thread") {
      std::thread([this] { host().post([this] { fired.push_back("posted"); }); }).join();
    }
    if (command == "pending") {
      host().start_timer(1h, [token = token] { (void)token; });
      host().run_blocking([token = token] { (void)token; }, [token = token] { (void)token; });
      host().post([token = token] { (void)token; });
    }
    if (command == "foreign-field") {
      // AgentToServer.effective_config (6), an empty message: not this module's.
      last_status = host().set_agent_fields(std::string("\x32\x00", 2));
    }
    if (command == "owned-field") {
      // AgentToServer.health (5) with healthy = true.
      last_status = host().set_agent_fields(std::string("\x2a\x02\x08\x01", 4));
    }
  }

  void on_custom_message(std::string_view capability, std::string_view type,
                         std::string_view data) override {
    fired.push_back("custom " + std::string(capability) + "/" + std::string(type) + ":" +
                    std::string(data));
    last_status = host().send_custom_message(capability, "re-" + std::string(type), data);
  }

  std::optional<std::string> validate_collector_config(std::string_view yaml) override {
    if (yaml.find("crash") != std::string_view::npos)
      throw std::runtime_error("validator broke");
    if (yaml.find("veto") != std::string_view::npos)
      return "vetoed: has veto";
    return std::nullopt;
  }

  static inline HelperModule *current = nullptr;
  static inline bool fail_start = false;
  std::string settings;  // own_settings_yaml as the constructor saw it
  std::vector<std::string> fired;
  std::thread::id worker;
  opsup_status last_status = -1;
  int64_t limit = 0;
  bool verbose = false;
  std::chrono::milliseconds every{};
  std::string name;
  std::vector<std::string> tags;
  std::shared_ptr<int> token = std::make_shared<int>(0);
};

}  // namespace

OPSUP_DEFINE_MODULE(HelperModule,
                    {.id = "io.opsup.test.helper",
                     .version = "2.0.0",
                     .description = "helper test",
                     .capabilities = OPSUP_CAP_REPORTS_HEALTH,
                     .custom_capabilities = {"io.opsup.test.helper", "io.x.y"},
                     .server_to_agent_fields = {OPSUP_S2A_CUSTOM_MESSAGE, OPSUP_S2A_FLAGS},
                     .agent_to_server_fields = {OPSUP_A2S_HEALTH}})

namespace {

class Helper : public ::testing::Test {
 protected:
  void SetUp() override {
    HelperModule::fail_start = false;
    ASSERT_EQ(host_.load(&opsup_module_entry_v1), OPSUP_OK);
  }
  void start() {
    ASSERT_EQ(host_.create(), OPSUP_OK) << host_.last_error();
    ASSERT_EQ(host_.start(), OPSUP_OK) << host_.last_error();
    ASSERT_NE(HelperModule::current, nullptr);
  }
  HelperModule &module() { return *HelperModule::current; }

  opsup::testing::FakeHost host_;
};

TEST_F(Helper, MacroFillsTheDescriptor) {
  const opsup_module_descriptor &d = host_.descriptor();
  EXPECT_EQ(d.struct_size, sizeof(opsup_module_descriptor));
  EXPECT_EQ(d.abi_major, uint32_t{OPSUP_ABI_MAJOR});
  EXPECT_EQ(d.abi_minor, uint32_t{OPSUP_ABI_MINOR});
  EXPECT_STREQ(d.id, "io.opsup.test.helper");
  EXPECT_STREQ(d.version, "2.0.0");
  EXPECT_EQ(d.capabilities, OPSUP_CAP_REPORTS_HEALTH);
  EXPECT_EQ(host_.custom_capabilities(),
            (std::vector<std::string>{"io.opsup.test.helper", "io.x.y"}));
  ASSERT_EQ(d.server_to_agent_field_count, 2u);
  EXPECT_EQ(d.server_to_agent_fields[1], uint32_t{OPSUP_S2A_FLAGS});
  ASSERT_EQ(d.agent_to_server_field_count, 1u);
  const opsup_module_hooks &hooks = host_.hooks();
  EXPECT_EQ(hooks.struct_size, sizeof(opsup_module_hooks));
  EXPECT_NE(hooks.create, nullptr);
  EXPECT_NE(hooks.validate_collector_config, nullptr);
}

TEST_F(Helper, ConfigErrorInTheConstructorIsInvalidArgumentWithTheMessage) {
  EXPECT_EQ(host_.create("plugins: {bad_key: 1}"), OPSUP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(host_.last_error(), "plugins.io.opsup.test.helper.bad_key: not allowed");
  EXPECT_EQ(HelperModule::current, nullptr);
}

TEST_F(Helper, OwnSettingsComeFromTheHost) {
  host_.set_own_settings_yaml("interval: 5s\n");
  start();
  EXPECT_EQ(module().settings, "interval: 5s\n");
}

TEST_F(Helper, OwnSettingsAreEmptyWithoutASection) {
  start();
  EXPECT_EQ(module().settings, "");
}

TEST_F(Helper, OtherConstructorExceptionsAreFailures) {
  EXPECT_EQ(host_.create("explode"), OPSUP_ERR_FAILED);
  EXPECT_EQ(host_.last_error(), "constructor exploded");
}

TEST_F(Helper, StatusErrorChoosesTheStatus) {
  HelperModule::fail_start = true;
  ASSERT_EQ(host_.create(), OPSUP_OK);
  EXPECT_EQ(host_.start(), OPSUP_ERR_UNSUPPORTED);
  EXPECT_EQ(host_.last_error(), "cannot start here");
}

TEST_F(Helper, ExceptionsInVoidHooksAreLoggedNotPropagated) {
  start();
  host_.deliver_server_message("throw");
  EXPECT_TRUE(host_.logged("on_server_message failed: boom in hook", OPSUP_LOG_ERROR));
  host_.deliver_server_message("throw-int");
  EXPECT_TRUE(host_.logged("on_server_message failed: non-standard exception", OPSUP_LOG_ERROR));
}

TEST_F(Helper, TimersFireOnTimeAndCancelledOnesNever) {
  start();
  host_.deliver_server_message("timer");
  host_.deliver_server_message("timer-cancel");
  EXPECT_EQ(host_.pending_timer_count(), 1u);
  host_.advance(99ms);
  EXPECT_TRUE(module().fired.empty());
  host_.advance(1ms);
  EXPECT_EQ(module().fired, std::vector<std::string>{"timer"});
  host_.advance(1000ms);
  EXPECT_EQ(module().fired, std::vector<std::string>{"timer"});
  EXPECT_EQ(host_.pending_timer_count(), 0u);
}

TEST_F(Helper, TimerCallbackExceptionIsLogged) {
  start();
  host_.deliver_server_message("timer-throw");
  host_.advance(10ms);
  EXPECT_TRUE(host_.logged("threw: timer threw", OPSUP_LOG_ERROR));
}

TEST_F(Helper, BlockingWorkRunsOnAWorkerThenDoneOnTheLoop) {
  start();
  host_.deliver_server_message("blocking");
  ASSERT_TRUE(host_.wait_for_blocking_work(std::chrono::seconds(20)));
  EXPECT_EQ(module().fired, std::vector<std::string>{"done"});
  EXPECT_NE(module().worker, std::thread::id());
  EXPECT_NE(module().worker, std::this_thread::get_id());
}

TEST_F(Helper, PostFromAnotherThreadRunsOnTheLoop) {
  start();
  host_.deliver_server_message("post-from-thread");
  EXPECT_TRUE(module().fired.empty());
  EXPECT_EQ(host_.run_ready(), 1u);
  EXPECT_EQ(module().fired, std::vector<std::string>{"posted"});
}

TEST_F(Helper, CallbacksThatNeverRunAreFreedWithTheModule) {
  start();
  std::weak_ptr<int> token = module().token;
  host_.deliver_server_message("pending");
  host_.destroy();
  EXPECT_EQ(HelperModule::current, nullptr);
  EXPECT_TRUE(token.expired());  // no closure outlived the module
}

TEST_F(Helper, ValidateVetoesWithAReasonAndFailuresAreReported) {
  start();
  std::string reason;
  EXPECT_EQ(host_.validate_collector_config("receivers: {}", &reason), OPSUP_OK);
  EXPECT_EQ(host_.validate_collector_config("veto: true", &reason), OPSUP_ERR_VETO);
  EXPECT_EQ(reason, "vetoed: has veto");
  EXPECT_EQ(host_.validate_collector_config("crash", &reason), OPSUP_ERR_FAILED);
  EXPECT_EQ(reason, "validator broke");
}

TEST_F(Helper, FakeHostEnforcesFieldOwnership) {
  start();
  host_.deliver_server_message("foreign-field");
  EXPECT_EQ(module().last_status, OPSUP_ERR_INVALID_ARGUMENT);
  ASSERT_EQ(host_.rejected_agent_fields().size(), 1u);
  EXPECT_NE(host_.rejected_agent_fields()[0].reason.find("field 6"), std::string::npos);
  host_.deliver_server_message("owned-field");
  EXPECT_EQ(module().last_status, OPSUP_OK);
  EXPECT_EQ(host_.agent_fields().size(), 1u);
}

// A table from an older host: entries from storage_read on are missing.
int storage_calls = 0;
opsup_status counting_storage_read(opsup_host *, const char *, opsup_bytes_sink, void *) {
  ++storage_calls;
  return OPSUP_OK;
}
opsup_status fake_run_blocking(opsup_host *, opsup_callback, opsup_callback, void *) {
  return OPSUP_OK;
}

TEST_F(Helper, SettingsComeTypedFromTheHost) {
  host_.set_setting("limit", "7");
  host_.set_setting("verbose", "true");
  host_.set_setting("every", "1m30s");
  host_.set_setting("name", "edge");
  host_.set_setting_list("tags", {"a", "b"});
  start();
  EXPECT_EQ(module().limit, 7);
  EXPECT_TRUE(module().verbose);
  EXPECT_EQ(module().every, 90s);
  EXPECT_EQ(module().name, "edge");
  EXPECT_EQ(module().tags, (std::vector<std::string>{"a", "b"}));
}

TEST_F(Helper, AbsentSettingsKeepTheDefaults) {
  start();
  EXPECT_EQ(module().limit, -1);
  EXPECT_FALSE(module().verbose);
  EXPECT_EQ(module().name, "none");
  EXPECT_TRUE(module().tags.empty());
}

TEST_F(Helper, ASettingOfTheWrongTypeFailsCreateNamingTheKey) {
  host_.set_setting("limit", "many");
  EXPECT_EQ(host_.create(), OPSUP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(host_.last_error(),
            "plugins.io.opsup.test.helper.limit: must be an integer, not \"many\"");
}

TEST_F(Helper, CustomMessagesArriveDecodedAndRepliesGoOut) {
  start();
  std::string message;  // ServerToAgent{custom_message{capability, type, data}} by hand
  const std::string capability = "io.x.y", type = "ping", data("\0d", 2);
  std::string custom;
  custom += '\x0a' + std::string(1, static_cast<char>(capability.size())) + capability;
  custom += '\x12' + std::string(1, static_cast<char>(type.size())) + type;
  custom += '\x1a' + std::string(1, static_cast<char>(data.size())) + data;
  message += '\x5a' + std::string(1, static_cast<char>(custom.size())) + custom;
  host_.deliver_server_message(message);
  ASSERT_EQ(module().fired.size(), 1u);
  EXPECT_EQ(module().fired[0], "custom io.x.y/ping:" + data);
  EXPECT_EQ(module().last_status, OPSUP_OK);
  ASSERT_EQ(host_.sent_custom_messages().size(), 1u);
  EXPECT_EQ(host_.sent_custom_messages()[0].type, "re-ping");
  EXPECT_EQ(host_.sent_custom_messages()[0].data, data);
}

TEST(HostWrapper, ServicesBeyondTheHostsTableAreUnsupportedAndNotCalled) {
  opsup_host_api table{};
  table.struct_size = offsetof(opsup_host_api, storage_read);
  table.run_blocking = &fake_run_blocking;
  table.storage_read = &counting_storage_read;  // present in memory, absent by size
  opsup::Host host(nullptr, &table);
  std::string content;
  EXPECT_EQ(host.storage_read("x", content), OPSUP_ERR_UNSUPPORTED);
  EXPECT_EQ(host.storage_write("x", "y"), OPSUP_ERR_UNSUPPORTED);
  EXPECT_EQ(storage_calls, 0);
  EXPECT_TRUE(host.run_blocking([] {}, [] {}));
  EXPECT_FALSE(host.post([] {}));  // in the table's size, but NULL
  EXPECT_EQ(host.start_timer(1ms, [] {}), 0u);
  EXPECT_EQ(host.set_agent_fields(""), OPSUP_ERR_UNSUPPORTED);
  host.info("dropped quietly: no log service");
}

const char *never_own_settings(opsup_host *) {
  ADD_FAILURE() << "own_settings_yaml called beyond the table's size";
  return "mode: x\n";
}

TEST(HostWrapper, OwnSettingsOfAMinorZeroHostAreEmptyAndNotCalled) {
  opsup_host_api table{};
  table.struct_size = offsetof(opsup_host_api, own_settings_yaml);
  table.abi_minor = 0;
  table.own_settings_yaml = &never_own_settings;  // present in memory, absent by size
  opsup::Host host(nullptr, &table);
  EXPECT_TRUE(host.own_settings_yaml().empty());
}

TEST(EventWrapper, ReadsOnlyWhatTheSendersStructHolds) {
  opsup_event raw{};
  raw.struct_size = offsetof(opsup_event, time_unix_nano);
  raw.kind = OPSUP_EVENT_COLLECTOR_EXITED;
  raw.exit_code = -9;
  raw.time_unix_nano = 5;
  raw.message = "beyond the size";
  const opsup::Event event = opsup::Event::from(raw);
  EXPECT_EQ(event.kind, OPSUP_EVENT_COLLECTOR_EXITED);
  EXPECT_EQ(event.exit_code, -9);
  EXPECT_EQ(event.time_unix_nano, 0u);
  EXPECT_TRUE(event.message.empty());
}

}  // namespace
