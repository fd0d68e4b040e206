// Real modules through the real loader and host: the C example, the C++ example plus a
// second OpAMP-parsing module in one process, and every refusal the loader makes.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/dll/library_info.hpp>
#include <fstream>
#include <optional>

#include "module_test_support.hpp"
#include "modules/module_registry.hpp"
#include "opamp.pb.h"
#include "opsup/opamp_constants.h"

namespace opsup::modules {
namespace {

using opsup::test::example_module;
using opsup::test::install_module;
using opsup::test::LogCapture;
using opsup::test::RecordingContext;
using opsup::test::run_until;
using opsup::test::TempDir;
using opsup::test::test_module;

std::string custom_message(const std::string &capability, const std::string &type,
                           const std::string &data) {
  opamp::proto::v1::ServerToAgent message;
  message.set_instance_uid(std::string(16, 'u'));
  auto *custom = message.mutable_custom_message();
  custom->set_capability(capability);
  custom->set_type(type);
  custom->set_data(data);
  return message.SerializeAsString();
}

class LoaderTest : public ::testing::Test {
 protected:
  LoaderTest() : context_(storage_.path()) {}

  ModuleRegistry &registry(std::vector<std::string> disabled = {}) {
    registry_.emplace(io_, context_,
                      ModulesConfig{modules_dir_.path(), std::move(disabled), "test-host"});
    return *registry_;
  }

  ModuleRegistry &load_and_start(const std::string &config_yaml = "plugins: {}\n") {
    ModuleRegistry &modules = registry();
    modules.load();
    EXPECT_TRUE(modules.create(config_yaml).empty());
    EXPECT_TRUE(modules.start().empty());
    return modules;
  }

  std::optional<ModuleListing> listed(const std::string &file_name) {
    for (const ModuleListing &entry : registry_->listing()) {
      if (entry.path.filename() == file_name)
        return entry;
    }
    return std::nullopt;
  }

  // The custom messages modules sent, in order, as "capability/type:data".
  std::vector<std::string> sent_custom_messages() const {
    std::vector<std::string> messages;
    for (const auto &call : context_.calls) {
      opamp::proto::v1::AgentToServer fields;
      EXPECT_TRUE(fields.ParseFromString(call.agent_to_server));
      if (fields.has_custom_message()) {
        const auto &message = fields.custom_message();
        messages.push_back(message.capability() + "/" + message.type() + ":" + message.data());
      }
    }
    return messages;
  }

  bool sent(const std::string &message) const {
    const auto messages = sent_custom_messages();
    return std::find(messages.begin(), messages.end(), message) != messages.end();
  }

  bool wait_for(const std::string &message) {
    return run_until(io_, [&] { return sent(message); });
  }

  LogCapture logs_;
  TempDir modules_dir_;
  TempDir storage_;
  boost::asio::io_context io_;
  RecordingContext context_;
  std::optional<ModuleRegistry> registry_;
};

TEST_F(LoaderTest, CExampleLoadsAndAnswersAPing) {
  install_module(example_module("hello_c.so"), modules_dir_.path(), "hello_c.so");
  ModuleRegistry &modules = load_and_start();

  const auto entry = listed("hello_c.so");
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->state, ModuleState::kStarted) << entry->reason;
  EXPECT_EQ(entry->id, "io.opsup.example.hello");
  EXPECT_EQ(entry->custom_capabilities, std::vector<std::string>{"io.opsup.example.hello"});
  EXPECT_EQ(modules.custom_capabilities(), std::vector<std::string>{"io.opsup.example.hello"});
  EXPECT_EQ(modules.capabilities(), 0u);

  // The host announced the descriptor's custom capability before start; nothing the
  // module sends afterwards may touch that field.
  ASSERT_GE(context_.calls.size(), 1u);
  EXPECT_EQ(context_.calls[0].module_id, "io.opsup.example.hello");
  EXPECT_EQ(context_.calls[0].owned_fields, (std::vector<uint32_t>{OPSUP_A2S_CUSTOM_CAPABILITIES}));
  opamp::proto::v1::AgentToServer announced;
  ASSERT_TRUE(announced.ParseFromString(context_.calls[0].agent_to_server));
  ASSERT_EQ(announced.custom_capabilities().capabilities_size(), 1);
  EXPECT_EQ(announced.custom_capabilities().capabilities(0), "io.opsup.example.hello");
  for (size_t i = 1; i < context_.calls.size(); ++i) {
    EXPECT_EQ(context_.calls[i].owned_fields, (std::vector<uint32_t>{OPSUP_A2S_CUSTOM_MESSAGE}));
  }

