// The pure parts of the ABI's Collector services (minor 3): names, flags, the remote config
// array and the translation of the Collector's answers into the C types.
#include "modules/collector_services.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>

namespace opsup::modules {
namespace {

TEST(CollectorServices, NamesAreNonEmptyAndPlain) {
  EXPECT_TRUE(valid_service_name("policy"));
  EXPECT_TRUE(valid_service_name("a-b_c.D9"));
  EXPECT_FALSE(valid_service_name(""));
  EXPECT_FALSE(valid_service_name("a b"));
  EXPECT_FALSE(valid_service_name("a/b"));
  EXPECT_FALSE(valid_service_name("$REMOTE_CONFIG"));
  EXPECT_FALSE(valid_service_name("caf\xc3\xa9"));
  EXPECT_EQ(service_name_problem(nullptr, "layer name"), "layer name is NULL");
  EXPECT_EQ(service_name_problem("", "layer name"), "layer name is empty");
  EXPECT_EQ(service_name_problem("a:b", "layer name"),
            "layer name \"a:b\" has a character outside [A-Za-z0-9_.-]");
  EXPECT_EQ(service_name_problem("ok", "layer name"), std::nullopt);
}

TEST(CollectorServices, UnknownFlagsAreNamed) {
  EXPECT_EQ(flags_problem(0, OPSUP_CONFIG_VALIDATE), std::nullopt);
  EXPECT_EQ(flags_problem(OPSUP_CONFIG_VALIDATE, OPSUP_CONFIG_VALIDATE), std::nullopt);
  EXPECT_EQ(flags_problem(OPSUP_REMOTE_CONFIG_CLEAR | 0x80u, OPSUP_CONFIG_VALIDATE),
            "unknown flags 0x82");
}

opsup_config_file file(const char *name, std::string_view body, const char *type) {
  opsup_config_file f{};
  f.struct_size = sizeof f;
  f.name = name;
  f.body = opsup_bytes{reinterpret_cast<const uint8_t *>(body.data()), body.size()};
  f.content_type = type;
  return f;
}

TEST(CollectorServices, RemoteConfigFilesAreCopied) {
  const opsup_config_file files[] = {file("base", "receivers: {}\n", "text/yaml"),
                                     file(nullptr, "exporters: {}\n", nullptr)};
  std::optional<std::vector<RemoteConfigFile>> out;
  ASSERT_EQ(copy_remote_config_files(files, 2, 0, out), std::nullopt);
  ASSERT_TRUE(out);
  ASSERT_EQ(out->size(), 2u);
  EXPECT_EQ((*out)[0].name, "base");
  EXPECT_EQ((*out)[0].body, "receivers: {}\n");
  EXPECT_EQ((*out)[0].content_type, "text/yaml");
  EXPECT_EQ((*out)[1].name, "");
  EXPECT_EQ((*out)[1].content_type, "");

  // No files without CLEAR: a received empty config map.
  ASSERT_EQ(copy_remote_config_files(nullptr, 0, OPSUP_CONFIG_VALIDATE, out), std::nullopt);
  ASSERT_TRUE(out);
  EXPECT_TRUE(out->empty());
  // CLEAR ignores the files, even a bad array.
  ASSERT_EQ(copy_remote_config_files(nullptr, 5, OPSUP_REMOTE_CONFIG_CLEAR, out), std::nullopt);
  EXPECT_FALSE(out);
}

TEST(CollectorServices, RemoteConfigFilesStepByTheModulesStructSize) {
  // A module built against a later minor, whose opsup_config_file has grown by 8 bytes.
  struct Bigger {
    opsup_config_file file;
    uint64_t later_field;
  };
  Bigger files[2]{};
  files[0].file = file("a", "x: 1\n", nullptr);
  files[1].file = file("b", "y: 2\n", nullptr);
  files[0].file.struct_size = files[1].file.struct_size = sizeof(Bigger);
  std::optional<std::vector<RemoteConfigFile>> out;
  ASSERT_EQ(copy_remote_config_files(&files[0].file, 2, 0, out), std::nullopt);
  ASSERT_EQ(out->size(), 2u);
  EXPECT_EQ((*out)[1].name, "b");
  EXPECT_EQ((*out)[1].body, "y: 2\n");
}

TEST(CollectorServices, MalformedRemoteConfigArraysAreRefused) {
  std::optional<std::vector<RemoteConfigFile>> out;
  EXPECT_EQ(copy_remote_config_files(nullptr, 1, 0, out), "files is NULL with count 1");
  opsup_config_file files[2] = {file("a", "", nullptr), file("b", "", nullptr)};
  files[0].struct_size = 8;
  EXPECT_EQ(copy_remote_config_files(files, 1, 0, out),
            "files[0].struct_size 8 is smaller than 40");
  files[0].struct_size = sizeof(opsup_config_file);
  files[1].struct_size = 48;
  EXPECT_EQ(copy_remote_config_files(files, 2, 0, out),
            "files[1].struct_size 48 differs from files[0]'s 40");
  files[1].struct_size = sizeof(opsup_config_file);
  files[1].body = opsup_bytes{nullptr, 3};
  EXPECT_EQ(copy_remote_config_files(files, 2, 0, out), "files[1].body is NULL with a size");
}

TEST(CollectorServices, ResultsMapToStatusCodes) {
  using Status = ConfigChangeResult::Status;
  EXPECT_EQ(config_change_status(Status::kOk), OPSUP_OK);
  EXPECT_EQ(config_change_status(Status::kVeto), OPSUP_ERR_VETO);
  EXPECT_EQ(config_change_status(Status::kInvalid), OPSUP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(config_change_status(Status::kFailed), OPSUP_ERR_FAILED);
  EXPECT_EQ(collector_health_code(CollectorHealth::kUnknown), OPSUP_COLLECTOR_HEALTH_UNKNOWN);
  EXPECT_EQ(collector_health_code(CollectorHealth::kHealthy), OPSUP_COLLECTOR_HEALTH_HEALTHY);
  EXPECT_EQ(collector_health_code(CollectorHealth::kUnhealthy), OPSUP_COLLECTOR_HEALTH_UNHEALTHY);
}

CollectorStateView running_view() {
  CollectorStateView view;
  view.running = true;
  view.pid = 4242;
  view.health = CollectorHealth::kHealthy;
  view.generation = 3;
  view.latest_generation = 4;
  view.restart_count = 2;
  view.start_time_unix_nano = 1700000000000000000ull;
  return view;
}

TEST(CollectorServices, StateFillsTheWholeStruct) {
  const std::string last_error = "exporter down";
  opsup_collector_state out{};
  out.struct_size = sizeof out;
  ASSERT_TRUE(fill_collector_state(running_view(), last_error, &out));
  EXPECT_EQ(out.struct_size, sizeof out);
  EXPECT_EQ(out.running, 1);
  EXPECT_EQ(out.pid, 4242);
  EXPECT_EQ(out.health, OPSUP_COLLECTOR_HEALTH_HEALTHY);
  EXPECT_EQ(out.generation, 3u);
  EXPECT_EQ(out.latest_generation, 4u);
  EXPECT_EQ(out.restart_count, 2u);
  EXPECT_EQ(out.start_time_unix_nano, 1700000000000000000ull);
  EXPECT_EQ(out.last_error, last_error.c_str());
}

TEST(CollectorServices, StateFillsOnlyWhatAnOlderCallersStructHolds) {
  // A caller whose struct ends before latest_generation: nothing past it is touched.
  struct Guarded {
    opsup_collector_state state;
    uint64_t canary;
  } guarded;
  std::memset(&guarded, 0xAB, sizeof guarded);
  guarded.state.struct_size = offsetof(opsup_collector_state, latest_generation);
  ASSERT_TRUE(fill_collector_state(running_view(), "", &guarded.state));
  EXPECT_EQ(guarded.state.struct_size, offsetof(opsup_collector_state, latest_generation));
  EXPECT_EQ(guarded.state.generation, 3u);
  EXPECT_EQ(guarded.state.latest_generation, 0xABABABABABABABABull);
  EXPECT_EQ(guarded.canary, 0xABABABABABABABABull);

  // A newer caller's bigger struct: the host fills its own size and says so.
  guarded.state.struct_size = sizeof guarded;
  ASSERT_TRUE(fill_collector_state(running_view(), "", &guarded.state));
  EXPECT_EQ(guarded.state.struct_size, sizeof(opsup_collector_state));
  EXPECT_EQ(guarded.canary, 0xABABABABABABABABull);

  // Too small to hold `running`, or NULL.
  opsup_collector_state tiny{};
  tiny.struct_size = 4;
  EXPECT_FALSE(fill_collector_state(running_view(), "", &tiny));
  EXPECT_FALSE(fill_collector_state(running_view(), "", nullptr));
}

TEST(CollectorServices, AStoppedCollectorHasNoPid) {
  CollectorStateView view = running_view();
  view.running = false;
  opsup_collector_state out{};
  out.struct_size = sizeof out;
  ASSERT_TRUE(fill_collector_state(view, "exited with code 1", &out));
  EXPECT_EQ(out.running, 0);
  EXPECT_EQ(out.pid, 0);
}

}  // namespace
}  // namespace opsup::modules
