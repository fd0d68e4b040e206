// connection_settings.so, loaded with dlopen and driven through the SDK's FakeHost: the
// trial is asked of the host, the settings are committed (persisted) only on success, the
// status goes APPLYING -> APPLIED / FAILED, a failed offer is not tried again, and a restart
// hands the stored settings to the host as committed ones.
#include <gtest/gtest.h>

#include <opsup/testing/loaded_module.hpp>

#include "opamp.pb.h"
#include "stored_status.hpp"

namespace opsup::connection_settings {
namespace {

using namespace std::chrono_literals;
namespace proto = ::opamp::proto::v1;
using opsup::testing::FakeHost;

constexpr const char *kStatusConfig = "capabilities:\n  reports_connection_settings_status: true\n";

proto::OpAMPConnectionSettings endpoint_offer(const std::string &endpoint) {
  proto::OpAMPConnectionSettings opamp;
  opamp.set_destination_endpoint(endpoint);
  auto *header = opamp.mutable_headers()->add_headers();
  header->set_key("X-Tenant");
  header->set_value("blue");
  return opamp;
}

std::string server_message(const std::string &hash, const proto::OpAMPConnectionSettings &opamp) {
  proto::ServerToAgent message;
  message.mutable_connection_settings()->set_hash(hash);
  *message.mutable_connection_settings()->mutable_opamp() = opamp;
  return message.SerializeAsString();
}

// The connection_settings_status of every status the module sent, oldest first.
std::vector<proto::ConnectionSettingsStatus> statuses(const FakeHost &host) {
  std::vector<proto::ConnectionSettingsStatus> found;
  for (const auto &payload : host.agent_fields()) {
    proto::AgentToServer fields;
    if (fields.ParseFromString(payload) && fields.has_connection_settings_status())
      found.push_back(fields.connection_settings_status());
  }
  return found;
}

class ConnectionSettingsModuleTest : public opsup::testing::LoadedModule {
 protected:
  ConnectionSettingsModuleTest() : LoadedModule(OPSUP_CONNECTION_SETTINGS_MODULE) {}