  const std::string data("\x00\x01 binary \xff", 12);
  EXPECT_EQ(modules.route_server_message(custom_message("io.opsup.example.hello", "ping", data), 0),
            std::vector<std::string>{"io.opsup.example.hello"});
  EXPECT_TRUE(sent("io.opsup.example.hello/pong:" + data))
      << ::testing::PrintToString(sent_custom_messages());

  // Another capability's message is not delivered; a non-ping is ignored.
  EXPECT_TRUE(modules.route_server_message(custom_message("com.other", "ping", "x"), 0).empty());
  modules.route_server_message(custom_message("io.opsup.example.hello", "hello", "x"), 0);
  EXPECT_EQ(sent_custom_messages().size(), 1u);

  modules.stop();
  EXPECT_EQ(listed("hello_c.so")->state, ModuleState::kStopped);
  EXPECT_TRUE(logs_.contains("hello_c stopped after 1 pings")) << logs_.all();
}

// hello_c reads plugins.<id>.reply_type through setting_string (ABI 1.2).
TEST_F(LoaderTest, CExampleReadsItsSettingThroughTheHost) {
  install_module(example_module("hello_c.so"), modules_dir_.path(), "hello_c.so");
  ModuleRegistry &modules =
      load_and_start("plugins:\n  io.opsup.example.hello:\n    reply_type: hello-back\n");
  modules.route_server_message(custom_message("io.opsup.example.hello", "ping", "d"), 0);
  EXPECT_TRUE(sent("io.opsup.example.hello/hello-back:d"))
      << ::testing::PrintToString(sent_custom_messages());
}

TEST_F(LoaderTest, CExampleRejectsASettingOfTheWrongTypeNamingTheKey) {
  install_module(example_module("hello_c.so"), modules_dir_.path(), "hello_c.so");
  ModuleRegistry &modules = registry();
  modules.load();
  const auto failures =
      modules.create("plugins:\n  io.opsup.example.hello:\n    reply_type: [a, b]\n");
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0].status, OPSUP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(failures[0].reason,
            "plugins.io.opsup.example.hello.reply_type: must be a single value, not a list");
}

TEST_F(LoaderTest, TwoOpampParsingModulesWorkTogetherInOneProcess) {
  install_module(example_module("echo_cpp.so"), modules_dir_.path(), "echo_cpp.so");
  install_module(test_module("proto_peer.so"), modules_dir_.path(), "proto_peer.so");
  ModuleRegistry &modules = load_and_start();
  EXPECT_EQ(listed("echo_cpp.so")->state, ModuleState::kStarted);
  EXPECT_EQ(listed("proto_peer.so")->state, ModuleState::kStarted);
  EXPECT_EQ(modules.capabilities(), OPSUP_CAP_REPORTS_HEALTH);
  EXPECT_EQ(modules.capability_owner(OPSUP_CAP_REPORTS_HEALTH), "io.opsup.test.proto_peer");

  EXPECT_EQ(modules.route_server_message(custom_message("io.opsup.example.echo", "greet", "hi"), 0),
            std::vector<std::string>{"io.opsup.example.echo"});
  EXPECT_EQ(modules.route_server_message(custom_message("io.opsup.test.peer", "ping", "p1"), 0),
            std::vector<std::string>{"io.opsup.test.proto_peer"});
  EXPECT_TRUE(sent("io.opsup.example.echo/greet:hi"));
  EXPECT_TRUE(sent("io.opsup.test.peer/pong:p1"));

  // The echo count is persisted through storage_write.
  modules.route_server_message(custom_message("io.opsup.example.echo", "count", ""), 0);
  EXPECT_TRUE(sent("io.opsup.example.echo/count:1"));
  std::ifstream count_file(storage_.path() / "echo_count.txt");
  std::string count;
  count_file >> count;
  EXPECT_EQ(count, "1");

  // proto_peer's health goes out with its fields; ownership is enforced per module.
  modules.route_server_message(custom_message("io.opsup.test.peer", "health", "all good"), 0);
  opamp::proto::v1::AgentToServer last;
  ASSERT_TRUE(last.ParseFromString(context_.calls.back().agent_to_server));
  EXPECT_EQ(context_.calls.back().module_id, "io.opsup.test.proto_peer");
  EXPECT_EQ(context_.calls.back().owned_fields,
            (std::vector<uint32_t>{OPSUP_A2S_HEALTH, OPSUP_A2S_CUSTOM_MESSAGE}));
  EXPECT_EQ(last.health().status(), "all good");
  EXPECT_TRUE(last.health().healthy());
}

