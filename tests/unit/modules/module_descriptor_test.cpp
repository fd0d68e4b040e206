#include "modules/module_descriptor.hpp"

#include <gtest/gtest.h>

#include "opsup/opamp_constants.h"

namespace opsup::modules {
namespace {

void on_event_hook(opsup_module *, const opsup_event *) {}
void stop_hook(opsup_module *) {}

class Descriptor : public ::testing::Test {
 protected:
  Descriptor() {
    hooks_.struct_size = sizeof hooks_;
    hooks_.stop = &stop_hook;
    hooks_.on_event = &on_event_hook;
    raw_.struct_size = sizeof raw_;
    raw_.abi_major = OPSUP_ABI_MAJOR;
    raw_.id = "com.example.test-module_1";
    raw_.version = "1.2.3";
    raw_.description = "a test";
    raw_.capabilities = OPSUP_CAP_REPORTS_HEALTH;
    raw_.custom_capabilities = custom_;
    raw_.server_to_agent_fields = server_fields_;
    raw_.server_to_agent_field_count = 3;
    raw_.hooks = &hooks_;
  }

  std::optional<std::string> read() { return read_descriptor(&raw_, info_, hooks_out_); }

  const char *custom_[3] = {"com.example.a", "com.example.a", nullptr};
  uint32_t server_fields_[3] = {11, 3, 11};
  opsup_module_hooks hooks_{};
  opsup_module_descriptor raw_{};
  ModuleInfo info_;
  opsup_module_hooks hooks_out_{};
};

TEST_F(Descriptor, IsCopiedAndNormalized) {
  ASSERT_EQ(read(), std::nullopt);
  EXPECT_EQ(info_.id, "com.example.test-module_1");
  EXPECT_EQ(info_.version, "1.2.3");
  EXPECT_EQ(info_.description, "a test");
  EXPECT_EQ(info_.capabilities, OPSUP_CAP_REPORTS_HEALTH);
  EXPECT_EQ(info_.custom_capabilities, std::vector<std::string>{"com.example.a"});
  EXPECT_EQ(info_.server_to_agent_fields, (std::vector<uint32_t>{3, 11}));
  EXPECT_TRUE(info_.agent_to_server_fields.empty());
  EXPECT_EQ(hooks_out_.stop, &stop_hook);
  EXPECT_EQ(hooks_out_.on_event, &on_event_hook);
}

TEST_F(Descriptor, SmallerStructsLeaveTrailingMembersAbsent) {
  hooks_.struct_size = offsetof(opsup_module_hooks, on_event);
  raw_.struct_size = kMinimalDescriptorSize;  // ends with capabilities
  ASSERT_EQ(read(), std::nullopt);
  EXPECT_EQ(info_.capabilities, OPSUP_CAP_REPORTS_HEALTH);
  EXPECT_TRUE(info_.custom_capabilities.empty());
  EXPECT_TRUE(info_.server_to_agent_fields.empty());
  EXPECT_EQ(hooks_out_.stop, nullptr);  // the hooks pointer itself is beyond the size

  raw_.struct_size = offsetof(opsup_module_descriptor, reserved);
  ASSERT_EQ(read(), std::nullopt);
  EXPECT_EQ(hooks_out_.stop, &stop_hook);
  EXPECT_EQ(hooks_out_.on_event, nullptr);
}

TEST_F(Descriptor, BadDescriptorsAreRefusedWithTheReason) {
  raw_.struct_size = 16;
  EXPECT_NE(read()->find("is smaller than the minimum"), std::string::npos);
  raw_.struct_size = sizeof raw_;

  raw_.abi_major = 2;
  EXPECT_EQ(read(), "descriptor declares ABI major 2, this supervisor supports major 1");
  raw_.abi_major = OPSUP_ABI_MAJOR;

  for (const char *bad : {"", "-leading", "has space", "slash/id"}) {
    raw_.id = bad;
    EXPECT_NE(read()->find("is not a valid module id"), std::string::npos) << bad;
  }
  raw_.id = nullptr;
  EXPECT_NE(read()->find("is not a valid module id"), std::string::npos);
  raw_.id = "ok";

  raw_.capabilities = 0x10000;
  EXPECT_EQ(read(),
            "descriptor claims capability bits the OpAMP spec does not define (bit 0x10000)");
  raw_.capabilities = 0;

  raw_.server_to_agent_fields = nullptr;
  EXPECT_EQ(read(), "descriptor server_to_agent_fields has 3 entries but no array");
  raw_.server_to_agent_fields = server_fields_;
  server_fields_[1] = 0;
  EXPECT_EQ(read(), "descriptor server_to_agent_fields holds invalid field number 0");
  server_fields_[1] = 3;

  custom_[0] = "";
  EXPECT_EQ(read(), "descriptor lists an empty custom capability name");
  custom_[0] = "com.example.a";

  hooks_.struct_size = 4;
  EXPECT_EQ(read(), "hooks struct_size 4 is smaller than its header");
  EXPECT_EQ(read_descriptor(nullptr, info_, hooks_out_),
            "the entry returned OPSUP_OK but no descriptor");
}

}  // namespace
}  // namespace opsup::modules
