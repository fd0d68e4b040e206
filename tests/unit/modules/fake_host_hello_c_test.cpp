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
  // It reads no ServerToAgent itself: custom messages come decoded (on_custom_message).
  EXPECT_EQ(host_.descriptor().server_to_agent_field_count, 0u);
  EXPECT_NE(host_.hooks().on_custom_message, nullptr);
}

TEST_F(HelloC, SendsNothingAtStart) {
  // The host advertises the descriptor's capability; the module need not announce it.
  EXPECT_TRUE(host_.agent_fields().empty());
  EXPECT_TRUE(host_.sent_custom_messages().empty());
  EXPECT_TRUE(host_.logged("hello_c started", OPSUP_LOG_INFO));
}

TEST_F(HelloC, AnswersPingWithPongCarryingTheSameData) {
  const std::string data("\0binary\xff" + std::string(300, '\x7f'));
  host_.deliver_server_message(ping("io.opsup.example.hello", "ping", data));
  ASSERT_EQ(host_.sent_custom_messages().size(), 1u);
  const auto &reply = host_.sent_custom_messages()[0];
  EXPECT_EQ(reply.capability, "io.opsup.example.hello");
  EXPECT_EQ(reply.type, "pong");
  EXPECT_EQ(reply.data, data);
  EXPECT_TRUE(host_.agent_fields().empty());
}

TEST_F(HelloC, IgnoresOtherCapabilitiesTypesAndGarbage) {
  host_.deliver_server_message(ping("com.example.other", "ping", "x"));
  host_.deliver_server_message(ping("io.opsup.example.hello", "pong", "x"));
  ServerToAgent no_custom;
  no_custom.set_flags(1);
  host_.deliver_server_message(no_custom.SerializeAsString());
  host_.deliver_server_message(std::string("\x5a\x7f", 2));
  EXPECT_TRUE(host_.sent_custom_messages().empty());
}

TEST_F(HelloC, CountsPingsUntilStopped) {
  host_.deliver_server_message(ping("io.opsup.example.hello", "ping", "1"));
  host_.deliver_server_message(ping("io.opsup.example.hello", "ping", "2"));
  host_.stop();
  EXPECT_TRUE(host_.logged("hello_c stopped after 2 pings"));
}

TEST_F(HelloC, LogsTheCollectorsStateWhenItTurnsHealthy) {
  auto &state = host_.collector_state();
  state.running = true;
  state.pid = 4321;
  state.health = OPSUP_COLLECTOR_HEALTH_HEALTHY;
  state.generation = 7;
  host_.deliver_event(OPSUP_EVENT_COLLECTOR_STARTED, "", 4321, 0, 7);
  EXPECT_FALSE(host_.logged("hello_c: Collector"));
  host_.deliver_event(OPSUP_EVENT_COLLECTOR_HEALTHY, "", 4321, 0, 7);
  EXPECT_TRUE(
      host_.logged("hello_c: Collector pid 4321 healthy on config generation 7", OPSUP_LOG_INFO));
}

TEST(HelloCCollector, SaysNothingWithoutACollector) {
  opsup::testing::FakeHost host;
  host.set_collector_available(false);
  ASSERT_EQ(host.load(&opsup_module_entry_v1), OPSUP_OK);
  ASSERT_EQ(host.create(), OPSUP_OK) << host.last_error();
  host.deliver_event(OPSUP_EVENT_COLLECTOR_HEALTHY);
  EXPECT_FALSE(host.logged("hello_c: Collector"));
}

TEST(HelloCSettings, RepliesWithTheConfiguredType) {
  opsup::testing::FakeHost host;
  host.set_setting("reply_type", "ack");
  ASSERT_EQ(host.load(&opsup_module_entry_v1), OPSUP_OK);
  ASSERT_EQ(host.create(), OPSUP_OK) << host.last_error();
  ASSERT_EQ(host.start(), OPSUP_OK) << host.last_error();
  host.deliver_server_message(ping("io.opsup.example.hello", "ping", "x"));
  ASSERT_EQ(host.sent_custom_messages().size(), 1u);
  EXPECT_EQ(host.sent_custom_messages()[0].type, "ack");
}

TEST(HelloCSettings, RejectsAListNamingTheKey) {
  opsup::testing::FakeHost host;
  host.set_setting_list("reply_type", {"a", "b"});
  ASSERT_EQ(host.load(&opsup_module_entry_v1), OPSUP_OK);
  EXPECT_EQ(host.create(), OPSUP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(host.last_error(),
            "plugins.io.opsup.example.hello.reply_type: must be a single value, not a list");
}

TEST(HelloCEntry, RefusesAHostThatOnlyAcceptsNewerMinors) {
  opsup::testing::FakeHost host;
  EXPECT_EQ(host.load(&opsup_module_entry_v1, OPSUP_ABI_MINOR + 1, OPSUP_ABI_MINOR + 1),
            OPSUP_ERR_INCOMPATIBLE);
}

}  // namespace