TEST_F(LoaderTest, ModulesNeverSeeFieldsOfCapabilitiesNotAdvertised) {
  install_module(test_module("proto_peer.so"), modules_dir_.path(), "proto_peer.so");
  ModuleRegistry &modules = load_and_start();
  opamp::proto::v1::ServerToAgent message;
  ASSERT_TRUE(message.ParseFromString(custom_message("io.opsup.test.peer", "fields", "")));
  message.mutable_remote_config()->set_config_hash("h");
  message.mutable_connection_settings()->mutable_opamp()->set_destination_endpoint("wss://x");
  const std::string bytes = message.SerializeAsString();

  EXPECT_EQ(modules.route_server_message(bytes, 0).size(), 1u);
  EXPECT_TRUE(sent("io.opsup.test.peer/fields:none"));
  EXPECT_EQ(modules
                .route_server_message(bytes, OPSUP_CAP_ACCEPTS_REMOTE_CONFIG |
                                                 OPSUP_CAP_ACCEPTS_OPAMP_CONNECTION_SETTINGS)
                .size(),
            1u);
  EXPECT_TRUE(sent("io.opsup.test.peer/fields:remote_config connection_settings "));
}

TEST_F(LoaderTest, HostServicesWorkThroughARealModule) {
  install_module(test_module("proto_peer.so"), modules_dir_.path(), "proto_peer.so");
  context_.server_capabilities_ =
      OPSUP_SERVER_CAP_ACCEPTS_STATUS | OPSUP_SERVER_CAP_OFFERS_REMOTE_CONFIG;
  ModuleRegistry &modules = load_and_start();
  const std::string peer = "io.opsup.test.peer";
  auto ask = [&](const std::string &type, const std::string &data = "") {
    EXPECT_EQ(modules.route_server_message(custom_message(peer, type, data), 0).size(), 1u);
  };

  ask("timer", "t1");
  EXPECT_TRUE(wait_for(peer + "/timer-fired:t1"));

  ask("cancel-timer");
  EXPECT_TRUE(wait_for(peer + "/after-cancel:"));
  EXPECT_FALSE(sent(peer + "/cancelled-timer-fired:"));

  ask("blocking");
  EXPECT_TRUE(wait_for(peer + "/blocking-done:worker"));

  ask("post");
  EXPECT_TRUE(wait_for(peer + "/posted:from another thread"));

  ask("store", "stored bytes");
  EXPECT_TRUE(sent(peer + "/stored:stored bytes"));
  struct stat info {};
  ASSERT_EQ(::stat((storage_.path() / "peer.dat").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);

  ask("store-bad-name", "../escape");
  EXPECT_TRUE(sent(peer + "/store-bad-name:" + std::to_string(OPSUP_ERR_INVALID_ARGUMENT)));
  ask("store-bad-name", "persistent_state.yaml");
  EXPECT_TRUE(sent(peer + "/store-bad-name:" + std::to_string(OPSUP_ERR_INVALID_ARGUMENT)));
  EXPECT_TRUE(logs_.contains("persistent_state.yaml is owned by the supervisor core"));
  ask("read-missing");
  EXPECT_TRUE(sent(peer + "/read-missing:" + std::to_string(OPSUP_ERR_NOT_FOUND)));

  const size_t calls_before = context_.calls.size();
  ask("trespass");
  EXPECT_TRUE(sent(peer + "/trespass:" + std::to_string(OPSUP_ERR_INVALID_ARGUMENT)));
  EXPECT_EQ(context_.calls.size(), calls_before + 1);  // only the reply got through
  EXPECT_TRUE(logs_.contains("field 6 (effective_config) is not owned")) << logs_.all();

  ask("uid");
  EXPECT_TRUE(sent(peer + "/uid:" + std::string(context_.uid_.begin(), context_.uid_.end())));
  ask("server-caps");
  EXPECT_TRUE(sent(peer + "/server-caps:3"));

  // An exception inside a C++ hook stays inside the module.
  ask("throw");
  EXPECT_TRUE(logs_.contains("proto_peer threw on purpose")) << logs_.all();

  // Collector messages by field, events, config validation.
  opamp::proto::v1::AgentToServer from_collector;
  from_collector.mutable_health()->set_status("collector ok");
  EXPECT_EQ(modules.route_collector_message(from_collector.SerializeAsString()),
            std::vector<std::string>{"io.opsup.test.proto_peer"});
  EXPECT_TRUE(sent(peer + "/collector-health:collector ok"));
  opamp::proto::v1::AgentToServer description_only;
  description_only.mutable_agent_description();
  EXPECT_TRUE(modules.route_collector_message(description_only.SerializeAsString()).empty());

  opsup_event event{};
  event.struct_size = sizeof event;
  event.kind = OPSUP_EVENT_COLLECTOR_EXITED;
  event.exit_code = 3;
  event.message = "crashed";
  modules.publish_event(event);
  EXPECT_TRUE(sent(peer + "/event:crashed 3"));

  EXPECT_TRUE(modules.validate_collector_config("exporters: {debug: {}}\n").empty());
  const auto vetoes = modules.validate_collector_config("exporters: {forbidden_exporter: {}}\n");
  ASSERT_EQ(vetoes.size(), 1u);
  EXPECT_EQ(vetoes[0].id, "io.opsup.test.proto_peer");
  EXPECT_EQ(vetoes[0].reason, "proto_peer refuses forbidden_exporter");

  // After stop, pending timers never fire and posts are refused.
  ask("timer", "too-late");
  modules.stop();
  EXPECT_TRUE(logs_.contains("proto_peer stopping"));
  io_.restart();
  io_.run_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(sent(peer + "/timer-fired:too-late"));
}

TEST_F(LoaderTest, ModuleExportingOnlyAnotherMajorIsRefusedNamingBothMajors) {
  install_module(test_module("v2_only.so"), modules_dir_.path(), "v2_only.so");
  registry().load();
  const auto entry = listed("v2_only.so");
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->state, ModuleState::kRefused);
  EXPECT_NE(entry->reason.find("exports ABI major 2"), std::string::npos) << entry->reason;
  EXPECT_NE(entry->reason.find("supports major 1"), std::string::npos) << entry->reason;
  EXPECT_TRUE(logs_.contains((modules_dir_.path() / "v2_only.so").string()));
}

