#include "modules/message_routing.hpp"

#include <gtest/gtest.h>

#include "opamp.pb.h"
#include "opsup/opamp_constants.h"

namespace opsup::modules {
namespace {

using opamp::proto::v1::AgentToServer;
using opamp::proto::v1::ServerToAgent;

constexpr uint64_t kAll = OPSUP_CAP_ALL_DEFINED;

struct Module {
  uint64_t capabilities = 0;
  std::vector<uint32_t> fields;
  std::vector<std::string> custom;
};

class Routing : public ::testing::Test {
 protected:
  // remote_config, connection_settings (opamp + other), own_telemetry, packages,
  // restart_command, two custom-capability modules, and a no-bit config policy module.
  Routing()
      : modules_{
            {OPSUP_CAP_ACCEPTS_REMOTE_CONFIG | OPSUP_CAP_REPORTS_REMOTE_CONFIG, {3}, {}},
            {OPSUP_CAP_ACCEPTS_OPAMP_CONNECTION_SETTINGS |
                 OPSUP_CAP_ACCEPTS_OTHER_CONNECTION_SETTINGS,
             {4},
             {}},
            {OPSUP_CAP_REPORTS_OWN_METRICS | OPSUP_CAP_REPORTS_OWN_TRACES |
                 OPSUP_CAP_REPORTS_OWN_LOGS,
             {4},
             {}},
            {OPSUP_CAP_ACCEPTS_PACKAGES, {5}, {}},
            {OPSUP_CAP_ACCEPTS_RESTART_COMMAND, {9}, {}},
            {0, {10, 11}, {"com.example.a"}},
            {0, {11}, {"com.example.b", "com.example.c"}},
            {0, {3}, {}},
        } {
    for (const Module &module : modules_) {
      targets_.push_back(RoutingTarget{module.capabilities, &module.fields, &module.custom});
    }
  }

  std::vector<size_t> route(const ServerToAgent &message, uint64_t advertised = kAll) {
    const auto routing = route_server_to_agent(message.SerializeAsString(), advertised, targets_);
    EXPECT_TRUE(routing);
    return routing ? routing->recipients : std::vector<size_t>{};
  }