  FakeHost &start_with(const char *config = kStatusConfig) {
    EXPECT_EQ(host().create(config), OPSUP_OK) << host().last_error();
    EXPECT_EQ(host().start(), OPSUP_OK) << host().last_error();
    return host();
  }
};

TEST_F(ConnectionSettingsModuleTest, ASuccessfulTrialIsCommittedAndReportedApplied) {
  FakeHost &host = start_with();
  const auto offer = endpoint_offer("ws://127.0.0.1:9/v1/opamp");
  host.deliver_server_message(server_message("h1", offer));

  ASSERT_EQ(host.connection_trials().size(), 1u);
  EXPECT_EQ(host.connection_trials()[0].settings, offer.SerializeAsString());
  EXPECT_EQ(host.connection_trials()[0].flags, 0u);
  EXPECT_EQ(host.connection_trials()[0].timeout_ms, 30000u);
  ASSERT_EQ(statuses(host).size(), 1u);
  EXPECT_EQ(statuses(host)[0].status(), proto::ConnectionSettingsStatuses_APPLYING);
  EXPECT_EQ(statuses(host)[0].last_connection_settings_hash(), "h1");
  // Nothing is persisted before the new server answered.
  EXPECT_EQ(host.storage().count("opamp_connection_settings.dat"), 0u);

  ASSERT_TRUE(host.complete_connection_trial(OPSUP_OK));
  host.run_ready();
  ASSERT_EQ(statuses(host).size(), 2u);
  EXPECT_EQ(statuses(host)[1].status(), proto::ConnectionSettingsStatuses_APPLIED);
  EXPECT_EQ(statuses(host)[1].error_message(), "");
  proto::ConnectionSettingsOffers stored;
  ASSERT_TRUE(stored.ParseFromString(host.storage()["opamp_connection_settings.dat"]));
  EXPECT_EQ(stored.hash(), "h1");
  EXPECT_EQ(stored.opamp().destination_endpoint(), "ws://127.0.0.1:9/v1/opamp");
  const auto persisted =
      parse_status_yaml(host.persistent_state()["last_connection_settings_status"]);
  ASSERT_TRUE(persisted);
  EXPECT_EQ(persisted->status, 1);
  EXPECT_EQ(persisted->hash, "h1");
}

TEST_F(ConnectionSettingsModuleTest, AFailedTrialIsReportedWithTheReasonAndNotRetried) {
  FakeHost &host = start_with();
  host.deliver_server_message(server_message("h2", endpoint_offer("ws://127.0.0.1:1/v1/opamp")));
  ASSERT_TRUE(
      host.complete_connection_trial(OPSUP_ERR_FAILED, "connection refused by 127.0.0.1:1"));
  host.run_ready();
  ASSERT_EQ(statuses(host).size(), 2u);
  EXPECT_EQ(statuses(host)[1].status(), proto::ConnectionSettingsStatuses_FAILED);
  EXPECT_EQ(statuses(host)[1].error_message(), "connection refused by 127.0.0.1:1");
  EXPECT_EQ(host.storage().count("opamp_connection_settings.dat"), 0u);

  // The same offer again: FAILED at once, no second trial.
  host.deliver_server_message(server_message("h2", endpoint_offer("ws://127.0.0.1:1/v1/opamp")));
  EXPECT_EQ(host.connection_trials().size(), 1u);
  EXPECT_EQ(statuses(host).back().status(), proto::ConnectionSettingsStatuses_FAILED);
}

TEST_F(ConnectionSettingsModuleTest, AnUnusableOfferIsFailedWithTheHostsMessage) {
  FakeHost &host = start_with();
  host.deliver_server_message(server_message("h3", endpoint_offer("ftp://nowhere")));
  ASSERT_TRUE(host.complete_connection_trial(OPSUP_ERR_INVALID_ARGUMENT, "endpoint: bad scheme"));
  host.run_ready();
  EXPECT_EQ(statuses(host).back().status(), proto::ConnectionSettingsStatuses_FAILED);
  EXPECT_EQ(statuses(host).back().error_message(), "endpoint: bad scheme");
}

TEST_F(ConnectionSettingsModuleTest, ANewerOfferReplacesTheOneBeingTried) {
  FakeHost &host = start_with();
  host.deliver_server_message(server_message("a", endpoint_offer("ws://127.0.0.1:10/v1/opamp")));
  host.deliver_server_message(server_message("b", endpoint_offer("ws://127.0.0.1:11/v1/opamp")));
  ASSERT_EQ(host.connection_trials().size(), 2u);
  // The host ends the first trial as replaced: the module reports nothing for it.
  ASSERT_TRUE(host.complete_connection_trial(OPSUP_ERR_FAILED, "replaced by a newer offer"));
  host.run_ready();
  EXPECT_EQ(statuses(host).back().status(), proto::ConnectionSettingsStatuses_APPLYING);
  EXPECT_EQ(statuses(host).back().last_connection_settings_hash(), "b");
  ASSERT_TRUE(host.complete_connection_trial(OPSUP_OK));
  host.run_ready();
  EXPECT_EQ(statuses(host).back().status(), proto::ConnectionSettingsStatuses_APPLIED);
  EXPECT_EQ(statuses(host).back().last_connection_settings_hash(), "b");
}

TEST_F(ConnectionSettingsModuleTest, AHeartbeatOnlyOfferKeepsTheConnectionAndIsAppliedAtOnce) {
  FakeHost &host = start_with();
  proto::OpAMPConnectionSettings offer;
  offer.set_heartbeat_interval_seconds(1);
  host.deliver_server_message(server_message("hb", offer));
  EXPECT_TRUE(host.connection_trials().empty());
  ASSERT_EQ(statuses(host).size(), 1u);
  EXPECT_EQ(statuses(host)[0].status(), proto::ConnectionSettingsStatuses_APPLIED);
  proto::ConnectionSettingsOffers stored;
  ASSERT_TRUE(stored.ParseFromString(host.storage()["opamp_connection_settings.dat"]));
  EXPECT_EQ(stored.opamp().heartbeat_interval_seconds(), 1u);
}

TEST_F(ConnectionSettingsModuleTest, TheSettingsInForceSentAgainAreAppliedWithoutATrial) {
  FakeHost &host = start_with();
  const auto offer = endpoint_offer("ws://127.0.0.1:12/v1/opamp");
  host.deliver_server_message(server_message("h1", offer));
  host.complete_connection_trial(OPSUP_OK);
  host.run_ready();
  // Another part changed the hash; the opamp part is the same.
  host.deliver_server_message(server_message("h1b", offer));
  EXPECT_EQ(host.connection_trials().size(), 1u);
  EXPECT_EQ(statuses(host).back().status(), proto::ConnectionSettingsStatuses_APPLIED);
  EXPECT_EQ(statuses(host).back().last_connection_settings_hash(), "h1b");
}

TEST_F(ConnectionSettingsModuleTest, StartUpHandsTheStoredSettingsToTheHostAsCommitted) {
  proto::ConnectionSettingsOffers stored;
  stored.set_hash("h9");
  *stored.mutable_opamp() = endpoint_offer("ws://127.0.0.1:13/v1/opamp");
  host().storage()["opamp_connection_settings.dat"] = stored.SerializeAsString();
  host().persistent_state()["last_connection_settings_status"] =
      status_yaml(StoredStatus{1, "h9", ""});
  FakeHost &host = start_with();
  ASSERT_EQ(host.connection_trials().size(), 1u);
  EXPECT_EQ(host.connection_trials()[0].flags, uint32_t{OPSUP_CONNECTION_COMMITTED});
  EXPECT_EQ(host.connection_trials()[0].settings, stored.opamp().SerializeAsString());
  // The last status is reported again at once.
  ASSERT_EQ(statuses(host).size(), 1u);
  EXPECT_EQ(statuses(host)[0].status(), proto::ConnectionSettingsStatuses_APPLIED);
  EXPECT_EQ(statuses(host)[0].last_connection_settings_hash(), "h9");
  // The server offering the same settings again needs no trial.
  host.deliver_server_message(server_message("h9", stored.opamp()));
  EXPECT_EQ(host.connection_trials().size(), 1u);
}

TEST_F(ConnectionSettingsModuleTest, ATrialCutShortByAStopIsReportedFailedAtTheNextStart) {
  host().persistent_state()["last_connection_settings_status"] =
      status_yaml(StoredStatus{2, "h7", ""});
  FakeHost &host = start_with();
  ASSERT_EQ(statuses(host).size(), 1u);
  EXPECT_EQ(statuses(host)[0].status(), proto::ConnectionSettingsStatuses_FAILED);
  EXPECT_EQ(statuses(host)[0].last_connection_settings_hash(), "h7");
  EXPECT_NE(statuses(host)[0].error_message().find("stopped"), std::string::npos);
  EXPECT_TRUE(host.connection_trials().empty());
}

TEST_F(ConnectionSettingsModuleTest, NoStatusIsSentUnlessReportsConnectionSettingsStatusIsOn) {
  FakeHost &host = start_with("capabilities:\n  accepts_opamp_connection_settings: true\n");
  host.deliver_server_message(server_message("h1", endpoint_offer("ws://127.0.0.1:14/v1/opamp")));
  ASSERT_EQ(host.connection_trials().size(), 1u);
  host.complete_connection_trial(OPSUP_OK);
  host.run_ready();
  EXPECT_TRUE(statuses(host).empty());
  // The status is still kept, for a later config that reports it.
  EXPECT_EQ(host.persistent_state().count("last_connection_settings_status"), 1u);
}

TEST_F(ConnectionSettingsModuleTest, TheVerifyTimeoutComesFromTheModuleSettings) {
  host().set_setting("verify_timeout", "5s");
  FakeHost &host = start_with();
  host.deliver_server_message(server_message("h1", endpoint_offer("ws://127.0.0.1:15/v1/opamp")));
  ASSERT_EQ(host.connection_trials().size(), 1u);
  EXPECT_EQ(host.connection_trials()[0].timeout_ms, 5000u);
}

TEST_F(ConnectionSettingsModuleTest, AZeroVerifyTimeoutIsRefusedNamingTheKey) {
  host().set_setting("verify_timeout", "0");
  EXPECT_EQ(host().create(kStatusConfig), OPSUP_ERR_INVALID_ARGUMENT);
  EXPECT_NE(host().last_error().find("plugins.connection_settings.verify_timeout"),
            std::string::npos);
}

}  // namespace
}  // namespace opsup::connection_settings