TEST_F(LoaderTest, ModuleBuiltAgainstAnOlderMinorLoadsAndItsMissingHooksAreAbsent) {
  install_module(test_module("old_minor.so"), modules_dir_.path(), "old_minor.so");
  ModuleRegistry &modules = load_and_start();
  const auto entry = listed("old_minor.so");
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->state, ModuleState::kStarted) << entry->reason;
  EXPECT_EQ(entry->custom_capabilities, std::vector<std::string>{"io.opsup.test.old_minor"});

  // Hooks inside its struct_size work...
  EXPECT_EQ(modules.route_server_message(custom_message("io.opsup.test.old_minor", "t", "d"), 0),
            std::vector<std::string>{"io.opsup.test.old_minor"});
  EXPECT_TRUE(logs_.contains("old_minor received")) << logs_.all();
  // ...the ones beyond it are never called, although the module's struct has them.
  opsup_event event{};
  event.struct_size = sizeof event;
  event.kind = OPSUP_EVENT_COLLECTOR_STARTED;
  modules.publish_event(event);
  EXPECT_FALSE(logs_.contains("on_event called beyond struct_size"));
  EXPECT_TRUE(modules.validate_collector_config("receivers: {}\n").empty());
}

TEST_F(LoaderTest, SecondModuleClaimingACapabilityIsRefusedNamingBoth) {
  const auto first = install_module(test_module("claim_a.so"), modules_dir_.path(), "claim_a.so");
  const auto second = install_module(test_module("claim_b.so"), modules_dir_.path(), "claim_b.so");
  ModuleRegistry &modules = load_and_start();
  EXPECT_EQ(listed("claim_a.so")->state, ModuleState::kStarted);
  const auto refused = listed("claim_b.so");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->state, ModuleState::kRefused);
  for (const std::string &expected :
       {std::string("AcceptsRestartCommand"), std::string("io.opsup.test.claim_a"),
        std::string("io.opsup.test.claim_b"), first.string(),
        std::string("which comes first in file-name order")}) {
    EXPECT_NE(refused->reason.find(expected), std::string::npos)
        << "missing " << expected << " in: " << refused->reason;
  }
  // The listing and the log already name the refused file; the reason does not repeat it.
  EXPECT_EQ(refused->reason.find(second.string()), std::string::npos) << refused->reason;
  // claim_b's other bit (ReportsHealth) is not advertised either: the module is out.
  EXPECT_EQ(modules.capabilities(), OPSUP_CAP_ACCEPTS_RESTART_COMMAND);
}

