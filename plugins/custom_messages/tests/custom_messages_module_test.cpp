// The built custom_messages.so in the SDK's FakeHost, twice: as installed (no declared
// custom capability: it mirrors the Collector's) and built declaring two test capabilities.
// The Collector's messages reach the server through a buffer of 10 while the server is not
// connected; the server's messages and capabilities go down to the Collector.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <opsup/testing/loaded_module.hpp>
#include "opamp.pb.h"

namespace {

namespace proto = ::opamp::proto::v1;

constexpr const char *kEcho = "io.opsup.test.echo";
constexpr const char *kInventory = "io.opsup.test.inventory/v1";

std::string collector_capabilities(const std::vector<std::string> &names) {
  proto::AgentToServer message;
  message.set_instance_uid(std::string(16, '\x01'));
  for (const auto &name : names)
    message.mutable_custom_capabilities()->add_capabilities(name);
  return message.SerializeAsString();
}

std::string collector_message(const std::string &capability, const std::string &type,
                              const std::string &data) {
  proto::AgentToServer message;
  message.set_instance_uid(std::string(16, '\x01'));
  proto::CustomMessage *custom = message.mutable_custom_message();
  custom->set_capability(capability);
  custom->set_type(type);
  custom->set_data(data);
  return message.SerializeAsString();
}

std::string server_message(const std::string &capability, const std::string &type,
                           const std::string &data) {
  proto::ServerToAgent message;
  message.set_instance_uid(std::string(16, '\x01'));
  proto::CustomMessage *custom = message.mutable_custom_message();
  custom->set_capability(capability);
  custom->set_type(type);
  custom->set_data(data);
  return message.SerializeAsString();
}

// "t<i>" (appended, not "t" + ...: GCC 12 warns falsely about that, -Wrestrict).
std::string type_name(int i) {
  std::string name = "t";
  name += std::to_string(i);
  return name;
}

size_t count_logged(const opsup::testing::FakeHost &host, const std::string &text) {
  size_t count = 0;
  for (const auto &line : host.logs())
    count += line.message.find(text) != std::string::npos ? 1 : 0;
  return count;
}

class CustomMessagesAsInstalled : public opsup::testing::LoadedModule {
 protected:
  CustomMessagesAsInstalled() : LoadedModule(OPSUP_CUSTOM_MESSAGES_MODULE) {}
};

class CustomMessagesDeclaring : public opsup::testing::LoadedModule {
 protected:
  CustomMessagesDeclaring() : LoadedModule(OPSUP_CUSTOM_MESSAGES_DECLARING_MODULE) {}

