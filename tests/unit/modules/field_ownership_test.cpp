#include "modules/field_ownership.hpp"

#include <gtest/gtest.h>

#include "modules/opamp_names.hpp"
#include "opamp.pb.h"
#include "opsup/opamp_constants.h"

namespace opsup::modules {
namespace {

using opamp::proto::v1::AgentToServer;
using opamp::proto::v1::ServerToAgent;

TEST(FieldOwnership, CapabilitiesMapToTheirReportFields) {
  EXPECT_EQ(owned_agent_to_server_fields(OPSUP_CAP_REPORTS_EFFECTIVE_CONFIG, false),
            std::vector<uint32_t>{6});
  EXPECT_EQ(owned_agent_to_server_fields(OPSUP_CAP_REPORTS_HEALTH, false),
            std::vector<uint32_t>{5});
  EXPECT_EQ(owned_agent_to_server_fields(
                OPSUP_CAP_ACCEPTS_REMOTE_CONFIG | OPSUP_CAP_REPORTS_REMOTE_CONFIG, false),
            std::vector<uint32_t>{7});
  EXPECT_EQ(owned_agent_to_server_fields(
                OPSUP_CAP_ACCEPTS_PACKAGES | OPSUP_CAP_REPORTS_PACKAGE_STATUSES, false),
            std::vector<uint32_t>{8});
  EXPECT_EQ(owned_agent_to_server_fields(OPSUP_CAP_REPORTS_AVAILABLE_COMPONENTS, false),
            std::vector<uint32_t>{14});
  EXPECT_EQ(owned_agent_to_server_fields(OPSUP_CAP_ACCEPTS_OPAMP_CONNECTION_SETTINGS |
                                             OPSUP_CAP_REPORTS_CONNECTION_SETTINGS_STATUS |
                                             OPSUP_CAP_ACCEPTS_OTHER_CONNECTION_SETTINGS,
                                         false),
            (std::vector<uint32_t>{11, 15}));
  EXPECT_EQ(owned_agent_to_server_fields(0, true), (std::vector<uint32_t>{12, 13}));
  EXPECT_EQ(owned_agent_to_server_fields(OPSUP_CAP_ACCEPTS_RESTART_COMMAND, false),
            std::vector<uint32_t>{});
}

TEST(FieldOwnership, OwnedFieldsAreAccepted) {
  AgentToServer fields;
  fields.mutable_health()->set_healthy(true);
  fields.mutable_custom_capabilities()->add_capabilities("com.example");
  EXPECT_EQ(agent_fields_problem("health", {5, 12, 13}, fields.SerializeAsString()), std::nullopt);
  // An empty message clears every owned field: allowed.
  EXPECT_EQ(agent_fields_problem("health", {5}, ""), std::nullopt);
}

TEST(FieldOwnership, ForeignFieldIsRejectedNamingModuleAndField) {
  AgentToServer fields;
  fields.mutable_health()->set_healthy(true);
  fields.mutable_effective_config();
  EXPECT_EQ(agent_fields_problem("health", {5}, fields.SerializeAsString()),
            "module health: set_agent_fields: AgentToServer field 6 (effective_config) is not "
            "owned by this module");
  AgentToServer core_field;
  core_field.set_sequence_num(7);
  EXPECT_EQ(agent_fields_problem("health", {5}, core_field.SerializeAsString()),
            "module health: set_agent_fields: AgentToServer field 2 (sequence_num) is not owned "
            "by this module");
}

TEST(FieldOwnership, CustomNamesOutsideTheDescriptorAreRejected) {
  const std::vector<std::string> declared{"com.example.a"};
  AgentToServer fields;
  fields.mutable_custom_capabilities()->add_capabilities("com.example.a");
  fields.mutable_custom_message()->set_capability("com.example.a");
  EXPECT_EQ(agent_fields_problem("m", {12, 13}, fields.SerializeAsString(), &declared),
            std::nullopt);
  fields.mutable_custom_capabilities()->add_capabilities("com.example.b");
  const auto extra = agent_fields_problem("m", {12, 13}, fields.SerializeAsString(), &declared);
  ASSERT_TRUE(extra);
  EXPECT_NE(extra->find("custom capability \"com.example.b\" is not in the module's descriptor"),
            std::string::npos)
      << *extra;
  AgentToServer message;
  message.mutable_custom_message()->set_capability("com.example.b");
  const auto foreign = agent_fields_problem("m", {12, 13}, message.SerializeAsString(), &declared);
  ASSERT_TRUE(foreign);
  EXPECT_NE(foreign->find("custom_message capability \"com.example.b\""), std::string::npos)
      << *foreign;
}

TEST(FieldOwnership, EncodesTheHostsOwnCustomFields) {
  AgentToServer capabilities;
  ASSERT_TRUE(capabilities.ParseFromString(encode_custom_capabilities({"a.b", "c.d"})));
  ASSERT_EQ(capabilities.custom_capabilities().capabilities_size(), 2);
  EXPECT_EQ(capabilities.custom_capabilities().capabilities(1), "c.d");
  AgentToServer message;
  ASSERT_TRUE(message.ParseFromString(encode_custom_message("a.b", "pong", std::string("\0x", 2))));
  EXPECT_EQ(message.custom_message().capability(), "a.b");
  EXPECT_EQ(message.custom_message().type(), "pong");
  EXPECT_EQ(message.custom_message().data(), std::string("\0x", 2));
}

TEST(FieldOwnership, BytesThatDoNotParseAreRejected) {
  const auto problem = agent_fields_problem("m", {5}, std::string("\x2a\x10", 2));
  ASSERT_TRUE(problem);
  EXPECT_NE(problem->find("are not a serialized AgentToServer"), std::string::npos);
}

TEST(OpampConstants, MatchTheGeneratedCode) {
  EXPECT_EQ(OPSUP_A2S_HEALTH, AgentToServer::kHealthFieldNumber);
  EXPECT_EQ(OPSUP_A2S_EFFECTIVE_CONFIG, AgentToServer::kEffectiveConfigFieldNumber);
  EXPECT_EQ(OPSUP_A2S_REMOTE_CONFIG_STATUS, AgentToServer::kRemoteConfigStatusFieldNumber);
  EXPECT_EQ(OPSUP_A2S_PACKAGE_STATUSES, AgentToServer::kPackageStatusesFieldNumber);
  EXPECT_EQ(OPSUP_A2S_CONNECTION_SETTINGS_REQUEST,
            AgentToServer::kConnectionSettingsRequestFieldNumber);
  EXPECT_EQ(OPSUP_A2S_CUSTOM_CAPABILITIES, AgentToServer::kCustomCapabilitiesFieldNumber);
  EXPECT_EQ(OPSUP_A2S_CUSTOM_MESSAGE, AgentToServer::kCustomMessageFieldNumber);
  EXPECT_EQ(OPSUP_A2S_AVAILABLE_COMPONENTS, AgentToServer::kAvailableComponentsFieldNumber);
  EXPECT_EQ(OPSUP_A2S_CONNECTION_SETTINGS_STATUS,
            AgentToServer::kConnectionSettingsStatusFieldNumber);
  EXPECT_EQ(OPSUP_S2A_REMOTE_CONFIG, ServerToAgent::kRemoteConfigFieldNumber);
  EXPECT_EQ(OPSUP_S2A_CONNECTION_SETTINGS, ServerToAgent::kConnectionSettingsFieldNumber);
  EXPECT_EQ(OPSUP_S2A_PACKAGES_AVAILABLE, ServerToAgent::kPackagesAvailableFieldNumber);
  EXPECT_EQ(OPSUP_S2A_COMMAND, ServerToAgent::kCommandFieldNumber);
  EXPECT_EQ(OPSUP_S2A_CUSTOM_CAPABILITIES, ServerToAgent::kCustomCapabilitiesFieldNumber);
  EXPECT_EQ(OPSUP_S2A_CUSTOM_MESSAGE, ServerToAgent::kCustomMessageFieldNumber);
  EXPECT_EQ(OPSUP_OFFERS_OPAMP, opamp::proto::v1::ConnectionSettingsOffers::kOpampFieldNumber);
  EXPECT_EQ(OPSUP_OFFERS_OTHER_CONNECTIONS,
            opamp::proto::v1::ConnectionSettingsOffers::kOtherConnectionsFieldNumber);
  EXPECT_EQ(OPSUP_CAP_REPORTS_HEALTH, opamp::proto::v1::AgentCapabilities_ReportsHealth);
  EXPECT_EQ(OPSUP_CAP_REPORTS_CONNECTION_SETTINGS_STATUS,
            opamp::proto::v1::AgentCapabilities_ReportsConnectionSettingsStatus);
}

TEST(OpampNames, NameBitsAndFields) {
  EXPECT_EQ(capability_names(0), "none");
  EXPECT_EQ(capability_names(OPSUP_CAP_ACCEPTS_REMOTE_CONFIG | OPSUP_CAP_REPORTS_REMOTE_CONFIG),
            "AcceptsRemoteConfig|ReportsRemoteConfig");
  EXPECT_EQ(capability_name(0x10000), "bit 0x10000");
  EXPECT_EQ(agent_to_server_field_name(15), "connection_settings_status");
  EXPECT_EQ(server_to_agent_field_name(11), "custom_message");
  EXPECT_EQ(server_to_agent_field_name(99), "field 99");
}

}  // namespace
}  // namespace opsup::modules