// A module that never sends custom_capabilities, and even clears its fields, is still
// advertised with its descriptor's custom capability.
TEST_F(LoaderTest, CustomCapabilitiesComeFromTheDescriptor) {
  install_module(test_module("silent_custom.so"), modules_dir_.path(), "silent_custom.so");
  ModuleRegistry &modules = load_and_start();
  EXPECT_EQ(listed("silent_custom.so")->state, ModuleState::kStarted);
  ASSERT_EQ(context_.calls.size(), 2u);
  EXPECT_EQ(context_.calls[0].owned_fields, (std::vector<uint32_t>{OPSUP_A2S_CUSTOM_CAPABILITIES}));
  opamp::proto::v1::AgentToServer announced;
  ASSERT_TRUE(announced.ParseFromString(context_.calls[0].agent_to_server));
  ASSERT_EQ(announced.custom_capabilities().capabilities_size(), 1);
  EXPECT_EQ(announced.custom_capabilities().capabilities(0), "io.opsup.test.silent");
  // The module's empty set_agent_fields cleared only custom_message.
  EXPECT_EQ(context_.calls[1].owned_fields, (std::vector<uint32_t>{OPSUP_A2S_CUSTOM_MESSAGE}));
  EXPECT_EQ(modules.custom_capabilities(), std::vector<std::string>{"io.opsup.test.silent"});
}

TEST_F(LoaderTest, ModuleClaimingACoreCapabilityIsRefused) {
  install_module(test_module("core_bit.so"), modules_dir_.path(), "core_bit.so");
  registry().load();
  const auto entry = listed("core_bit.so");
  EXPECT_EQ(entry->state, ModuleState::kRefused);
  EXPECT_NE(entry->reason.find("ReportsStatus, which belongs to the supervisor core"),
            std::string::npos)
      << entry->reason;
}

TEST_F(LoaderTest, DuplicateModuleIdIsRefused) {
  install_module(example_module("hello_c.so"), modules_dir_.path(), "a_hello.so");
  install_module(example_module("hello_c.so"), modules_dir_.path(), "b_hello.so");
  registry().load();
  EXPECT_EQ(listed("a_hello.so")->state, ModuleState::kLoaded);
  const auto entry = listed("b_hello.so");
  EXPECT_EQ(entry->state, ModuleState::kRefused);
  EXPECT_NE(entry->reason.find("module id io.opsup.example.hello is already used by " +
                               (modules_dir_.path() / "a_hello.so").string()),
            std::string::npos)
      << entry->reason;
}

