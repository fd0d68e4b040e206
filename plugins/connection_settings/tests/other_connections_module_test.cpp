// AcceptsOtherConnectionSettings in connection_settings.so, driven through the SDK's
// FakeHost: the offer becomes the "other_connections" layer once the exporters were looked
// up, the status follows it, what is in force is persisted and restored at start, a missing
// exporter is FAILED by name, and a withdrawn offer removes the layer.
#include <gtest/gtest.h>

#include <opsup/testing/loaded_module.hpp>

#include "opamp.pb.h"

namespace opsup::connection_settings {
namespace {

namespace proto = ::opamp::proto::v1;
using opsup::testing::FakeHost;

constexpr const char *kConfig =
    "storage:\n  directory: /nonexistent/opsup-other-connections-test\n"
    "capabilities:\n  reports_connection_settings_status: true\n"
    "  accepts_other_connection_settings: true\n";

constexpr const char *kComposed =
    "exporters:\n  otlphttp/backend:\n    endpoint: http://127.0.0.1:1\n"
    "service:\n  pipelines:\n    traces:\n      receivers: [otlp]\n"
    "      exporters: [otlphttp/backend]\n";

proto::OtherConnectionSettings backend(const std::string &endpoint) {
  proto::OtherConnectionSettings settings;
  settings.set_destination_endpoint(endpoint);
  auto *header = settings.mutable_headers()->add_headers();
  header->set_key("x-tenant");
  header->set_value("t1");
  return settings;
}

std::string offer(const std::string &hash,
                  const std::map<std::string, proto::OtherConnectionSettings> &connections,
                  const proto::OpAMPConnectionSettings *opamp = nullptr) {
  proto::ServerToAgent message;
  auto *offers = message.mutable_connection_settings();
  offers->set_hash(hash);
  for (const auto &[name, settings] : connections)
    (*offers->mutable_other_connections())[name] = settings;
  if (opamp != nullptr)
    *offers->mutable_opamp() = *opamp;
  return message.SerializeAsString();
}

std::vector<proto::ConnectionSettingsStatus> statuses(const FakeHost &host) {
  std::vector<proto::ConnectionSettingsStatus> found;
  for (const auto &payload : host.agent_fields()) {
    proto::AgentToServer fields;
    if (fields.ParseFromString(payload) && fields.has_connection_settings_status())
      found.push_back(fields.connection_settings_status());
  }
  return found;
}

class OtherConnectionsModuleTest : public opsup::testing::LoadedModule {
 protected:
  OtherConnectionsModuleTest() : LoadedModule(OPSUP_CONNECTION_SETTINGS_MODULE) {}

  FakeHost &start_with(const char *config = kConfig) {
    host().set_composed_config(std::string(kComposed));
    EXPECT_EQ(host().create(config), OPSUP_OK) << host().last_error();
    EXPECT_EQ(host().start(), OPSUP_OK) << host().last_error();
    return host();
  }

  // Runs the posted lookup and completes the barrier change queued before it.
  void look_up() {
    host().run_ready();
    ASSERT_GE(host().config_changes().size(), 1u);
    EXPECT_EQ(host().config_changes().back().layer_name, "other_connections_barrier");
    EXPECT_FALSE(host().config_changes().back().yaml);
    ASSERT_TRUE(host().complete_config_change());
  }

