// remote_config.so, loaded with dlopen and driven through the SDK's FakeHost: statuses,
// persistence, the failed-hash memory, rollback, start-up and the fallback.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include <opsup/testing/fake_host.hpp>

#include "opamp.pb.h"
#include "stored_status.hpp"

namespace opsup::remote_config {
namespace {

using namespace std::chrono_literals;
namespace proto = ::opamp::proto::v1;
using opsup::testing::FakeHost;

proto::AgentRemoteConfig remote_config(const std::string &hash,
                                       std::map<std::string, std::string> files) {
  proto::AgentRemoteConfig config;
  config.set_config_hash(hash);
  auto *map = config.mutable_config()->mutable_config_map();
  for (const auto &[name, body] : files) {
    (*map)[name].set_body(body);
    (*map)[name].set_content_type("text/yaml");
  }
  return config;
}

// Map fields serialize in no fixed order, so stored bytes are compared as messages.
::testing::AssertionResult same_config(const std::string &stored,
                                       const proto::AgentRemoteConfig &expected) {
  proto::AgentRemoteConfig parsed;
  if (!parsed.ParseFromString(stored))
    return ::testing::AssertionFailure() << "the stored bytes do not parse";
  if (parsed.config_hash() != expected.config_hash())
    return ::testing::AssertionFailure() << "hash " << parsed.config_hash();
  const auto &have = parsed.config().config_map();
  const auto &want = expected.config().config_map();
  if (have.size() != want.size())
    return ::testing::AssertionFailure() << have.size() << " files, not " << want.size();
  for (const auto &[name, file] : want) {
    auto found = have.find(name);
    if (found == have.end() || found->second.body() != file.body() ||
        found->second.content_type() != file.content_type())
      return ::testing::AssertionFailure() << "file '" << name << "' differs";
  }
  return ::testing::AssertionSuccess();
}

std::string server_message(const proto::AgentRemoteConfig &config) {
  proto::ServerToAgent message;
  *message.mutable_remote_config() = config;
  return message.SerializeAsString();
}

class RemoteConfigModuleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    library_ = dlopen(OPSUP_REMOTE_CONFIG_MODULE, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(library_, nullptr) << dlerror();
    auto entry =
        reinterpret_cast<opsup_module_entry_fn>(dlsym(library_, OPSUP_MODULE_ENTRY_SYMBOL));
    ASSERT_NE(entry, nullptr);
    host_ = std::make_unique<FakeHost>();
    ASSERT_EQ(host_->load(entry), OPSUP_OK);
    host_->collector_state().latest_generation = 1;
    host_->collector_state().generation = 1;
    host_->collector_state().running = true;
  }
  void TearDown() override {
    host_.reset();
    if (library_ != nullptr)
      dlclose(library_);
  }

  FakeHost &start(const std::string &agent_yaml = "") {
    EXPECT_EQ(host_->create("agent:\n  executable: /x\n" + agent_yaml), OPSUP_OK)
        << host_->last_error();
    EXPECT_EQ(host_->start(), OPSUP_OK) << host_->last_error();
    return *host_;
  }

  // The remote_config_status of the newest agent fields the module set.
  std::optional<proto::RemoteConfigStatus> last_status() const {
    for (auto it = host_->agent_fields().rbegin(); it != host_->agent_fields().rend(); ++it) {
      proto::AgentToServer fields;
      if (fields.ParseFromString(*it) && fields.has_remote_config_status())
        return fields.remote_config_status();
    }
    return std::nullopt;
  }
  std::optional<StoredStatus> persisted_status() const {
    auto found = host_->persistent_state().find("last_remote_config_status");
    if (found == host_->persistent_state().end())
      return std::nullopt;
    return parse_status_yaml(found->second);
  }

  void send(const proto::AgentRemoteConfig &config) {
    host_->deliver_server_message(server_message(config));
    host_->run_ready();
  }
  // Completes the pending change with a new generation and lets its done run.
  uint64_t compose(opsup_status status = OPSUP_OK, uint64_t generation = 0,
                   const std::string &error = "") {
    const uint64_t before = host_->collector_state().latest_generation;
    EXPECT_TRUE(host_->complete_config_change(status, generation, error));
    host_->run_ready();
    return status == OPSUP_OK ? (generation ? generation : before + 1) : 0;
  }