TEST_F(LoaderTest, DisabledModuleIsSkipped) {
  install_module(example_module("hello_c.so"), modules_dir_.path(), "hello_c.so");
  ModuleRegistry &modules = registry({"io.opsup.example.hello"});
  modules.load();
  EXPECT_TRUE(modules.create("{}").empty());
  EXPECT_TRUE(modules.start().empty());
  const auto entry = listed("hello_c.so");
  EXPECT_EQ(entry->state, ModuleState::kDisabled);
  EXPECT_EQ(entry->reason, "disabled by plugins.disable");
  EXPECT_TRUE(context_.calls.empty());
  EXPECT_TRUE(modules.custom_capabilities().empty());
}

TEST_F(LoaderTest, DisabledModuleIsNeverCreatedButStillListedWithWhatItOwns) {
  install_module(test_module("flaky.so"), modules_dir_.path(), "flaky.so");
  ModuleRegistry &modules = registry({"io.opsup.test.flaky"});
  modules.load();
  // Its section asks create to fail: no failure means create never ran.
  EXPECT_TRUE(modules.create("plugins:\n  io.opsup.test.flaky:\n    mode: fail_create\n").empty());
  EXPECT_TRUE(modules.start().empty());
  const auto entry = listed("flaky.so");
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->state, ModuleState::kDisabled);
  EXPECT_EQ(entry->capabilities, OPSUP_CAP_ACCEPTS_RESTART_COMMAND);
  EXPECT_EQ(modules.capabilities(), 0u);
  EXPECT_FALSE(modules.capability_owner(OPSUP_CAP_ACCEPTS_RESTART_COMMAND));
}

TEST_F(LoaderTest, ModulesLoadInSortedFileNameOrder) {
  install_module(test_module("claim_b.so"), modules_dir_.path(), "10_second.so");
  install_module(test_module("claim_a.so"), modules_dir_.path(), "01_first.so");
  registry().load();
  // The file sorted first wins the shared capability, whatever its id.
  EXPECT_EQ(listed("01_first.so")->state, ModuleState::kLoaded);
  EXPECT_EQ(listed("10_second.so")->state, ModuleState::kRefused);
  const auto entries = registry_->listing();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].path.filename(), "01_first.so");
}

TEST_F(LoaderTest, FailingCreateOrStartIsIsolated) {
  install_module(test_module("flaky.so"), modules_dir_.path(), "flaky.so");
  install_module(example_module("hello_c.so"), modules_dir_.path(), "hello_c.so");
  ModuleRegistry &modules = registry();
  modules.load();
  EXPECT_EQ(modules.capabilities(), OPSUP_CAP_ACCEPTS_RESTART_COMMAND);
  const auto failures = modules.create("plugins:\n  io.opsup.test.flaky:\n    mode: fail_create\n");
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0].id, "io.opsup.test.flaky");
  EXPECT_EQ(failures[0].path, modules_dir_.path() / "flaky.so");
  EXPECT_EQ(failures[0].status, OPSUP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(failures[0].reason, "plugins.io.opsup.test.flaky.mode: fail_create makes create fail");
  EXPECT_TRUE(modules.start().empty());
  EXPECT_EQ(listed("hello_c.so")->state, ModuleState::kStarted);
  EXPECT_EQ(listed("flaky.so")->state, ModuleState::kCreateFailed);
  EXPECT_NE(listed("flaky.so")->reason.find("fail_create makes create fail"), std::string::npos);
  EXPECT_EQ(modules.capabilities(), 0u);
  EXPECT_TRUE(logs_.contains((modules_dir_.path() / "flaky.so").string()));
}

TEST_F(LoaderTest, FailingStartLeavesTheModuleInactive) {
  install_module(test_module("flaky.so"), modules_dir_.path(), "flaky.so");
  install_module(example_module("hello_c.so"), modules_dir_.path(), "hello_c.so");
  ModuleRegistry &modules = registry();
  modules.load();
  EXPECT_TRUE(modules.create("plugins:\n  io.opsup.test.flaky:\n    mode: fail_start\n").empty());
  const auto failures = modules.start();
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0].id, "io.opsup.test.flaky");
  EXPECT_EQ(failures[0].reason, "told to fail start");
  EXPECT_EQ(listed("flaky.so")->state, ModuleState::kStartFailed);
  EXPECT_EQ(listed("hello_c.so")->state, ModuleState::kStarted);
  modules.stop();  // destroys the inactive module too, without calling its stop
  EXPECT_EQ(listed("flaky.so")->state, ModuleState::kStartFailed);
}