  proto::ConnectionSettingsStatus last_status() {
    const auto all = statuses(host());
    return all.empty() ? proto::ConnectionSettingsStatus{} : all.back();
  }
};

TEST_F(OtherConnectionsModuleTest, TheCapabilityIsOwned) {
  start_with();
  EXPECT_NE(host().descriptor().capabilities & OPSUP_CAP_ACCEPTS_OTHER_CONNECTION_SETTINGS, 0u);
}

TEST_F(OtherConnectionsModuleTest, AnOfferForAnExistingExporterBecomesTheLayerAndIsApplied) {
  FakeHost &host = start_with();
  host.deliver_server_message(offer("h1", {{"otlphttp/backend", backend("http://sink:4318")}}));
  EXPECT_EQ(last_status().status(), proto::ConnectionSettingsStatuses_APPLYING);
  look_up();
  ASSERT_EQ(host.config_changes().size(), 2u);
  const auto &change = host.config_changes()[1];
  EXPECT_EQ(change.layer_name, "other_connections");
  EXPECT_EQ(change.flags, static_cast<uint32_t>(OPSUP_CONFIG_VALIDATE));
  ASSERT_TRUE(change.yaml);
  EXPECT_NE(change.yaml->find("\"otlphttp/backend\""), std::string::npos) << *change.yaml;
  EXPECT_NE(change.yaml->find("endpoint: \"http://sink:4318\""), std::string::npos);
  EXPECT_NE(change.yaml->find("\"x-tenant\": \"t1\""), std::string::npos);
  EXPECT_EQ(last_status().status(), proto::ConnectionSettingsStatuses_APPLYING);
  EXPECT_EQ(host.storage().count("other_connections.dat"), 0u);

  ASSERT_TRUE(host.complete_config_change());
  EXPECT_EQ(last_status().status(), proto::ConnectionSettingsStatuses_APPLIED);
  EXPECT_EQ(last_status().last_connection_settings_hash(), "h1");
  proto::ConnectionSettingsOffers stored;
  ASSERT_TRUE(stored.ParseFromString(host.storage()["other_connections.dat"]));
  EXPECT_EQ(stored.hash(), "h1");
  EXPECT_EQ(stored.other_connections().at("otlphttp/backend").destination_endpoint(),
            "http://sink:4318");
  EXPECT_FALSE(host.logged("t1")) << "header values stay out of the log";
}

TEST_F(OtherConnectionsModuleTest, AMissingExporterIsFailedByNameAndNothingIsInvented) {
  FakeHost &host = start_with();
  host.deliver_server_message(offer("h2", {{"otlphttp/nowhere", backend("http://sink:4318")}}));
  look_up();
  EXPECT_EQ(host.config_changes().size(), 1u) << "no layer for a name with no exporter";
  EXPECT_EQ(last_status().status(), proto::ConnectionSettingsStatuses_FAILED);
  EXPECT_NE(last_status().error_message().find("no exporter named \"otlphttp/nowhere\""),
            std::string::npos)
      << last_status().error_message();
  EXPECT_TRUE(host.logged("otlphttp/nowhere", OPSUP_LOG_WARN));
}

TEST_F(OtherConnectionsModuleTest, ACollectorRefusalIsFailedWithItsMessage) {
  FakeHost &host = start_with();
  host.deliver_server_message(offer("h3", {{"otlphttp/backend", backend("http://sink:4318")}}));
  look_up();
  ASSERT_TRUE(host.complete_config_change(OPSUP_ERR_VETO, 0, "'headers' has invalid keys"));
  EXPECT_EQ(last_status().status(), proto::ConnectionSettingsStatuses_FAILED);
  EXPECT_NE(last_status().error_message().find("'headers' has invalid keys"), std::string::npos);
  EXPECT_EQ(host.storage().count("other_connections.dat"), 0u);
}

TEST_F(OtherConnectionsModuleTest, APlaceholderEntryWithdrawsTheNameAndRemovesTheLayer) {
  FakeHost &host = start_with();
  host.deliver_server_message(offer("h4", {{"otlphttp/backend", backend("http://sink:4318")}}));
  look_up();
  ASSERT_TRUE(host.complete_config_change());
  ASSERT_EQ(host.config_layers().count("other_connections"), 1u);

  host.deliver_server_message(offer("h5", {{"otlphttp/backend", {}}}));
  look_up();
  ASSERT_EQ(host.config_changes().size(), 4u);
  EXPECT_EQ(host.config_changes()[3].layer_name, "other_connections");
  EXPECT_FALSE(host.config_changes()[3].yaml) << "removed";
  ASSERT_TRUE(host.complete_config_change());
  EXPECT_EQ(host.config_layers().count("other_connections"), 0u);
  EXPECT_EQ(last_status().status(), proto::ConnectionSettingsStatuses_APPLIED);
  EXPECT_EQ(last_status().last_connection_settings_hash(), "h5");
  proto::ConnectionSettingsOffers stored;
  ASSERT_TRUE(stored.ParseFromString(host.storage()["other_connections.dat"]));
  EXPECT_TRUE(stored.other_connections().empty());
}

TEST_F(OtherConnectionsModuleTest, OneStatusCoversAConnectionTrialAndOtherConnections) {
  FakeHost &host = start_with();
  proto::OpAMPConnectionSettings opamp;
  opamp.set_destination_endpoint("ws://127.0.0.1:9/v1/opamp");
  host.deliver_server_message(
      offer("h6", {{"otlphttp/backend", backend("http://sink:4318")}}, &opamp));
  look_up();
  ASSERT_TRUE(host.complete_config_change());
  EXPECT_EQ(last_status().status(), proto::ConnectionSettingsStatuses_APPLYING)
      << "the trial still runs";
  ASSERT_TRUE(host.complete_connection_trial(OPSUP_ERR_FAILED, "connection refused"));
  host.run_ready();
  EXPECT_EQ(last_status().status(), proto::ConnectionSettingsStatuses_FAILED);
  EXPECT_EQ(last_status().error_message(), "connection refused");
  EXPECT_EQ(host.config_layers().count("other_connections"), 1u)
      << "the parts are independent: the exporter stays configured";
}

TEST_F(OtherConnectionsModuleTest, StartAppliesTheKeptConnectionsBeforeAnyOffer) {
  proto::ConnectionSettingsOffers kept;
  kept.set_hash("h7");
  (*kept.mutable_other_connections())["otlphttp/backend"] = backend("http://sink:4318");
  host().storage()["other_connections.dat"] = kept.SerializeAsString();
  FakeHost &host = start_with();
  ASSERT_EQ(host.config_changes().size(), 1u);
  EXPECT_EQ(host.config_changes()[0].layer_name, "other_connections");
  EXPECT_EQ(host.config_changes()[0].flags, 0u);
  ASSERT_TRUE(host.config_changes()[0].yaml);
  EXPECT_NE(host.config_changes()[0].yaml->find("http://sink:4318"), std::string::npos);
}

TEST_F(OtherConnectionsModuleTest, AKeptConnectionWhoseExporterVanishedIsDroppedAfterStart) {
  proto::ConnectionSettingsOffers kept;
  kept.set_hash("h9");
  (*kept.mutable_other_connections())["otlphttp/backend"] = backend("http://sink:4318");
  (*kept.mutable_other_connections())["otlphttp/gone"] = backend("http://sink:4318");
  host().storage()["other_connections.dat"] = kept.SerializeAsString();
  FakeHost &host = start_with();
  ASSERT_EQ(host.config_changes().size(), 1u);
  ASSERT_TRUE(host.complete_config_change());
  // The composed config (kComposed) uses otlphttp/backend in a pipeline, not otlphttp/gone.
  ASSERT_EQ(host.config_changes().size(), 2u);
  ASSERT_TRUE(host.config_changes()[1].yaml);
  EXPECT_EQ(host.config_changes()[1].yaml->find("otlphttp/gone"), std::string::npos);
  EXPECT_NE(host.config_changes()[1].yaml->find("otlphttp/backend"), std::string::npos);
  ASSERT_TRUE(host.complete_config_change());
  proto::ConnectionSettingsOffers stored;
  ASSERT_TRUE(stored.ParseFromString(host.storage()["other_connections.dat"]));
  EXPECT_EQ(stored.other_connections().count("otlphttp/gone"), 0u);
  EXPECT_EQ(stored.other_connections().count("otlphttp/backend"), 1u);
  EXPECT_TRUE(host.logged("\"otlphttp/gone\" any more", OPSUP_LOG_WARN));
}

TEST_F(OtherConnectionsModuleTest, KeptConnectionsAreNotAppliedWithTheCapabilityOff) {
  proto::ConnectionSettingsOffers kept;
  kept.set_hash("h8");
  (*kept.mutable_other_connections())["otlphttp/backend"] = backend("http://sink:4318");
  host().storage()["other_connections.dat"] = kept.SerializeAsString();
  FakeHost &host = start_with(
      "storage:\n  directory: /nonexistent/x\ncapabilities:\n"
      "  accepts_other_connection_settings: false\n");
  EXPECT_TRUE(host.config_changes().empty());
  EXPECT_TRUE(host.logged("accepts_other_connection_settings is off"));
}

}  // namespace
}  // namespace opsup::connection_settings
