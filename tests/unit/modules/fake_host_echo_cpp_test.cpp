// The C++ example under the SDK's fake host.
#include <gtest/gtest.h>

#include <opsup/testing/fake_host.hpp>

#include "opamp.pb.h"

namespace {

using opamp::proto::v1::AgentToServer;
using opamp::proto::v1::ServerToAgent;

std::string custom(const std::string &capability, const std::string &type,
                   const std::string &data) {
  ServerToAgent message;
  auto *custom = message.mutable_custom_message();
  custom->set_capability(capability);
  custom->set_type(type);
  custom->set_data(data);
  return message.SerializeAsString();
}

AgentToServer last_fields(const opsup::testing::FakeHost &host) {
  AgentToServer fields;
  EXPECT_FALSE(host.agent_fields().empty());
  if (!host.agent_fields().empty()) {
    EXPECT_TRUE(fields.ParseFromString(host.agent_fields().back()));
  }
  return fields;
}

class EchoCpp : public ::testing::Test {
 protected:
  void start() {
    ASSERT_EQ(host_.load(&opsup_module_entry_v1), OPSUP_OK);
    ASSERT_EQ(host_.create("plugins: {}\n"), OPSUP_OK) << host_.last_error();
    ASSERT_EQ(host_.start(), OPSUP_OK) << host_.last_error();
  }
  opsup::testing::FakeHost host_;
};

TEST_F(EchoCpp, EchoesItsCustomMessagesAndCountsThem) {
  start();
  EXPECT_TRUE(host_.agent_fields().empty());  // the host advertises its capability
  host_.deliver_server_message(custom("io.opsup.example.echo", "anything", "payload"));
  AgentToServer reply = last_fields(host_);
  EXPECT_EQ(reply.custom_message().capability(), "io.opsup.example.echo");
  EXPECT_EQ(reply.custom_message().type(), "anything");
  EXPECT_EQ(reply.custom_message().data(), "payload");

  host_.deliver_server_message(custom("io.opsup.example.echo", "again", ""));
  host_.deliver_server_message(custom("io.opsup.example.echo", "count", ""));
  EXPECT_EQ(last_fields(host_).custom_message().data(), "2");
  EXPECT_EQ(host_.storage()["echo_count.txt"], "2");
}

TEST_F(EchoCpp, ResumesTheCountFromStorage) {
  host_.storage()["echo_count.txt"] = "41";
  start();
  EXPECT_TRUE(host_.logged("41 messages echoed so far"));
  host_.deliver_server_message(custom("io.opsup.example.echo", "x", "y"));
  EXPECT_EQ(host_.storage()["echo_count.txt"], "42");
}

TEST_F(EchoCpp, BadStoredCountIsReportedAndReset) {
  host_.storage()["echo_count.txt"] = "many";
  start();
  EXPECT_TRUE(host_.logged("does not hold a number", OPSUP_LOG_WARN));
}

TEST_F(EchoCpp, IgnoresOtherCapabilitiesAndUnparsableMessages) {
  start();
  const size_t before = host_.agent_fields().size();
  host_.deliver_server_message(custom("io.opsup.example.hello", "ping", ""));
  host_.deliver_server_message(std::string("\xff\xff", 2));
  EXPECT_EQ(host_.agent_fields().size(), before);
  EXPECT_TRUE(host_.logged("does not parse", OPSUP_LOG_WARN));
}

TEST_F(EchoCpp, LogsCollectorExits) {
  start();
  host_.deliver_event(OPSUP_EVENT_COLLECTOR_EXITED, "boom", 1234, 2);
  EXPECT_TRUE(host_.logged("Collector exited with code 2", OPSUP_LOG_INFO));
}

}  // namespace
