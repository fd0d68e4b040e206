// The C example under the SDK's fake host, as a vendor would unit-test a module: its
// source is compiled into the test, which calls its entry directly.
#include <gtest/gtest.h>

#include <opsup/testing/fake_host.hpp>

#include "opamp.pb.h"

namespace {

using opamp::proto::v1::AgentToServer;
using opamp::proto::v1::ServerToAgent;

std::string ping(const std::string &capability, const std::string &type, const std::string &data) {
  ServerToAgent message;
  message.set_capabilities(1);
  auto *custom = message.mutable_custom_message();
  custom->set_capability(capability);
  custom->set_type(type);
  custom->set_data(data);
  return message.SerializeAsString();
}

class HelloC : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(host_.load(&opsup_module_entry_v1), OPSUP_OK);
    ASSERT_EQ(host_.create(), OPSUP_OK) << host_.last_error();
    ASSERT_EQ(host_.start(), OPSUP_OK) << host_.last_error();
  }
  opsup::testing::FakeHost host_;
};

TEST_F(HelloC, DescriptorOwnsOnlyItsCustomCapability) {
  EXPECT_STREQ(host_.descriptor().id, "io.opsup.example.hello");
  EXPECT_EQ(host_.descriptor().capabilities, 0u);
  EXPECT_EQ(host_.custom_capabilities(), std::vector<std::string>{"io.opsup.example.hello"});
  ASSERT_EQ(host_.descriptor().server_to_agent_field_count, 1u);
  EXPECT_EQ(host_.descriptor().server_to_agent_fields[0], uint32_t{OPSUP_S2A_CUSTOM_MESSAGE});
}

TEST_F(HelloC, AnnouncesItsCapabilityAtStart) {
  ASSERT_EQ(host_.agent_fields().size(), 1u);
  AgentToServer fields;
  ASSERT_TRUE(fields.ParseFromString(host_.agent_fields()[0]));
  ASSERT_EQ(fields.custom_capabilities().capabilities_size(), 1);
  EXPECT_EQ(fields.custom_capabilities().capabilities(0), "io.opsup.example.hello");
  EXPECT_FALSE(fields.has_custom_message());
  EXPECT_TRUE(host_.logged("hello_c started", OPSUP_LOG_INFO));
}

TEST_F(HelloC, AnswersPingWithPongCarryingTheSameData) {
  const std::string data(300, '\x7f');  // long enough for a two-byte length
  host_.deliver_server_message(ping("io.opsup.example.hello", "ping", data));
  ASSERT_EQ(host_.agent_fields().size(), 2u);
  AgentToServer reply;
  ASSERT_TRUE(reply.ParseFromString(host_.agent_fields()[1]));
  EXPECT_EQ(reply.custom_message().capability(), "io.opsup.example.hello");
  EXPECT_EQ(reply.custom_message().type(), "pong");
  EXPECT_EQ(reply.custom_message().data(), data);
  // Owned fields are always resent: a field left out would be cleared.
  EXPECT_EQ(reply.custom_capabilities().capabilities_size(), 1);
  EXPECT_TRUE(host_.rejected_agent_fields().empty());
}

TEST_F(HelloC, IgnoresOtherCapabilitiesTypesAndGarbage) {
  host_.deliver_server_message(ping("com.example.other", "ping", "x"));
  host_.deliver_server_message(ping("io.opsup.example.hello", "pong", "x"));
  ServerToAgent no_custom;
  no_custom.set_flags(1);
  host_.deliver_server_message(no_custom.SerializeAsString());
  host_.deliver_server_message(std::string("\x5a\x7f", 2));
  EXPECT_EQ(host_.agent_fields().size(), 1u);
  EXPECT_TRUE(host_.logged("malformed", OPSUP_LOG_WARN));
}

TEST_F(HelloC, CountsPingsUntilStopped) {
  host_.deliver_server_message(ping("io.opsup.example.hello", "ping", "1"));
  host_.deliver_server_message(ping("io.opsup.example.hello", "ping", "2"));
  host_.stop();
  EXPECT_TRUE(host_.logged("hello_c stopped after 2 pings"));
}

TEST(HelloCEntry, RefusesAHostThatOnlyAcceptsNewerMinors) {
  opsup::testing::FakeHost host;
  EXPECT_EQ(host.load(&opsup_module_entry_v1, OPSUP_ABI_MINOR + 1, OPSUP_ABI_MINOR + 1),
            OPSUP_ERR_INCOMPATIBLE);
}

}  // namespace