  std::vector<Module> modules_;
  std::vector<RoutingTarget> targets_;
};

TEST_F(Routing, RemoteConfigGoesToEveryModuleAskingWhenAdvertised) {
  ServerToAgent message;
  message.mutable_remote_config()->set_config_hash("h");
  EXPECT_EQ(route(message), (std::vector<size_t>{0, 7}));
  const auto withheld = route_server_to_agent(message.SerializeAsString(),
                                              kAll & ~OPSUP_CAP_ACCEPTS_REMOTE_CONFIG, targets_);
  ASSERT_TRUE(withheld);
  EXPECT_TRUE(withheld->recipients.empty());
  EXPECT_EQ(withheld->withheld, (std::vector<std::pair<size_t, uint32_t>>{{0, 3}, {7, 3}}));
}

TEST_F(Routing, ConnectionSettingsGoPartByPartToTheOwnerOfAnAdvertisedBit) {
  ServerToAgent opamp_only;
  opamp_only.mutable_connection_settings()->mutable_opamp()->set_destination_endpoint("wss://x");
  EXPECT_EQ(route(opamp_only), std::vector<size_t>{1});
  EXPECT_EQ(route(opamp_only, kAll & ~OPSUP_CAP_ACCEPTS_OPAMP_CONNECTION_SETTINGS),
            std::vector<size_t>{});

  ServerToAgent metrics_only;
  metrics_only.mutable_connection_settings()->mutable_own_metrics()->set_destination_endpoint("m");
  EXPECT_EQ(route(metrics_only), std::vector<size_t>{2});
  EXPECT_EQ(route(metrics_only, kAll & ~OPSUP_CAP_REPORTS_OWN_METRICS), std::vector<size_t>{});

  ServerToAgent other;
  (*other.mutable_connection_settings()->mutable_other_connections())["db"]
      .set_destination_endpoint("d");
  EXPECT_EQ(route(other), std::vector<size_t>{1});
  EXPECT_EQ(route(other, kAll & ~OPSUP_CAP_ACCEPTS_OTHER_CONNECTION_SETTINGS),
            std::vector<size_t>{});

  ServerToAgent both;
  both.mutable_connection_settings()->mutable_opamp();
  both.mutable_connection_settings()->mutable_own_logs();
  EXPECT_EQ(route(both), (std::vector<size_t>{1, 2}));

  ServerToAgent hash_only;
  hash_only.mutable_connection_settings()->set_hash("h");
  EXPECT_EQ(route(hash_only), std::vector<size_t>{});
}

TEST_F(Routing, PackagesAndCommandNeedTheirCapabilityAdvertised) {
  ServerToAgent packages;
  (*packages.mutable_packages_available()->mutable_packages())["p"].set_version("1");
  EXPECT_EQ(route(packages), std::vector<size_t>{3});
  EXPECT_EQ(route(packages, kAll & ~OPSUP_CAP_ACCEPTS_PACKAGES), std::vector<size_t>{});

  ServerToAgent command;
  command.mutable_command();
  command.mutable_remote_config();  // ignored in a command message, per spec
  EXPECT_EQ(route(command), std::vector<size_t>{4});
  EXPECT_EQ(route(command, kAll & ~OPSUP_CAP_ACCEPTS_RESTART_COMMAND), std::vector<size_t>{});
}

TEST_F(Routing, CustomMessageGoesOnlyToTheModuleDeclaringItsCapability) {
  ServerToAgent message;
  message.mutable_custom_message()->set_capability("com.example.c");
  EXPECT_EQ(route(message), std::vector<size_t>{6});
  message.mutable_custom_message()->set_capability("com.example.a");
  EXPECT_EQ(route(message, 0), std::vector<size_t>{5});
  message.mutable_custom_message()->set_capability("com.nobody");
  EXPECT_EQ(route(message), std::vector<size_t>{});

  ServerToAgent capabilities;
  capabilities.mutable_custom_capabilities()->add_capabilities("com.example.a");
  EXPECT_EQ(route(capabilities), std::vector<size_t>{5});  // only module 5 asked for field 10
}

TEST(DecodedCustomMessage, SplitsTheCustomMessageUnlessItIsACommand) {
  ServerToAgent message;
  message.set_instance_uid(std::string(16, 'u'));
  message.mutable_custom_message()->set_capability("com.example.a");
  message.mutable_custom_message()->set_type("ping");
  message.mutable_custom_message()->set_data(std::string("\0x", 2));
  const auto decoded = decoded_custom_message(message.SerializeAsString());
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->capability, "com.example.a");
  EXPECT_EQ(decoded->type, "ping");
  EXPECT_EQ(decoded->data, std::string("\0x", 2));

