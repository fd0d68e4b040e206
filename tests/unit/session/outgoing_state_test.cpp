#include "session/outgoing_state.hpp"

#include <gtest/gtest.h>

namespace opsup::session {
namespace {

constexpr uint64_t kCapabilities = 0x1 | 0x800 | 0x2000;

std::vector<uint32_t> fields(std::initializer_list<uint32_t> list) {
  return list;
}

proto::AgentToServer health(bool healthy, const std::string &status) {
  proto::AgentToServer message;
  message.mutable_health()->set_healthy(healthy);
  message.mutable_health()->set_status(status);
  return message;
}

proto::AgentToServer custom_capabilities(std::initializer_list<std::string> names) {
  proto::AgentToServer message;
  for (const auto &name : names)
    message.mutable_custom_capabilities()->add_capabilities(name);
  return message;
}

proto::AgentToServer custom_message(const std::string &type) {
  proto::AgentToServer message;
  message.mutable_custom_message()->set_capability("com.example.x");
  message.mutable_custom_message()->set_type(type);
  return message;
}

class OutgoingStateTest : public ::testing::Test {
 protected:
  OutgoingStateTest() : state(kCapabilities) {
    uid.fill(7);
    state.set_instance_uid(uid);
    proto::AgentDescription description;
    auto *attribute = description.add_identifying_attributes();
    attribute->set_key("service.name");
    attribute->mutable_value()->set_string_value("svc");
    state.set_agent_description(description);
  }
  InstanceUid uid;
  OutgoingState state;
};

TEST_F(OutgoingStateTest, FirstMessageIsAFullReportStartingAtSequenceZero) {
  state.set_module_fields("health", fields({5}), health(false, "starting"));
  ASSERT_TRUE(state.has_pending());
  const proto::AgentToServer first = state.take_next_message();
  EXPECT_EQ(first.sequence_num(), 0u);
  EXPECT_EQ(first.instance_uid(), std::string(uid.begin(), uid.end()));
  EXPECT_EQ(first.capabilities(), kCapabilities);
  EXPECT_TRUE(first.has_agent_description());
  EXPECT_TRUE(first.has_health());
  EXPECT_FALSE(first.has_effective_config()) << "unknown fields stay absent";
  EXPECT_FALSE(state.has_pending());
}

TEST_F(OutgoingStateTest, LaterMessagesCarryOnlyChangesAndCapabilities) {
  state.set_module_fields("health", fields({5}), health(false, "starting"));
  state.take_next_message();
  EXPECT_FALSE(state.set_module_fields("health", fields({5}), health(false, "starting")))
      << "an unchanged value is not worth a message";
  EXPECT_FALSE(state.has_pending());
  EXPECT_TRUE(state.set_module_fields("health", fields({5}), health(true, "ok")));
  const proto::AgentToServer second = state.take_next_message();
  EXPECT_EQ(second.sequence_num(), 1u);
  EXPECT_EQ(second.capabilities(), kCapabilities);
  EXPECT_TRUE(second.health().healthy());
  EXPECT_FALSE(second.has_agent_description());
}

TEST_F(OutgoingStateTest, HeartbeatHasOnlyUidSequenceAndCapabilities) {
  state.take_next_message();
  const proto::AgentToServer heartbeat = state.take_next_message();
  proto::AgentToServer expected;
  expected.set_instance_uid(std::string(uid.begin(), uid.end()));
  expected.set_sequence_num(1);
  expected.set_capabilities(kCapabilities);
  EXPECT_EQ(heartbeat.SerializeAsString(), expected.SerializeAsString());
}

TEST_F(OutgoingStateTest, FullStateRequestResendsEverythingKnown) {
  state.set_module_fields("health", fields({5}), health(true, "ok"));
  state.take_next_message();
  state.request_full_state();
  const proto::AgentToServer full = state.take_next_message();
  EXPECT_TRUE(full.has_agent_description());
  EXPECT_TRUE(full.has_health());
}

TEST_F(OutgoingStateTest, ClearingAFieldRemovesItFromFullReports) {
  state.set_module_fields("health", fields({5}), health(true, "ok"));
  state.take_next_message();
  EXPECT_TRUE(state.set_module_fields("health", fields({5}), proto::AgentToServer()));
  state.take_next_message();
  state.request_full_state();
  EXPECT_FALSE(state.take_next_message().has_health());
}

TEST_F(OutgoingStateTest, CustomCapabilitiesAreTheSortedUnionOverModules) {
  state.take_next_message();
  state.set_module_fields("b", fields({12}), custom_capabilities({"io.b", "io.shared"}));
  state.set_module_fields("a", fields({12}), custom_capabilities({"io.shared", "io.a"}));
  const proto::AgentToServer message = state.take_next_message();
  ASSERT_TRUE(message.has_custom_capabilities());
  EXPECT_EQ(std::vector<std::string>(message.custom_capabilities().capabilities().begin(),
                                     message.custom_capabilities().capabilities().end()),
            (std::vector<std::string>{"io.a", "io.b", "io.shared"}));
  EXPECT_FALSE(state.set_module_fields("a", fields({12}), custom_capabilities({"io.a"})))
      << "the union did not change (io.shared still comes from b)";
  EXPECT_TRUE(state.set_module_fields("b", fields({12}), proto::AgentToServer()));
  const proto::AgentToServer after = state.take_next_message();
  EXPECT_EQ(after.custom_capabilities().capabilities_size(), 1);
}

TEST_F(OutgoingStateTest, CustomMessagesGoOnePerMessageAndOnce) {
  state.take_next_message();
  state.set_module_fields("m", fields({13}), custom_message("one"));
  state.set_module_fields("m", fields({13}), custom_message("two"));
  EXPECT_EQ(state.take_next_message().custom_message().type(), "one");
  ASSERT_TRUE(state.has_pending());
  EXPECT_EQ(state.take_next_message().custom_message().type(), "two");
  EXPECT_FALSE(state.has_pending());
  EXPECT_FALSE(state.take_next_message().has_custom_message());
}

TEST_F(OutgoingStateTest, CustomMessageQueueIsBounded) {
  for (std::size_t i = 0; i < OutgoingState::kMaxQueuedCustomMessages + 5; ++i) {
    state.set_module_fields("m", fields({13}), custom_message(std::to_string(i)));
  }
  std::size_t sent = 0;
  state.take_next_message();  // the full report carries the first
  ++sent;
  while (state.has_pending()) {
    state.take_next_message();
    ++sent;
  }
  EXPECT_EQ(sent, OutgoingState::kMaxQueuedCustomMessages);
}

TEST_F(OutgoingStateTest, CoreFieldsCannotBeSetByModules) {
  state.take_next_message();
  proto::AgentToServer fake;
  fake.set_sequence_num(99);
  fake.set_capabilities(0xFFFF);
  fake.mutable_agent_description();
  fake.mutable_agent_disconnect();
  EXPECT_FALSE(state.set_module_fields("evil", fields({2, 3, 4, 9}), fake));
  const proto::AgentToServer next = state.take_next_message();
  EXPECT_EQ(next.sequence_num(), 1u);
  EXPECT_EQ(next.capabilities(), kCapabilities);
  EXPECT_FALSE(next.has_agent_disconnect());
}

TEST_F(OutgoingStateTest, CapabilityChangeIsSentAndDisconnectMessageIsMarked) {
  state.take_next_message();
  state.set_capabilities(kCapabilities | 0x4);
  ASSERT_TRUE(state.has_pending());
  EXPECT_EQ(state.take_next_message().capabilities(), kCapabilities | 0x4);
  const proto::AgentToServer goodbye = state.take_disconnect_message();
  EXPECT_TRUE(goodbye.has_agent_disconnect());
  EXPECT_EQ(goodbye.sequence_num(), 2u);
}

}  // namespace
}  // namespace opsup::session
