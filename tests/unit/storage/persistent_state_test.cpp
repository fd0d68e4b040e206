#include "storage/persistent_state.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "common/logging.hpp"
#include "test_files.hpp"

namespace opsup::storage {
namespace {

using common::format_uuid;
using common::from_hex;
using common::generate_uuid_v7;
using common::parse_uuid;

using opsup::testing::file_mode;
using opsup::testing::read_text;
using opsup::testing::TempDir;
using opsup::testing::write_text;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr const char *kGoWrittenState =
    "instance_id: 0190f1a8-6b1c-7c3e-9d1f-2b5c4e6a7f80\n"
    "last_remote_config_status:\n"
    "    status: 1\n"
    "    last_remote_config_hash: 9f86d081884c7d65\n"
    "    error_message: \"\"\n";

std::vector<std::filesystem::path> files_starting_with(const std::filesystem::path &dir,
                                                       const std::string &prefix) {
  std::vector<std::filesystem::path> found;
  for (const auto &entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().filename().string().starts_with(prefix))
      found.push_back(entry.path());
  }
  return found;
}

TEST(PersistentState, CreatesDirectoryAndFileWithNewUuidV7) {
  TempDir dir;
  const auto storage = dir.path() / "supervisor";
  auto state = PersistentState::load_or_create(storage);
  EXPECT_EQ(file_mode(storage), 0700u);
  const auto file = storage / "persistent_state.yaml";
  EXPECT_EQ(state->file_path(), file);
  EXPECT_EQ(file_mode(file), 0600u);
  EXPECT_EQ(state->instance_id()[6] >> 4, 7);
  const YAML::Node written = YAML::LoadFile(file.string());
  EXPECT_EQ(written["instance_id"].as<std::string>(), format_uuid(state->instance_id()));
  EXPECT_FALSE(state->last_remote_config_status().has_value());
}

TEST(PersistentState, InstanceIdIsStableAcrossLoads) {
  TempDir dir;
  const Uuid first = PersistentState::load_or_create(dir.path())->instance_id();
  const Uuid second = PersistentState::load_or_create(dir.path())->instance_id();
  EXPECT_EQ(first, second);
}

TEST(PersistentState, ReadsGoWrittenFileAsIs) {
  TempDir dir;
  const auto file = dir.path() / "persistent_state.yaml";
  write_text(file, kGoWrittenState);
  auto state = PersistentState::load_or_create(dir.path());
  EXPECT_EQ(format_uuid(state->instance_id()), "0190f1a8-6b1c-7c3e-9d1f-2b5c4e6a7f80");
  const auto status = state->last_remote_config_status();
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->status, 1);
  EXPECT_EQ(status->last_remote_config_hash, *from_hex("9f86d081884c7d65"));
  EXPECT_EQ(status->error_message, "");
  EXPECT_EQ(read_text(file), kGoWrittenState) << "loading must not rewrite a valid file";
}

TEST(PersistentState, NullRemoteConfigStatusAsGoWritesItIsAbsent) {
  TempDir dir;
  write_text(dir.path() / "persistent_state.yaml",
             "instance_id: 0190f1a8-6b1c-7c3e-9d1f-2b5c4e6a7f80\n"
             "last_remote_config_status: null\n");
  auto state = PersistentState::load_or_create(dir.path());
  EXPECT_FALSE(state->last_remote_config_status().has_value());
}

TEST(PersistentState, RewritingKeepsUnknownKeysAndTheirTypes) {
  TempDir dir;
  const auto file = dir.path() / "persistent_state.yaml";
  write_text(file, std::string(kGoWrittenState) +
                       "packages:\n"
                       "  version: \"0123\"\n"
                       "  enabled: 'true'\n"
                       "  count: 7\n"
                       "  names: [a, b]\n");
  {
    auto state = PersistentState::load_or_create(dir.path());
    const Uuid replacement = generate_uuid_v7();
    state->set_instance_id(replacement);
    state->set_last_remote_config_status({3, std::string("\x12\x34", 2), "bad: config"});
  }
  const YAML::Node written = YAML::LoadFile(file.string());
  EXPECT_EQ(written["packages"]["version"].as<std::string>(), "0123");
  EXPECT_EQ(written["packages"]["version"].Tag(), "!") << "quoted scalars stay quoted";
  EXPECT_EQ(written["packages"]["enabled"].Tag(), "!");
  EXPECT_EQ(written["packages"]["count"].as<int>(), 7);
  EXPECT_EQ(written["packages"]["names"].size(), 2u);
  EXPECT_EQ(written["last_remote_config_status"]["status"].as<int>(), 3);
  EXPECT_EQ(written["last_remote_config_status"]["last_remote_config_hash"].as<std::string>(),
            "1234");
  EXPECT_EQ(written["last_remote_config_status"]["last_remote_config_hash"].Tag(), "!")
      << "an all-digit hash must stay a string";
  EXPECT_EQ(written["last_remote_config_status"]["error_message"].as<std::string>(), "bad: config");

  auto reloaded = PersistentState::load_or_create(dir.path());
  const auto status = reloaded->last_remote_config_status();
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, (StoredRemoteConfigStatus{3, std::string("\x12\x34", 2), "bad: config"}));
}

