// packages.so, loaded with dlopen and driven through the SDK's FakeHost: offers compared
// level by level, statuses reported for every package with the offer's hash, kept in the
// persistent state and the offer in the storage directory, withdrawn packages removed.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include <opsup/testing/loaded_module.hpp>

#include "opamp.pb.h"
#include "package_state.hpp"

namespace opsup::packages {
namespace {

namespace proto = ::opamp::proto::v1;

std::string offer_message(const std::string &all_hash,
                          const std::map<std::string, std::string> &hashes,
                          proto::PackageType type = proto::PackageType_Addon) {
  proto::ServerToAgent message;
  proto::PackagesAvailable *available = message.mutable_packages_available();
  available->set_all_packages_hash(all_hash);
  for (const auto &[name, hash] : hashes) {
    proto::PackageAvailable &package = (*available->mutable_packages())[name];
    package.set_type(type);
    package.set_version("1.0." + hash);
    package.set_hash(hash);
    package.mutable_file()->set_download_url("http://127.0.0.1:1/packages/" + name);
    package.mutable_file()->set_content_hash(std::string(32, 'x'));
  }
  return message.SerializeAsString();
}

class PackagesModule : public opsup::testing::LoadedModule {
 protected:
  PackagesModule() : LoadedModule(OPSUP_PACKAGES_MODULE) {}

  // The newest package_statuses the module sent.
  proto::PackageStatuses last_statuses() {
    for (auto it = host().agent_fields().rbegin(); it != host().agent_fields().rend(); ++it) {
      proto::AgentToServer message;
      EXPECT_TRUE(message.ParseFromString(*it));
      if (message.has_package_statuses())
        return message.package_statuses();
    }
    ADD_FAILURE() << "no package_statuses sent";
    return {};
  }

