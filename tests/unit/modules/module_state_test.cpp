// A module's keys in persistent_state.yaml (state_read / state_write, ABI minor 3): where
// they are stored, the two keys of the supervisor's own, and what is refused.
#include "modules/module_state.hpp"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <fstream>

#include "common/uuid.hpp"
#include "module_test_support.hpp"
#include "storage/persistent_state.hpp"

namespace opsup::modules {
namespace {

using opsup::test::TempDir;

constexpr StateCaller kPlain{"io.opsup.test.plain", false};
constexpr StateCaller kOther{"io.opsup.test.other", false};
constexpr StateCaller kRemoteOwner{"io.opsup.test.remote", true};

class ModuleState : public ::testing::Test {
 protected:
  void SetUp() override { state_ = storage::PersistentState::load_or_create(dir_.path()); }

  YAML::Node file() const {
    return YAML::LoadFile((dir_.path() / "persistent_state.yaml").string());
  }
  StateOutcome read(const StateCaller &caller, std::string_view key) const {
    return read_module_state(*state_, caller, key);
  }
  opsup_status write(const StateCaller &caller, std::string_view key,
                     std::optional<std::string_view> yaml) {
    return write_module_state(*state_, caller, key, yaml).status;
  }

  TempDir dir_;
  std::unique_ptr<storage::PersistentState> state_;
};

TEST_F(ModuleState, KeysLiveUnderModulesByModuleIdAndSurviveAReload) {
  EXPECT_EQ(read(kPlain, "count").status, OPSUP_ERR_NOT_FOUND);
  ASSERT_EQ(write(kPlain, "count", "3"), OPSUP_OK);
  ASSERT_EQ(write(kPlain, "seen", "{hosts: [a, b], at: \"0123\"}"), OPSUP_OK);
  ASSERT_EQ(write(kOther, "count", "7"), OPSUP_OK);  // same key, another module

  const YAML::Node written = file();
  EXPECT_EQ(written["modules"]["io.opsup.test.plain"]["count"].as<int>(), 3);
  EXPECT_EQ(written["modules"]["io.opsup.test.plain"]["seen"]["hosts"][1].as<std::string>(), "b");
  EXPECT_EQ(written["modules"]["io.opsup.test.other"]["count"].as<int>(), 7);
  EXPECT_TRUE(written["instance_id"]);  // the core's keys stay at the top

  state_ = storage::PersistentState::load_or_create(dir_.path());
  const StateOutcome count = read(kPlain, "count");
  ASSERT_EQ(count.status, OPSUP_OK);
  EXPECT_EQ(YAML::Load(count.yaml).as<int>(), 3);
  const StateOutcome seen = read(kPlain, "seen");
  ASSERT_EQ(seen.status, OPSUP_OK);
  // The quoted "0123" stays a string.
  EXPECT_NE(seen.yaml.find("\"0123\""), std::string::npos) << seen.yaml;
  EXPECT_EQ(YAML::Load(read(kOther, "count").yaml).as<int>(), 7);
}

TEST_F(ModuleState, RemovingTheLastKeyRemovesTheModuleAndTheMap) {
  ASSERT_EQ(write(kPlain, "a", "1"), OPSUP_OK);
  ASSERT_EQ(write(kOther, "b", "2"), OPSUP_OK);
  ASSERT_EQ(write(kPlain, "a", std::nullopt), OPSUP_OK);
  EXPECT_EQ(read(kPlain, "a").status, OPSUP_ERR_NOT_FOUND);
  EXPECT_FALSE(file()["modules"]["io.opsup.test.plain"]);
  ASSERT_EQ(write(kOther, "b", std::nullopt), OPSUP_OK);
  EXPECT_FALSE(file()["modules"]);
  // Removing what is not there is fine.
  EXPECT_EQ(write(kOther, "b", std::nullopt), OPSUP_OK);
}

TEST_F(ModuleState, KeysOfAGoWrittenFileAreKept) {
  {
    std::ofstream out(dir_.path() / "persistent_state.yaml", std::ios::trunc);
    out << "instance_id: 0190f1a8-6b1c-7c3e-9d1f-2b5c4e6a7f80\n"
           "last_remote_config_status:\n"
           "    status: 1\n"
           "    last_remote_config_hash: 9f86d081884c7d65\n"
           "    error_message: \"\"\n"
           "future_go_key: {x: 1}\n";
  }
  state_ = storage::PersistentState::load_or_create(dir_.path());
  ASSERT_EQ(write(kPlain, "k", "v"), OPSUP_OK);
  const YAML::Node written = file();
  EXPECT_EQ(written["instance_id"].as<std::string>(), "0190f1a8-6b1c-7c3e-9d1f-2b5c4e6a7f80");
  EXPECT_EQ(written["last_remote_config_status"]["status"].as<int>(), 1);
  EXPECT_EQ(written["future_go_key"]["x"].as<int>(), 1);
  EXPECT_EQ(written["modules"]["io.opsup.test.plain"]["k"].as<std::string>(), "v");

  // The remote config status reads in the upstream format.
  const StateOutcome status = read(kRemoteOwner, "last_remote_config_status");
  ASSERT_EQ(status.status, OPSUP_OK);
  const YAML::Node node = YAML::Load(status.yaml);
  EXPECT_EQ(node["status"].as<int>(), 1);
  EXPECT_EQ(node["last_remote_config_hash"].as<std::string>(), "9f86d081884c7d65");
  EXPECT_EQ(node["error_message"].as<std::string>(), "");
}

TEST_F(ModuleState, RemoteConfigStatusIsWrittenInTheUpstreamFormat) {
  EXPECT_EQ(read(kRemoteOwner, "last_remote_config_status").status, OPSUP_ERR_NOT_FOUND);
  ASSERT_EQ(write(kRemoteOwner, "last_remote_config_status",
                  "{status: 3, last_remote_config_hash: \"00ff\", error_message: bad exporter}"),
            OPSUP_OK);
  const auto stored = state_->last_remote_config_status();
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->status, 3);
  EXPECT_EQ(stored->last_remote_config_hash, std::string("\x00\xff", 2));
  EXPECT_EQ(stored->error_message, "bad exporter");
  const YAML::Node written = file()["last_remote_config_status"];
  EXPECT_EQ(written["status"].as<int>(), 3);
  EXPECT_EQ(written["last_remote_config_hash"].as<std::string>(), "00ff");
  EXPECT_FALSE(file()["modules"]);  // not a module key

