// Pins the layout of the C ABI: offsetof/sizeof of every struct in opsup/module.h, as
// the C++ compiler sees it (static_assert and at run time) and as the C compiler sees it
// (abi_layout_c.c), plus the numeric constants modules compile in.
#include <gtest/gtest.h>

#include <cstddef>
#include <string>

#include "abi_layout_c.h"
#include "opsup/module.h"
#include "opsup/opamp_constants.h"

namespace {

#if defined(__LP64__)
#define OPSUP_LAYOUT_FIELD(type, field, offset) \
  static_assert(offsetof(type, field) == (offset), #type "." #field " moved");
#define OPSUP_LAYOUT_SIZE(type, size) static_assert(sizeof(type) == (size), #type " resized");
#include "abi_layout.def"
#undef OPSUP_LAYOUT_FIELD
#undef OPSUP_LAYOUT_SIZE
#endif

struct CxxEntry {
  std::string type;
  std::string field;
  size_t actual;
  size_t pinned;
};

#define OPSUP_LAYOUT_FIELD(type, field, offset) {#type, #field, offsetof(type, field), (offset)},
#define OPSUP_LAYOUT_SIZE(type, size) {#type, "sizeof", sizeof(type), (size)},
const CxxEntry kCxxEntries[] = {
#include "abi_layout.def"
};
#undef OPSUP_LAYOUT_FIELD
#undef OPSUP_LAYOUT_SIZE

class AbiLayout : public ::testing::Test {
 protected:
  void SetUp() override {
#if !defined(__LP64__)
    GTEST_SKIP() << "the layout is pinned for LP64 targets";
#endif
  }
};

TEST_F(AbiLayout, CxxOffsetsAndSizesMatchThePinnedLayout) {
  for (const CxxEntry &entry : kCxxEntries) {
    EXPECT_EQ(entry.actual, entry.pinned) << entry.type << "." << entry.field;
  }
}

TEST_F(AbiLayout, CCompilerAgreesWithThePinnedLayoutAndWithCxx) {
  size_t count = 0;
  const abi_layout_entry *entries = abi_layout_c_entries(&count);
  ASSERT_EQ(count, std::size(kCxxEntries));
  for (size_t i = 0; i < count; ++i) {
    EXPECT_EQ(entries[i].actual, entries[i].pinned) << entries[i].type << "." << entries[i].field;
    EXPECT_EQ(entries[i].actual, kCxxEntries[i].actual)
        << entries[i].type << "." << entries[i].field << ": C and C++ disagree";
  }
}

TEST_F(AbiLayout, HasFieldTellsWhichFieldsASmallerStructCarries) {
  const uint32_t minor0_hooks = offsetof(opsup_module_hooks, on_event);
  EXPECT_TRUE(OPSUP_HAS_FIELD(opsup_module_hooks, minor0_hooks, on_collector_message));
  EXPECT_FALSE(OPSUP_HAS_FIELD(opsup_module_hooks, minor0_hooks, on_event));
  opsup_host_api api{};
  api.struct_size = offsetof(opsup_host_api, storage_read);
  EXPECT_TRUE(OPSUP_HOST_HAS(&api, run_blocking));
  EXPECT_FALSE(OPSUP_HOST_HAS(&api, storage_read));
  EXPECT_FALSE(OPSUP_HOST_HAS(&api, storage_write));
  // A minor-0 host's table ends after storage_write.
  api.struct_size = offsetof(opsup_host_api, own_settings_yaml);
  EXPECT_TRUE(OPSUP_HOST_HAS(&api, storage_write));
  EXPECT_FALSE(OPSUP_HOST_HAS(&api, own_settings_yaml));
  // A minor-1 host's table ends after own_settings_yaml.
  api.struct_size = offsetof(opsup_host_api, setting_string);
  EXPECT_TRUE(OPSUP_HOST_HAS(&api, own_settings_yaml));
  EXPECT_FALSE(OPSUP_HOST_HAS(&api, setting_string));
  EXPECT_FALSE(OPSUP_HOST_HAS(&api, send_custom_message));
  // A minor-2 host's table ends after send_custom_message.
  api.struct_size = offsetof(opsup_host_api, set_config_layer);
  EXPECT_TRUE(OPSUP_HOST_HAS(&api, send_custom_message));
  EXPECT_FALSE(OPSUP_HOST_HAS(&api, set_config_layer));
  EXPECT_FALSE(OPSUP_HOST_HAS(&api, state_write));
  // A minor-3 host's table ends after send_to_collector.
  api.struct_size = offsetof(opsup_host_api, download_start);
  EXPECT_TRUE(OPSUP_HOST_HAS(&api, send_to_collector));
  EXPECT_FALSE(OPSUP_HOST_HAS(&api, download_start));
  api.struct_size = sizeof api;
  EXPECT_TRUE(OPSUP_HOST_HAS(&api, state_write));
  EXPECT_TRUE(OPSUP_HOST_HAS(&api, package_files_remove));
  api.struct_size = offsetof(opsup_host_api, try_opamp_connection_settings);
  EXPECT_TRUE(OPSUP_HOST_HAS(&api, package_files_remove));
  EXPECT_FALSE(OPSUP_HOST_HAS(&api, try_opamp_connection_settings));
  api.struct_size = sizeof api;
  EXPECT_TRUE(OPSUP_HOST_HAS(&api, try_opamp_connection_settings));
  api.struct_size = offsetof(opsup_host_api, update_collector_executable);
  EXPECT_TRUE(OPSUP_HOST_HAS(&api, try_opamp_connection_settings));
  EXPECT_FALSE(OPSUP_HOST_HAS(&api, update_collector_executable));
  EXPECT_FALSE(OPSUP_HOST_HAS(&api, collector_update_recovery));
  api.struct_size = sizeof api;
  EXPECT_TRUE(OPSUP_HOST_HAS(&api, update_collector_executable));
  EXPECT_TRUE(OPSUP_HOST_HAS(&api, collector_update_recovery));
  // A minor-2 host's event ends after message: no generation.
  const uint32_t minor2_event = offsetof(opsup_event, generation);
  EXPECT_TRUE(OPSUP_HAS_FIELD(opsup_event, minor2_event, message));
  EXPECT_FALSE(OPSUP_HAS_FIELD(opsup_event, minor2_event, generation));
  EXPECT_TRUE(OPSUP_HAS_FIELD(opsup_event, sizeof(opsup_event), generation));
  // collector_state lowers struct_size to what it filled; a future, bigger struct reads
  // the fields of this minor.
  EXPECT_TRUE(OPSUP_HAS_FIELD(opsup_collector_state, sizeof(opsup_collector_state), last_error));
  EXPECT_FALSE(OPSUP_HAS_FIELD(opsup_collector_state, offsetof(opsup_collector_state, last_error),
                               last_error));
  // A minor-1 module's hooks end before on_custom_message.
  const uint32_t minor1_hooks = offsetof(opsup_module_hooks, on_custom_message);
  EXPECT_TRUE(OPSUP_HAS_FIELD(opsup_module_hooks, minor1_hooks, validate_collector_config));
  EXPECT_FALSE(OPSUP_HAS_FIELD(opsup_module_hooks, minor1_hooks, on_custom_message));
}

TEST_F(AbiLayout, ConstantsAreStable) {
  EXPECT_EQ(OPSUP_ABI_MAJOR, 1);
  // 1: own_settings_yaml, 2: settings, custom messages, 3: Collector services, state,
  // 4: package downloads, 5: OpAMP connection settings, 6: Collector executable update
  EXPECT_EQ(OPSUP_HEADER_ABI_MINOR, 6);
  // Without OPSUP_TARGET_ABI_MINOR a translation unit targets the header's newest minor.
  EXPECT_EQ(OPSUP_TARGET_ABI_MINOR, OPSUP_HEADER_ABI_MINOR);
  EXPECT_EQ(OPSUP_ABI_MINOR, OPSUP_HEADER_ABI_MINOR);
  EXPECT_EQ(std::string(OPSUP_MODULE_ENTRY_SYMBOL), "opsup_module_entry_v1");
  EXPECT_EQ(std::string(OPSUP_MODULE_ENTRY_PREFIX), "opsup_module_entry_v");
  EXPECT_EQ(OPSUP_OK, 0);
  EXPECT_EQ(OPSUP_ERR_INCOMPATIBLE, 1);
  EXPECT_EQ(OPSUP_ERR_INVALID_ARGUMENT, 2);
  EXPECT_EQ(OPSUP_ERR_FAILED, 3);
  EXPECT_EQ(OPSUP_ERR_UNSUPPORTED, 4);
  EXPECT_EQ(OPSUP_ERR_NOT_FOUND, 5);
  EXPECT_EQ(OPSUP_ERR_VETO, 6);
  EXPECT_EQ(OPSUP_LOG_TRACE, 0);
  EXPECT_EQ(OPSUP_LOG_ERROR, 4);
  EXPECT_EQ(OPSUP_EVENT_COLLECTOR_STARTED, 1);
  EXPECT_EQ(OPSUP_EVENT_SERVER_DISCONNECTED, 6);
  EXPECT_EQ(OPSUP_CONFIG_VALIDATE, 0x1u);
  EXPECT_EQ(OPSUP_REMOTE_CONFIG_CLEAR, 0x2u);
  EXPECT_EQ(OPSUP_COLLECTOR_HEALTH_UNKNOWN, 0);
  EXPECT_EQ(OPSUP_COLLECTOR_HEALTH_HEALTHY, 1);
  EXPECT_EQ(OPSUP_COLLECTOR_HEALTH_UNHEALTHY, 2);
  EXPECT_EQ(OPSUP_UPDATE_NONE, 0);
  EXPECT_EQ(OPSUP_UPDATE_INSTALLED, 1);
  EXPECT_EQ(OPSUP_UPDATE_ROLLED_BACK, 2);
  EXPECT_EQ(OPSUP_CAP_REPORTS_STATUS, 0x1u);
  EXPECT_EQ(OPSUP_CAP_REPORTS_HEARTBEAT, 0x2000u);
  EXPECT_EQ(OPSUP_CAP_REPORTS_CONNECTION_SETTINGS_STATUS, 0x8000u);
  EXPECT_EQ(OPSUP_S2A_CUSTOM_MESSAGE, 11);
  EXPECT_EQ(OPSUP_A2S_CUSTOM_MESSAGE, 13);
}

}  // namespace
