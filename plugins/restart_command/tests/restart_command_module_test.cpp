// The built restart_command.so in the SDK's FakeHost: a Restart command restarts the
// Collector through the host, and each case where it cannot is said in the log.
#include <gtest/gtest.h>

#include <string>

#include <opsup/testing/loaded_module.hpp>
#include "opamp.pb.h"

namespace {

namespace proto = ::opamp::proto::v1;

std::string command_message(int type = proto::CommandType_Restart) {
  proto::ServerToAgent message;
  message.set_instance_uid(std::string(16, '\x01'));
  message.set_capabilities(0x7f);
  message.mutable_command()->set_type(static_cast<proto::CommandType>(type));
  return message.SerializeAsString();
}

class RestartCommandModule : public opsup::testing::LoadedModule {
 protected:
  RestartCommandModule() : LoadedModule(OPSUP_RESTART_COMMAND_MODULE) {}
};

TEST_F(RestartCommandModule, OwnsAcceptsRestartCommandAndReadsTheCommandField) {
  const opsup_module_descriptor &descriptor = host().descriptor();
  EXPECT_STREQ(descriptor.id, "restart_command");
  EXPECT_EQ(descriptor.abi_minor, 3u);
  EXPECT_EQ(descriptor.capabilities, OPSUP_CAP_ACCEPTS_RESTART_COMMAND);
  ASSERT_EQ(descriptor.server_to_agent_field_count, 1u);
  EXPECT_EQ(descriptor.server_to_agent_fields[0], uint32_t{OPSUP_S2A_COMMAND});
  EXPECT_EQ(descriptor.agent_to_server_field_count, 0u);
  EXPECT_TRUE(host().custom_capabilities().empty());
}

TEST_F(RestartCommandModule, ARestartCommandRestartsTheCollector) {
  host().set_composed_config("receivers: {}\n");
  start();
  host().deliver_server_message(command_message());
  EXPECT_EQ(host().restart_requests(), 1u);
  EXPECT_TRUE(host().logged("restarting the Collector on the server's command", OPSUP_LOG_INFO));
  // No status of its own: health comes from the new Collector.
  EXPECT_TRUE(host().agent_fields().empty());
  host().deliver_server_message(command_message());
  EXPECT_EQ(host().restart_requests(), 2u);
}

TEST_F(RestartCommandModule, ACommandWithoutATypeIsARestart) {
  // CommandType_Restart is 0, proto3's default: an empty command is a restart.
  host().set_composed_config("receivers: {}\n");
  start();
  proto::ServerToAgent message;
  message.mutable_command();
  host().deliver_server_message(message.SerializeAsString());
  EXPECT_EQ(host().restart_requests(), 1u);
}

TEST_F(RestartCommandModule, NothingToRestartIsLogged) {
  start();  // no composed config: the host has nothing to run
  host().deliver_server_message(command_message());
  EXPECT_EQ(host().restart_requests(), 0u);
  EXPECT_TRUE(host().logged("there is nothing to restart", OPSUP_LOG_INFO));
}

TEST_F(RestartCommandModule, ASupervisorWithoutTheServiceIsLogged) {
  host().set_collector_available(false);
  start();
  host().deliver_server_message(command_message());
  EXPECT_TRUE(host().logged("cannot restart the Collector", OPSUP_LOG_WARN));
}

TEST_F(RestartCommandModule, AnUnknownCommandTypeIsIgnored) {
  host().set_composed_config("receivers: {}\n");
  start();
  host().deliver_server_message(command_message(7));
  EXPECT_EQ(host().restart_requests(), 0u);
  EXPECT_TRUE(host().logged("ignoring a command of unknown type 7", OPSUP_LOG_WARN));
}

TEST_F(RestartCommandModule, MessagesWithoutACommandOrThatDoNotParseAreIgnored) {
  host().set_composed_config("receivers: {}\n");
  start();
  proto::ServerToAgent flags_only;
  flags_only.set_flags(proto::ServerToAgentFlags_ReportFullState);
  host().deliver_server_message(flags_only.SerializeAsString());
  host().deliver_server_message("\xff\xff\xff");
  EXPECT_EQ(host().restart_requests(), 0u);
  EXPECT_TRUE(host().logged("does not parse", OPSUP_LOG_WARN));
}

}  // namespace