  void *library_ = nullptr;
  std::unique_ptr<FakeHost> host_;
};

TEST_F(RemoteConfigModuleTest, OwnsBothRemoteConfigBits) {
  EXPECT_EQ(host_->descriptor().capabilities,
            OPSUP_CAP_ACCEPTS_REMOTE_CONFIG | OPSUP_CAP_REPORTS_REMOTE_CONFIG);
  EXPECT_STREQ(host_->descriptor().id, "remote_config");
}

TEST_F(RemoteConfigModuleTest, AppliedAsSoonAsTheCollectorIsHealthyOnTheNewGeneration) {
  FakeHost &host = start();
  const auto config = remote_config("h1", {{"", "receivers: {}\n"}, {"b.yaml", "x: 1\n"}});
  send(config);
  ASSERT_TRUE(last_status());
  EXPECT_EQ(last_status()->status(), proto::RemoteConfigStatuses_APPLYING);
  EXPECT_EQ(last_status()->last_remote_config_hash(), "h1");
  EXPECT_TRUE(same_config(host.storage()["last_recv_remote_config.dat"], config));
  ASSERT_EQ(host.pending_config_changes(), 1u);
  const auto &change = host.config_changes().back();
  ASSERT_TRUE(change.remote && change.files);
  EXPECT_EQ(change.files->size(), 2u);
  EXPECT_EQ(change.flags, 0u);

  const uint64_t generation = compose();
  EXPECT_EQ(last_status()->status(), proto::RemoteConfigStatuses_APPLYING);
  // Healthy on the old generation is not enough.
  host.deliver_event(OPSUP_EVENT_COLLECTOR_HEALTHY, "", 7, 0, generation - 1);
  EXPECT_EQ(last_status()->status(), proto::RemoteConfigStatuses_APPLYING);
  host.deliver_event(OPSUP_EVENT_COLLECTOR_HEALTHY, "", 8, 0, generation);
  EXPECT_EQ(last_status()->status(), proto::RemoteConfigStatuses_APPLIED);
  ASSERT_TRUE(persisted_status());
  EXPECT_EQ(persisted_status()->status, 1);
  EXPECT_EQ(persisted_status()->hash, "h1");
  EXPECT_EQ(host.pending_timer_count(), 0u);
}

TEST_F(RemoteConfigModuleTest, AnUnchangedConfigOrAnEmptyMapIsAppliedAtOnce) {
  FakeHost &host = start();
  send(remote_config("same", {{"", "a: 1\n"}}));
  compose(OPSUP_OK, 1);  // the composed text did not change: the generation stays 1
  EXPECT_EQ(last_status()->status(), proto::RemoteConfigStatuses_APPLIED);

  send(remote_config("empty", {}));
  ASSERT_TRUE(host.config_changes().back().files);
  EXPECT_TRUE(host.config_changes().back().files->empty());
  compose();
  EXPECT_EQ(last_status()->status(), proto::RemoteConfigStatuses_APPLIED);
  EXPECT_EQ(last_status()->last_remote_config_hash(), "empty");
}

TEST_F(RemoteConfigModuleTest, ARefusedConfigFailsAndIsNotAppliedWhenSentAgain) {
  FakeHost &host = start();
  const auto bad = remote_config("bad", {{"", "nope\n"}});
  send(bad);
  compose(OPSUP_ERR_VETO, 0, "module config_policy: exporters/file path=/etc breaks write");
  ASSERT_TRUE(last_status());
  EXPECT_EQ(last_status()->status(), proto::RemoteConfigStatuses_FAILED);
  EXPECT_NE(last_status()->error_message().find("breaks write"), std::string::npos);

  const std::size_t changes = host.config_changes().size();
  send(bad);
  EXPECT_EQ(host.config_changes().size(), changes) << "a known bad config was applied again";
  EXPECT_EQ(last_status()->status(), proto::RemoteConfigStatuses_FAILED);
  EXPECT_NE(last_status()->error_message().find("breaks write"), std::string::npos);
  EXPECT_NE(host.persistent_state()["failed_config_hashes"].find(to_hex("bad")), std::string::npos);
}

TEST_F(RemoteConfigModuleTest, StillUnhealthyAtTheTimeoutFails) {
  FakeHost &host = start("  config_apply_timeout: 3s\n");
  send(remote_config("slow", {{"", "a: 2\n"}}));
  compose();
  host.collector_state().health = OPSUP_COLLECTOR_HEALTH_UNHEALTHY;
  host.collector_state().last_error = "exporter refused";
  host.advance(2900ms);
  EXPECT_EQ(last_status()->status(), proto::RemoteConfigStatuses_APPLYING);
  host.advance(200ms);
  EXPECT_EQ(last_status()->status(), proto::RemoteConfigStatuses_FAILED);
  EXPECT_EQ(last_status()->error_message(), "Config apply timeout exceeded: exporter refused");
}

TEST_F(RemoteConfigModuleTest, ACrashWhileApplyingRollsBackToTheLastWorkingConfigOnce) {
  FakeHost &host = start("  automatic_config_rollback: true\n");
  const auto good = remote_config("good", {{"", "a: 1\n"}});
  send(good);
  const uint64_t good_generation = compose();
  host.deliver_event(OPSUP_EVENT_COLLECTOR_HEALTHY, "", 1, 0, good_generation);
  EXPECT_TRUE(same_config(host.storage()["last_working_remote_config.dat"], good));

  send(remote_config("crashy", {{"", "a: 2\n"}}));
  const uint64_t crashy_generation = compose();
  host.deliver_event(OPSUP_EVENT_COLLECTOR_EXITED, "the Collector exited (exit code 1); boom", 2, 1,
                     crashy_generation);
  ASSERT_TRUE(last_status());
  EXPECT_EQ(last_status()->status(), proto::RemoteConfigStatuses_FAILED);
  EXPECT_EQ(last_status()->last_remote_config_hash(), "crashy");
  EXPECT_NE(last_status()->error_message().find("boom"), std::string::npos);
  EXPECT_NE(last_status()->error_message().find("running the last working config"),
            std::string::npos);
  ASSERT_EQ(host.pending_config_changes(), 1u);
  ASSERT_TRUE(host.config_changes().back().files);
  EXPECT_EQ(host.config_changes().back().files->front().body, "a: 1\n");

  // The restored config fails too: it is not restored again, and the status stays FAILED
  // for the config the server sent.
  const uint64_t restored_generation = compose();
  host.deliver_event(OPSUP_EVENT_COLLECTOR_EXITED, "the Collector exited (exit code 1)", 3, 1,
                     restored_generation);
  EXPECT_EQ(host.pending_config_changes(), 0u);
  EXPECT_EQ(last_status()->last_remote_config_hash(), "crashy");
  EXPECT_TRUE(host.logged("failed too"));
}

TEST_F(RemoteConfigModuleTest, AStopCausedByTheSupervisorIsNotACrash) {
  FakeHost &host = start();
  send(remote_config("h", {{"", "a: 3\n"}}));
  const uint64_t generation = compose();
  host.deliver_event(OPSUP_EVENT_COLLECTOR_EXITED, "the Collector was stopped by the supervisor", 4,
                     0, generation);
  EXPECT_EQ(last_status()->status(), proto::RemoteConfigStatuses_APPLYING);
}

TEST_F(RemoteConfigModuleTest, ValidateConfigAsksForTheCollectorsValidate) {
  FakeHost &host = start("  validate_config: true\n");
  send(remote_config("v", {{"", "a: 4\n"}}));
  EXPECT_EQ(host.config_changes().back().flags, uint32_t{OPSUP_CONFIG_VALIDATE});
}

TEST_F(RemoteConfigModuleTest, TheLastReceivedConfigIsAppliedAtStartWithTheStoredStatus) {
  const auto config = remote_config("kept", {{"", "a: 5\n"}});
  host_->storage()["last_recv_remote_config.dat"] = config.SerializeAsString();
  host_->persistent_state()["last_remote_config_status"] = status_yaml(StoredStatus{1, "kept", ""});
  FakeHost &host = start();
  ASSERT_TRUE(last_status());
  EXPECT_EQ(last_status()->status(), proto::RemoteConfigStatuses_APPLIED);
  EXPECT_EQ(last_status()->last_remote_config_hash(), "kept");
  ASSERT_EQ(host.pending_config_changes(), 1u);
  EXPECT_EQ(host.config_changes().back().files->front().body, "a: 5\n");
}

TEST_F(RemoteConfigModuleTest, AFailedLastConfigStartsFromTheLastWorkingOneWithRollback) {
  host_->storage()["last_recv_remote_config.dat"] =
      remote_config("bad", {{"", "a: 6\n"}}).SerializeAsString();
  host_->storage()["last_working_remote_config.dat"] =
      remote_config("good", {{"", "a: 7\n"}}).SerializeAsString();
  host_->persistent_state()["last_remote_config_status"] =
      status_yaml(StoredStatus{3, "bad", "it broke"});
  FakeHost &host = start("  automatic_config_rollback: true\n");
  ASSERT_EQ(host.pending_config_changes(), 1u);
  EXPECT_EQ(host.config_changes().back().files->front().body, "a: 7\n");
  const uint64_t generation = compose();
  host.deliver_event(OPSUP_EVENT_COLLECTOR_HEALTHY, "", 1, 0, generation);
  // No APPLIED for the restored config: the server's config is still the failed one.
  EXPECT_EQ(last_status()->status(), proto::RemoteConfigStatuses_FAILED);
  EXPECT_EQ(last_status()->last_remote_config_hash(), "bad");
}

TEST_F(RemoteConfigModuleTest, TheFallbackStandsInUntilTheFirstConnection) {
  const auto dir = std::filesystem::temp_directory_path() / "opsup-remote-config-fallback";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "fallback.yaml") << "receivers: {nop: {}}\n";
  FakeHost &host =
      start("  startup_fallback_configs: [" + (dir / "fallback.yaml").string() + "]\n");
  ASSERT_EQ(host.pending_config_changes(), 1u);
  ASSERT_TRUE(host.config_changes().back().files);
  EXPECT_EQ(host.config_changes().back().files->front().body, "receivers: {nop: {}}\n");
  compose();
  host.deliver_event(OPSUP_EVENT_SERVER_CONNECTED);
  ASSERT_EQ(host.pending_config_changes(), 1u);
  EXPECT_FALSE(host.config_changes().back().files) << "the fallback was not cleared";
  compose();
  host.deliver_event(OPSUP_EVENT_SERVER_DISCONNECTED);
  host.deliver_event(OPSUP_EVENT_SERVER_CONNECTED);
  EXPECT_EQ(host.pending_config_changes(), 0u) << "the fallback came back";
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace opsup::remote_config