TEST(PersistentState, CorruptFileIsReportedMovedAsideAndRecovered) {
  TempDir dir;
  const auto log_file = dir.path() / "log.json";
  common::configure_logging({.level = "info",
                             .encoding = common::LogEncoding::kJson,
                             .output_paths = {log_file.string()},
                             .error_output_paths = {"stderr"}});
  const auto storage = dir.path() / "storage";
  std::filesystem::create_directory(storage);
  const auto file = storage / "persistent_state.yaml";
  const std::string corrupt = "instance_id: [unterminated\n  : :\n";
  write_text(file, corrupt);

  auto state = PersistentState::load_or_create(storage);
  EXPECT_EQ(state->instance_id()[6] >> 4, 7) << "a fresh UUIDv7";

  const auto aside = files_starting_with(storage, "persistent_state.yaml.corrupt-");
  ASSERT_EQ(aside.size(), 1u);
  EXPECT_EQ(read_text(aside[0]), corrupt);
  EXPECT_EQ(YAML::LoadFile(file.string())["instance_id"].as<std::string>(),
            format_uuid(state->instance_id()));

  common::configure_logging({});  // release the log file
  const std::string log = read_text(log_file);
  EXPECT_THAT(log, HasSubstr(file.string()));
  EXPECT_THAT(log, HasSubstr("line "));
  EXPECT_THAT(log, HasSubstr("\"level\":\"error\""));
}

TEST(PersistentState, NonMappingTopLevelIsCorrupt) {
  TempDir dir;
  write_text(dir.path() / "persistent_state.yaml", "- just\n- a list\n");
  auto state = PersistentState::load_or_create(dir.path());
  EXPECT_EQ(files_starting_with(dir.path(), "persistent_state.yaml.corrupt-").size(), 1u);
}

TEST(PersistentState, InvalidInstanceIdIsReplacedKeepingOtherKeys) {
  TempDir dir;
  const auto file = dir.path() / "persistent_state.yaml";
  write_text(file, "instance_id: not-a-uuid\nmodule_key: kept\n");
  auto state = PersistentState::load_or_create(dir.path());
  EXPECT_EQ(state->instance_id()[6] >> 4, 7);
  const YAML::Node written = YAML::LoadFile(file.string());
  EXPECT_EQ(written["module_key"].as<std::string>(), "kept");
  EXPECT_EQ(written["instance_id"].as<std::string>(), format_uuid(state->instance_id()));
}

TEST(PersistentState, EmptyFileGetsAFreshId) {
  TempDir dir;
  write_text(dir.path() / "persistent_state.yaml", "");
  auto state = PersistentState::load_or_create(dir.path());
  EXPECT_EQ(state->instance_id()[6] >> 4, 7);
  EXPECT_EQ(PersistentState::load_or_create(dir.path())->instance_id(), state->instance_id());
}

TEST(PersistentState, ConfiguredInstanceIdOverridesAndIsPersisted) {
  TempDir dir;
  write_text(dir.path() / "persistent_state.yaml", kGoWrittenState);
  const Uuid configured = *parse_uuid("018f070c-a6bc-6a08-0615-825ff239fadc");
  auto state = PersistentState::load_or_create(dir.path(), configured);
  EXPECT_EQ(state->instance_id(), configured);
  EXPECT_TRUE(state->last_remote_config_status().has_value()) << "other keys kept";
  EXPECT_EQ(PersistentState::load_or_create(dir.path())->instance_id(), configured);
}

TEST(PersistentState, ReadsUlidInstanceIdOfOlderSupervisors) {
  TempDir dir;
  write_text(dir.path() / "persistent_state.yaml", "instance_id: \"01HW3GS9NWD840C5C2BZS3KYPW\"\n");
  auto state = PersistentState::load_or_create(dir.path());
  EXPECT_EQ(format_uuid(state->instance_id()), "018f070c-a6bc-6a08-0615-825ff239fadc");
}

TEST(PersistentState, UndecodableHashGivesNoStatus) {
  TempDir dir;
  write_text(dir.path() / "persistent_state.yaml",
             "instance_id: 0190f1a8-6b1c-7c3e-9d1f-2b5c4e6a7f80\n"
             "last_remote_config_status: {status: 1, last_remote_config_hash: xyz}\n");
  auto state = PersistentState::load_or_create(dir.path());
  EXPECT_FALSE(state->last_remote_config_status().has_value());
}

TEST(PersistentState, ModuleKeysCanBeSetReadAndRemoved) {
  TempDir dir;
  auto state = PersistentState::load_or_create(dir.path());
  EXPECT_EQ(state->value_yaml("packages"), std::nullopt);
  state->set_value_yaml("packages", "{hash: \"00ab\", names: [x]}");
  const YAML::Node value = YAML::Load(*state->value_yaml("packages"));
  EXPECT_EQ(value["hash"].as<std::string>(), "00ab");

  auto reloaded = PersistentState::load_or_create(dir.path());
  ASSERT_TRUE(reloaded->value_yaml("packages").has_value());
  EXPECT_EQ(YAML::Load(*reloaded->value_yaml("packages"))["names"][0].as<std::string>(), "x");
  reloaded->remove_value("packages");
  EXPECT_EQ(PersistentState::load_or_create(dir.path())->value_yaml("packages"), std::nullopt);

  EXPECT_THROW(state->set_value_yaml("instance_id", "x"), std::invalid_argument);
  EXPECT_THROW(state->set_value_yaml("k", "[unterminated"), std::invalid_argument);
}

TEST(PersistentState, UncreatableStorageDirectoryThrowsNamingIt) {
  TempDir dir;
  write_text(dir.path() / "file", "x");
  const auto storage = dir.path() / "file" / "storage";  // under a regular file
  try {
    PersistentState::load_or_create(storage);
    FAIL() << "expected an exception";
  } catch (const std::runtime_error &error) {
    EXPECT_THAT(error.what(), HasSubstr(storage.string()));
  }
}

}  // namespace
}  // namespace opsup::storage