  // Missing keys are 0 / "".
  ASSERT_EQ(write(kRemoteOwner, "last_remote_config_status", "{status: 1}"), OPSUP_OK);
  EXPECT_EQ(state_->last_remote_config_status()->last_remote_config_hash, "");
  // NULL removes it.
  ASSERT_EQ(write(kRemoteOwner, "last_remote_config_status", std::nullopt), OPSUP_OK);
  EXPECT_FALSE(state_->last_remote_config_status());
  EXPECT_FALSE(file()["last_remote_config_status"]);
}

TEST_F(ModuleState, InvalidRemoteConfigStatusesAreRefused) {
  for (const char *bad : {"[1, 2]", "{status: 4}", "{status: -1}", "{status: applied}",
                          "{last_remote_config_hash: xyz}", "{last_remote_config_hash: abc}",
                          "{status: 1, extra: 2}", "{error_message: {nested: 1}}", "7"}) {
    const StateOutcome outcome =
        write_module_state(*state_, kRemoteOwner, "last_remote_config_status", bad);
    EXPECT_EQ(outcome.status, OPSUP_ERR_INVALID_ARGUMENT) << bad;
    EXPECT_NE(outcome.problem.find("last_remote_config_status"), std::string::npos)
        << outcome.problem;
  }
  EXPECT_FALSE(state_->last_remote_config_status());
}

TEST_F(ModuleState, OnlyTheRemoteConfigOwnerMayUseItsStatus) {
  state_->set_last_remote_config_status({1, "h", ""});
  const StateOutcome read_outcome = read(kPlain, "last_remote_config_status");
  EXPECT_EQ(read_outcome.status, OPSUP_ERR_INVALID_ARGUMENT);
  EXPECT_NE(read_outcome.problem.find("AcceptsRemoteConfig or ReportsRemoteConfig"),
            std::string::npos);
  EXPECT_EQ(write(kPlain, "last_remote_config_status", "{status: 2}"), OPSUP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(write(kPlain, "last_remote_config_status", std::nullopt), OPSUP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(state_->last_remote_config_status()->status, 1);
}

TEST_F(ModuleState, InstanceIdIsReadableButNeverWritable) {
  const StateOutcome id = read(kPlain, "instance_id");
  ASSERT_EQ(id.status, OPSUP_OK);
  EXPECT_EQ(YAML::Load(id.yaml).as<std::string>(), common::format_uuid(state_->instance_id()));
  const auto before = state_->instance_id();
  for (const StateCaller &caller : {kPlain, kRemoteOwner}) {
    const StateOutcome outcome =
        write_module_state(*state_, caller, "instance_id", "0190f1a8-6b1c-7c3e-9d1f-2b5c4e6a7f80");
    EXPECT_EQ(outcome.status, OPSUP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(outcome.problem, "state key instance_id is not writable");
    EXPECT_EQ(write(caller, "instance_id", std::nullopt), OPSUP_ERR_INVALID_ARGUMENT);
  }
  EXPECT_EQ(state_->instance_id(), before);
  EXPECT_EQ(file()["instance_id"].as<std::string>(), common::format_uuid(before));
}

TEST_F(ModuleState, BadKeysAndBadYamlAreRefused) {
  for (const char *key : {"", "a b", "a/b", "modules:x"}) {
    EXPECT_EQ(read(kPlain, key).status, OPSUP_ERR_INVALID_ARGUMENT) << key;
    EXPECT_EQ(write(kPlain, key, "1"), OPSUP_ERR_INVALID_ARGUMENT) << key;
  }
  const StateOutcome outcome = write_module_state(*state_, kPlain, "k", "{unclosed: [");
  EXPECT_EQ(outcome.status, OPSUP_ERR_INVALID_ARGUMENT);
  EXPECT_NE(outcome.problem.find("not valid YAML"), std::string::npos) << outcome.problem;
  EXPECT_FALSE(file()["modules"]);
}

TEST_F(ModuleState, AFileThatCannotBeWrittenIsAFailure) {
  std::filesystem::remove_all(dir_.path());
  const StateOutcome outcome = write_module_state(*state_, kPlain, "k", "1");
  EXPECT_EQ(outcome.status, OPSUP_ERR_FAILED);
  EXPECT_FALSE(outcome.problem.empty());
}

}  // namespace
}  // namespace opsup::modules