TEST_F(LoaderTest, ModuleConfigErrorFromTheCxxHelperNamesTheKey) {
  install_module(test_module("proto_peer.so"), modules_dir_.path(), "proto_peer.so");
  ModuleRegistry &modules = registry();
  modules.load();
  const auto failures = modules.create("plugins:\n  io.opsup.test.proto_peer:\n    mode: bad\n");
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0].status, OPSUP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(failures[0].reason,
            "plugins.io.opsup.test.proto_peer.mode: \"bad\" is not a mode (normal)");
}

TEST_F(LoaderTest, CModuleRejectsABadValueInItsOwnSectionNamingTheKey) {
  install_module(test_module("flaky.so"), modules_dir_.path(), "flaky.so");
  ModuleRegistry &modules = registry();
  modules.load();
  const auto failures = modules.create("plugins:\n  io.opsup.test.flaky:\n    mode: 'sideways'\n");
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(
      failures[0].reason,
      "plugins.io.opsup.test.flaky.mode: \"sideways\" is not a mode (fail_create, fail_start)");
}

TEST_F(LoaderTest, ModulesReadOnlyTheirOwnSection) {
  install_module(test_module("flaky.so"), modules_dir_.path(), "flaky.so");
  install_module(test_module("proto_peer.so"), modules_dir_.path(), "proto_peer.so");
  // Settings that look like theirs everywhere but under their exact ids.
  const std::string config =
      "flaky: fail_create\n"
      "mode: fail_create\n"
      "plugins:\n"
      "  flaky: fail_create\n"
      "  proto_peer: bad\n"
      "  io.opsup.test:\n    mode: fail_create\n"
      "  io.opsup.test.flaky.mode: fail_create\n"
      "  io.opsup.test.flaky_other:\n    mode: fail_create\n"
      "  io.opsup.test.proto_peer:\n    mode: normal\n    level: \"3\"\n";
  ModuleRegistry &modules = load_and_start(config);
  EXPECT_EQ(listed("flaky.so")->state, ModuleState::kStarted) << listed("flaky.so")->reason;
  EXPECT_EQ(listed("proto_peer.so")->state, ModuleState::kStarted)
      << listed("proto_peer.so")->reason;
  // proto_peer got exactly its section, types kept, and the text outlives create.
  modules.route_server_message(custom_message("io.opsup.test.peer", "settings", ""), 0);
  EXPECT_TRUE(sent("io.opsup.test.peer/settings:mode: normal\nlevel: \"3\"\n"))
      << ::testing::PrintToString(sent_custom_messages());
}

TEST_F(LoaderTest, ModuleWithoutASectionGetsAnEmptyOne) {
  install_module(test_module("proto_peer.so"), modules_dir_.path(), "proto_peer.so");
  ModuleRegistry &modules = load_and_start("plugins:\n  directory: /nowhere\n");
  modules.route_server_message(custom_message("io.opsup.test.peer", "settings", ""), 0);
  EXPECT_TRUE(sent("io.opsup.test.peer/settings:"))
      << ::testing::PrintToString(sent_custom_messages());
}

// ---- Hygiene refusals ------------------------------------------------------------------

TEST_F(LoaderTest, GroupWritableModuleIsRefused) {
  install_module(example_module("hello_c.so"), modules_dir_.path(), "hello_c.so", 0775);
  registry().load();
  const auto entry = listed("hello_c.so");
  EXPECT_EQ(entry->state, ModuleState::kRefused);
  EXPECT_EQ(entry->reason, "the file is writable by group or others (mode 0775)");
  EXPECT_TRUE(logs_.contains((modules_dir_.path() / "hello_c.so").string() +
                             " refused: the file is writable by group or others"))
      << logs_.all();
}