  message.mutable_command()->set_type(opamp::proto::v1::CommandType_Restart);
  EXPECT_FALSE(decoded_custom_message(message.SerializeAsString()));
  ServerToAgent plain;
  plain.set_flags(1);
  EXPECT_FALSE(decoded_custom_message(plain.SerializeAsString()));
  EXPECT_FALSE(decoded_custom_message(std::string("\x5a\x7f", 2)));
}

TEST_F(Routing, MalformedMessageGoesNowhere) {
  EXPECT_EQ(route_server_to_agent(std::string("\x1a\x09zz", 4), kAll, targets_), std::nullopt);
  // A malformed custom_message payload is malformed too.
  EXPECT_EQ(route_server_to_agent(std::string("\x5a\x02\x0a\x05", 4), kAll, targets_),
            std::nullopt);
}

ServerToAgent parsed(const std::optional<std::string> &bytes) {
  ServerToAgent message;
  EXPECT_TRUE(bytes && message.ParseFromString(*bytes));
  return message;
}

TEST(WithoutUnadvertisedFields, GatedTopLevelFieldsGoAndTheRestStays) {
  ServerToAgent message;
  message.set_instance_uid("0123456789abcdef");
  message.mutable_remote_config()->set_config_hash("h");
  (*message.mutable_packages_available()->mutable_packages())["p"].set_version("1");
  message.mutable_custom_capabilities()->add_capabilities("com.example.a");
  message.set_flags(1);
  const std::string bytes = message.SerializeAsString();

  const ServerToAgent none_advertised = parsed(without_unadvertised_fields(bytes, 0));
  EXPECT_FALSE(none_advertised.has_remote_config());
  EXPECT_FALSE(none_advertised.has_packages_available());
  EXPECT_EQ(none_advertised.instance_uid(), "0123456789abcdef");
  EXPECT_EQ(none_advertised.custom_capabilities().capabilities(0), "com.example.a");
  EXPECT_EQ(none_advertised.flags(), 1u);

  const ServerToAgent packages_advertised =
      parsed(without_unadvertised_fields(bytes, OPSUP_CAP_ACCEPTS_PACKAGES));
  EXPECT_FALSE(packages_advertised.has_remote_config());
  EXPECT_EQ(packages_advertised.packages_available().packages().at("p").version(), "1");
}

TEST(WithoutUnadvertisedFields, OffersLoseThePartsOfUnadvertisedBits) {
  ServerToAgent message;
  auto *offers = message.mutable_connection_settings();
  offers->set_hash("h");
  offers->mutable_opamp()->set_destination_endpoint("wss://x");
  offers->mutable_own_metrics()->set_destination_endpoint("m");
  (*offers->mutable_other_connections())["db"].set_destination_endpoint("d");
  message.mutable_remote_config()->set_config_hash("c");
  const std::string bytes = message.SerializeAsString();

  const ServerToAgent metrics_only = parsed(without_unadvertised_fields(
      bytes, OPSUP_CAP_REPORTS_OWN_METRICS | OPSUP_CAP_ACCEPTS_REMOTE_CONFIG));
  EXPECT_EQ(metrics_only.connection_settings().hash(), "h");
  EXPECT_EQ(metrics_only.connection_settings().own_metrics().destination_endpoint(), "m");
  EXPECT_FALSE(metrics_only.connection_settings().has_opamp());
  EXPECT_TRUE(metrics_only.connection_settings().other_connections().empty());
  EXPECT_EQ(metrics_only.remote_config().config_hash(), "c");

  // Offers with no part left are dropped whole, hash included.
  const ServerToAgent no_part =
      parsed(without_unadvertised_fields(bytes, OPSUP_CAP_ACCEPTS_REMOTE_CONFIG));
  EXPECT_FALSE(no_part.has_connection_settings());
  EXPECT_EQ(no_part.remote_config().config_hash(), "c");
}

TEST(WithoutUnadvertisedFields, NothingToRemoveOrMalformedIsNullopt) {
  ServerToAgent message;
  message.mutable_remote_config()->set_config_hash("h");
  message.mutable_connection_settings()->mutable_opamp();
  EXPECT_EQ(without_unadvertised_fields(message.SerializeAsString(), kAll), std::nullopt);
  EXPECT_EQ(without_unadvertised_fields(std::string("\x1a\x09zz", 4), 0), std::nullopt);
}

TEST(CollectorRouting, DeliversByAgentToServerFields) {
  const std::vector<uint32_t> health{5};
  const std::vector<uint32_t> effective_and_components{6, 14};
  const std::vector<uint32_t> none;
  const std::vector<RoutingTarget> targets{
      {0, &health, nullptr}, {0, &effective_and_components, nullptr}, {0, &none, nullptr}};
  AgentToServer message;
  message.mutable_health()->set_healthy(true);
  message.mutable_available_components()->set_hash("h");
  EXPECT_EQ(route_agent_to_server(message.SerializeAsString(), targets),
            (std::vector<size_t>{0, 1}));
  AgentToServer description;
  description.mutable_agent_description();
  EXPECT_EQ(route_agent_to_server(description.SerializeAsString(), targets), std::vector<size_t>{});
  EXPECT_EQ(route_agent_to_server(std::string("\x2a\x05", 2), targets), std::nullopt);
}

}  // namespace
}  // namespace opsup::modules