  PackagesState stored_state() {
    std::string error;
    auto state = parse_state(host().persistent_state().at("package_statuses"), error);
    EXPECT_TRUE(state) << error;
    return state.value_or(PackagesState{});
  }
};

TEST_F(PackagesModule, OwnsBothPackageCapabilitiesAndReadsTheOffer) {
  const opsup_module_descriptor &descriptor = host().descriptor();
  EXPECT_STREQ(descriptor.id, "packages");
  EXPECT_EQ(descriptor.abi_minor, 3u);
  EXPECT_EQ(descriptor.capabilities,
            OPSUP_CAP_ACCEPTS_PACKAGES | OPSUP_CAP_REPORTS_PACKAGE_STATUSES);
  ASSERT_EQ(descriptor.server_to_agent_field_count, 1u);
  EXPECT_EQ(descriptor.server_to_agent_fields[0], uint32_t{OPSUP_S2A_PACKAGES_AVAILABLE});
}

TEST_F(PackagesModule, NothingIsSentBeforeAnyOffer) {
  start();
  EXPECT_TRUE(host().agent_fields().empty());
}

TEST_F(PackagesModule, ReportsEveryOfferedPackageWithTheOffersHash) {
  start();
  host().deliver_server_message(offer_message("all1", {{"a", "ha"}, {"b", "hb"}}));
  const proto::PackageStatuses statuses = last_statuses();
  EXPECT_EQ(statuses.server_provided_all_packages_hash(), "all1");
  ASSERT_EQ(statuses.packages_size(), 2);
  const proto::PackageStatus &a = statuses.packages().at("a");
  EXPECT_EQ(a.name(), "a");
  EXPECT_EQ(a.server_offered_hash(), "ha");
  EXPECT_EQ(a.server_offered_version(), "1.0.ha");
  EXPECT_TRUE(a.agent_has_hash().empty());
  // No download service in this host: said, and the offer is tried again later.
  EXPECT_EQ(a.status(), proto::PackageStatusEnum_InstallFailed);
  EXPECT_NE(a.error_message().find("no download service"), std::string::npos) << a.error_message();
  EXPECT_TRUE(stored_state().packages.at("a").retry);
}

TEST_F(PackagesModule, ATopLevelPackageIsRefusedWithTheReason) {
  start();
  host().deliver_server_message(
      offer_message("all1", {{"otelcol", "h"}}, proto::PackageType_TopLevel));
  const proto::PackageStatus status = last_statuses().packages().at("otelcol");
  EXPECT_EQ(status.status(), proto::PackageStatusEnum_InstallFailed);
  EXPECT_NE(status.error_message().find("top-level packages"), std::string::npos);
}

TEST_F(PackagesModule, KeepsTheStatusesAndTheOffer) {
  start();
  host().deliver_server_message(offer_message("all1", {{"a", "ha"}}));
  const PackagesState state = stored_state();
  EXPECT_EQ(state.server_provided_all_packages_hash, "all1");
  EXPECT_EQ(state.packages.at("a").server_offered_hash, "ha");
  proto::PackagesAvailable kept;
  ASSERT_TRUE(kept.ParseFromString(host().storage().at("packages_available.dat")));
  EXPECT_EQ(kept.all_packages_hash(), "all1");
}

TEST_F(PackagesModule, ARestartReportsTheStoredStatusesAtOnce) {
  PackagesState state;
  state.server_provided_all_packages_hash = "all1";
  state.packages["a"].status = Status::kInstalled;
  state.packages["a"].agent_has_hash = "ha";
  state.packages["a"].agent_has_version = "1.0";
  state.packages["a"].server_offered_hash = "ha";
  host().persistent_state()["package_statuses"] = state_yaml(state);
  start();
  const proto::PackageStatuses statuses = last_statuses();
  EXPECT_EQ(statuses.server_provided_all_packages_hash(), "all1");
  EXPECT_EQ(statuses.packages().at("a").status(), proto::PackageStatusEnum_Installed);
  EXPECT_EQ(statuses.packages().at("a").agent_has_version(), "1.0");
}

TEST_F(PackagesModule, UnfinishedWorkWithoutTheOfferAsksTheServerAgain) {
  PackagesState state;
  state.server_provided_all_packages_hash = "all1";
  state.packages["a"].status = Status::kDownloading;
  host().persistent_state()["package_statuses"] = state_yaml(state);
  start();  // no packages_available.dat
  EXPECT_TRUE(last_statuses().server_provided_all_packages_hash().empty());
}

TEST_F(PackagesModule, UnfinishedWorkResumesFromTheKeptOffer) {
  PackagesState state;
  state.server_provided_all_packages_hash = "all1";
  state.packages["a"].status = Status::kDownloading;
  state.packages["a"].server_offered_hash = "ha";
  host().persistent_state()["package_statuses"] = state_yaml(state);
  proto::ServerToAgent offer;
  ASSERT_TRUE(offer.ParseFromString(offer_message("all1", {{"a", "ha"}})));
  host().storage()["packages_available.dat"] = offer.packages_available().SerializeAsString();
  start();
  const proto::PackageStatuses statuses = last_statuses();
  EXPECT_EQ(statuses.server_provided_all_packages_hash(), "all1");
  // Tried again at once; this host cannot download, so it fails with the reason.
  EXPECT_EQ(statuses.packages().at("a").status(), proto::PackageStatusEnum_InstallFailed);
}

TEST_F(PackagesModule, AWithdrawnPackageIsRemoved) {
  start();
  host().deliver_server_message(offer_message("all1", {{"a", "ha"}, {"b", "hb"}}));
  host().deliver_server_message(offer_message("all2", {{"a", "ha"}}));
  const proto::PackageStatuses statuses = last_statuses();
  EXPECT_EQ(statuses.server_provided_all_packages_hash(), "all2");
  EXPECT_EQ(statuses.packages_size(), 1);
  EXPECT_FALSE(statuses.packages().contains("b"));
  EXPECT_FALSE(stored_state().packages.contains("b"));
  EXPECT_TRUE(host().logged("b is no longer offered", OPSUP_LOG_INFO));
}

TEST_F(PackagesModule, MessagesWithoutAnOfferOrThatDoNotParseAreIgnored) {
  start();
  proto::ServerToAgent flags_only;
  flags_only.set_flags(proto::ServerToAgentFlags_ReportFullState);
  host().deliver_server_message(flags_only.SerializeAsString());
  host().deliver_server_message("\xff\xff\xff");
  EXPECT_TRUE(host().agent_fields().empty());
  EXPECT_TRUE(host().logged("does not parse", OPSUP_LOG_WARN));
}

TEST_F(PackagesModule, AStoredStateThatDoesNotParseIsReportedAndIgnored) {
  host().persistent_state()["package_statuses"] = "packages: {a: {status: Done}}\n";
  start();
  EXPECT_TRUE(host().logged("ignoring the stored package statuses", OPSUP_LOG_WARN));
  EXPECT_TRUE(host().agent_fields().empty());
}

}  // namespace
}  // namespace opsup::packages