  const std::vector<opsup::testing::FakeHost::CustomMessage> &sent() {
    return host().sent_custom_messages();
  }
  void connect() { host().deliver_event(OPSUP_EVENT_SERVER_CONNECTED); }
  void disconnect() { host().deliver_event(OPSUP_EVENT_SERVER_DISCONNECTED, "closed"); }
};

// ---- as installed: no declared custom capability ----

TEST_F(CustomMessagesAsInstalled, OwnsNoBitAndListensForTheCollectorsCustomFields) {
  const opsup_module_descriptor &descriptor = host().descriptor();
  EXPECT_STREQ(descriptor.id, "custom_messages");
  EXPECT_EQ(descriptor.abi_minor, 3u);
  EXPECT_EQ(descriptor.capabilities, 0u);
  EXPECT_TRUE(host().custom_capabilities().empty());
  ASSERT_EQ(descriptor.agent_to_server_field_count, 2u);
  EXPECT_EQ(descriptor.agent_to_server_fields[0], uint32_t{OPSUP_A2S_CUSTOM_CAPABILITIES});
  EXPECT_EQ(descriptor.agent_to_server_fields[1], uint32_t{OPSUP_A2S_CUSTOM_MESSAGE});
  ASSERT_EQ(descriptor.server_to_agent_field_count, 1u);
  EXPECT_EQ(descriptor.server_to_agent_fields[0], uint32_t{OPSUP_S2A_CUSTOM_CAPABILITIES});
}

TEST_F(CustomMessagesAsInstalled, TheCollectorsCapabilitiesAreAdvertisedAtRunTime) {
  start();
  host().deliver_collector_message(collector_capabilities({kEcho, "com.example.other"}));
  EXPECT_EQ(host().runtime_custom_capabilities(),
            (std::vector<std::string>{kEcho, "com.example.other"}));
  host().deliver_collector_message(collector_capabilities({kEcho}));
  EXPECT_EQ(host().runtime_custom_capabilities(), std::vector<std::string>{kEcho});
}

TEST_F(CustomMessagesAsInstalled, TheCollectorsMessagesGoUpOnceItOffersTheirCapability) {
  start();
  host().deliver_event(OPSUP_EVENT_SERVER_CONNECTED);
  host().deliver_collector_message(collector_message(kEcho, "ping", "1"));
  EXPECT_TRUE(host().sent_custom_messages().empty());
  EXPECT_EQ(count_logged(host(), "which it does not offer in its custom_capabilities"), 1u);
  host().deliver_collector_message(collector_capabilities({kEcho}));
  host().deliver_collector_message(collector_message(kEcho, "ping", "2"));
  ASSERT_EQ(host().sent_custom_messages().size(), 1u);
  EXPECT_EQ(host().sent_custom_messages()[0].data, "2");
}

TEST_F(CustomMessagesAsInstalled, TheServersMessagesAndCapabilitiesGoDownToTheCollector) {
  start();
  host().deliver_collector_message(collector_capabilities({kEcho}));
  host().deliver_server_message(server_message(kEcho, "pong", "1"));
  proto::ServerToAgent capabilities;
  capabilities.mutable_custom_capabilities()->add_capabilities(kEcho);
  host().deliver_server_message(capabilities.SerializeAsString());
  ASSERT_EQ(host().sent_to_collector().size(), 2u);
  proto::ServerToAgent first;
  ASSERT_TRUE(first.ParseFromString(host().sent_to_collector()[0]));
  EXPECT_EQ(first.custom_message().capability(), kEcho);
  EXPECT_EQ(first.custom_message().type(), "pong");
  EXPECT_EQ(first.custom_message().data(), "1");
  proto::ServerToAgent second;
  ASSERT_TRUE(second.ParseFromString(host().sent_to_collector()[1]));
  EXPECT_EQ(second.custom_capabilities().capabilities(0), kEcho);

  host().set_collector_connected(false);
  host().deliver_server_message(server_message(kEcho, "pong", "2"));
  EXPECT_EQ(host().sent_to_collector().size(), 2u);
  EXPECT_TRUE(host().logged("no Collector is connected", OPSUP_LOG_WARN));
}

TEST_F(CustomMessagesDeclaring, DeclaresTheCapabilitiesItWasBuiltWith) {
  EXPECT_EQ(host().custom_capabilities(), (std::vector<std::string>{kEcho, kInventory}));
  EXPECT_EQ(host().descriptor().capabilities, 0u);
  start();
  EXPECT_TRUE(
      host().logged("built declaring the custom capabilities io.opsup.test.echo, "
                    "io.opsup.test.inventory/v1",
                    OPSUP_LOG_INFO));
}

TEST_F(CustomMessagesDeclaring, ForwardsTheCollectorsMessagesWhileConnected) {
  start();
  connect();
  const std::string binary("\x00\xff\x01", 3);
  host().deliver_collector_message(collector_message(kEcho, "ping", binary));
  host().deliver_collector_message(collector_message(kInventory, "list", "{}"));
  ASSERT_EQ(sent().size(), 2u);
  EXPECT_EQ(sent()[0].capability, kEcho);
  EXPECT_EQ(sent()[0].type, "ping");
  EXPECT_EQ(sent()[0].data, binary);
  EXPECT_EQ(sent()[1].capability, kInventory);
  EXPECT_EQ(sent()[1].type, "list");
  EXPECT_EQ(sent()[1].data, "{}");
}

TEST_F(CustomMessagesDeclaring, HoldsMessagesUntilTheServerIsConnected) {
  start();
  host().deliver_collector_message(collector_message(kEcho, "ping", "1"));
  host().deliver_collector_message(collector_message(kEcho, "ping", "2"));
  EXPECT_TRUE(sent().empty());
  connect();
  ASSERT_EQ(sent().size(), 2u);
  EXPECT_EQ(sent()[0].data, "1");
  EXPECT_EQ(sent()[1].data, "2");

  disconnect();
  host().deliver_collector_message(collector_message(kEcho, "ping", "3"));
  EXPECT_EQ(sent().size(), 2u);
  connect();
  ASSERT_EQ(sent().size(), 3u);
  EXPECT_EQ(sent()[2].data, "3");
}

TEST_F(CustomMessagesDeclaring, AFullBufferSkipsTheNewMessageWithAWarning) {
  start();
  for (int i = 0; i < 12; ++i)
    host().deliver_collector_message(collector_message(kEcho, type_name(i), ""));
  EXPECT_EQ(count_logged(host(), "Buffer full, skipping forwarding custom message to server"), 2u);
  EXPECT_TRUE(host().logged("(capability io.opsup.test.echo, type t10)", OPSUP_LOG_WARN));
  EXPECT_TRUE(host().logged("(capability io.opsup.test.echo, type t11)", OPSUP_LOG_WARN));
  connect();
  ASSERT_EQ(sent().size(), 10u);
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(sent()[static_cast<size_t>(i)].type, type_name(i));
}

TEST_F(CustomMessagesDeclaring, CapabilitiesNeitherDeclaredNorOfferedDoNotGoUp) {
  start();
  connect();
  host().deliver_collector_message(collector_message("com.example.other", "x", ""));
  host().deliver_collector_message(collector_message(kEcho, "ping", ""));
  ASSERT_EQ(sent().size(), 1u);
  EXPECT_EQ(sent()[0].capability, kEcho);
  EXPECT_TRUE(
      host().logged("capability com.example.other, which it does not offer", OPSUP_LOG_WARN));
}

TEST_F(CustomMessagesDeclaring, MessagesStillBufferedAtStopAreDropped) {
  start();
  host().deliver_collector_message(collector_message(kEcho, "ping", "1"));
  host().deliver_collector_message(collector_message(kEcho, "ping", "2"));
  host().stop();
  EXPECT_TRUE(host().logged("dropping 2 custom message(s)", OPSUP_LOG_INFO));
  EXPECT_TRUE(sent().empty());
}

TEST_F(CustomMessagesDeclaring, AMessageThatDoesNotParseIsIgnored) {
  start();
  connect();
  host().deliver_collector_message("\xff\xff\xff");
  EXPECT_TRUE(sent().empty());
  EXPECT_TRUE(host().logged("does not parse", OPSUP_LOG_WARN));
}

}  // namespace