TEST_F(LoaderTest, ModuleInAWorldWritableDirectoryIsRefused) {
  install_module(example_module("hello_c.so"), modules_dir_.path(), "hello_c.so");
  ASSERT_EQ(::chmod(modules_dir_.path().c_str(), 0777), 0);
  registry().load();
  const auto entry = listed("hello_c.so");
  EXPECT_EQ(entry->state, ModuleState::kRefused);
  EXPECT_NE(entry->reason.find("its directory " + modules_dir_.path().string() +
                               " is writable by group or others (mode 0777)"),
            std::string::npos)
      << entry->reason;
}

TEST_F(LoaderTest, SymlinkIsRefused) {
  TempDir elsewhere;
  const auto real = install_module(example_module("hello_c.so"), elsewhere.path(), "hello_c.so");
  std::filesystem::create_symlink(real, modules_dir_.path() / "hello_c.so");
  registry().load();
  const auto entry = listed("hello_c.so");
  EXPECT_EQ(entry->state, ModuleState::kRefused);
  EXPECT_EQ(entry->reason, "is a symbolic link (modules must be regular files)");
}

TEST_F(LoaderTest, TextFileNamedSoIsRefused) {
  {
    std::ofstream text(modules_dir_.path() / "notes.so");
    text << "this is not a shared library\n";
  }
  ::chmod((modules_dir_.path() / "notes.so").c_str(), 0644);
  registry().load();
  const auto entry = listed("notes.so");
  EXPECT_EQ(entry->state, ModuleState::kRefused);
  EXPECT_NE(entry->reason.find("not a shared library this system can load"), std::string::npos)
      << entry->reason;
}

TEST_F(LoaderTest, LibraryWithoutTheEntryIsRefused) {
  install_module(test_module("no_entry.so"), modules_dir_.path(), "no_entry.so");
  registry().load();
  const auto entry = listed("no_entry.so");
  EXPECT_EQ(entry->state, ModuleState::kRefused);
  EXPECT_EQ(entry->reason, "not an opampsupervisor module: no opsup_module_entry_v1 symbol");
}

TEST_F(LoaderTest, OtherFilesAndAMissingDirectoryAreHandled) {
  {
    std::ofstream readme(modules_dir_.path() / "README.txt");
    readme << "not a module\n";
  }
  registry().load();
  EXPECT_TRUE(registry_->listing().empty());
  registry_.reset();
  ModuleRegistry missing(io_, context_, ModulesConfig{modules_dir_.path() / "absent", {}, "t"});
  missing.load();
  EXPECT_TRUE(missing.listing().empty());
  EXPECT_TRUE(logs_.contains("does not exist"));
}

TEST_F(LoaderTest, InspectListsWithoutCreating) {
  install_module(example_module("hello_c.so"), modules_dir_.path(), "hello_c.so");
  install_module(test_module("v2_only.so"), modules_dir_.path(), "v2_only.so");
  const auto entries = inspect_modules(modules_dir_.path(), {});
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].id, "io.opsup.example.hello");
  EXPECT_EQ(entries[0].version, "1.2.0");
  EXPECT_FALSE(entries[0].description.empty());
  EXPECT_EQ(entries[0].state, ModuleState::kLoaded);
  EXPECT_EQ(entries[1].state, ModuleState::kRefused);
  EXPECT_TRUE(context_.calls.empty());
}

TEST(ModuleDirectory, DefaultIsBesideTheExecutableInTheBuildTreeLayout) {
  // The test binary lives in <build>/tests, like the supervisor in <build>/bin.
  EXPECT_EQ(default_module_directory(),
            std::filesystem::weakly_canonical(OPSUP_MODULE_OUTPUT_DIRECTORY));
}

TEST(ModuleSymbols, ModulesExportOnlyTheirEntry) {
  for (const auto &path :
       {example_module("hello_c.so"), example_module("echo_cpp.so"), test_module("proto_peer.so"),
        test_module("old_minor.so"), test_module("flaky.so")}) {
    boost::dll::library_info info(path);
    EXPECT_EQ(info.symbols(), std::vector<std::string>{"opsup_module_entry_v1"}) << path;
  }
  boost::dll::library_info v2(test_module("v2_only.so"));
  EXPECT_EQ(v2.symbols(), std::vector<std::string>{"opsup_module_entry_v2"});
}

}  // namespace
}  // namespace opsup::modules
