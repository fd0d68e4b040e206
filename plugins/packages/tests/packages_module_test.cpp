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
    auto *header = package.mutable_file()->mutable_headers()->add_headers();
    header->set_key("Authorization");
    header->set_value("Bearer t");
  }
  return message.SerializeAsString();
}

class PackagesModule : public opsup::testing::LoadedModule {
 protected:
  PackagesModule() : LoadedModule(OPSUP_PACKAGES_MODULE) {}

  // Started with plugins.packages.allow_unsigned: true, so addons are downloaded.
  opsup::testing::FakeHost &start_unsigned_allowed() {
    host().set_setting("allow_unsigned", "true");
    return start();
  }

  proto::PackageStatus status_of(const std::string &name) {
    return last_statuses().packages().at(name);
  }

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
  EXPECT_EQ(descriptor.abi_minor, 6u);
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
  // Unsigned, and unsigned packages are refused by default: nothing is downloaded.
  EXPECT_EQ(a.status(), proto::PackageStatusEnum_InstallFailed);
  EXPECT_NE(a.error_message().find("not signed"), std::string::npos) << a.error_message();
  EXPECT_FALSE(stored_state().packages.at("a").retry);
  EXPECT_TRUE(host().downloads().empty());
}

TEST_F(PackagesModule, ASignedPackageIsDownloadedForTheHostToCheckItsSignature) {
  start();  // allow_unsigned is false by default
  proto::ServerToAgent message;
  ASSERT_TRUE(message.ParseFromString(offer_message("all1", {{"a", "ha"}})));
  (*message.mutable_packages_available()->mutable_packages())["a"].mutable_file()->set_signature(
      "sig");
  host().deliver_server_message(message.SerializeAsString());
  ASSERT_EQ(host().downloads().size(), 1u);
  EXPECT_EQ(host().downloads()[0].signature, "sig");
  EXPECT_EQ(host().downloads()[0].flags, OPSUP_DOWNLOAD_CHECK_SIGNATURE);
  // The host's refusal is the package's failure: InstallFailed with its reason.
  host().finish_download(0, OPSUP_ERR_FAILED, false, "signature check failed (...)");
  EXPECT_EQ(status_of("a").status(), proto::PackageStatusEnum_InstallFailed);
  EXPECT_EQ(status_of("a").error_message(), "signature check failed (...)");
}

TEST_F(PackagesModule, AnAddonIsDownloadedThenInstalled) {
  host().set_setting("max_download_bytes", "1000");
  start_unsigned_allowed();
  host().deliver_server_message(offer_message("all1", {{"a", "ha"}}));
  ASSERT_EQ(host().downloads().size(), 1u);
  const auto &download = host().downloads()[0];
  EXPECT_EQ(download.url, "http://127.0.0.1:1/packages/a");
  EXPECT_EQ(download.package_name, "a");
  EXPECT_EQ(download.file_name, "a");
  EXPECT_EQ(download.sha256, std::string(32, 'x'));
  EXPECT_EQ(download.max_bytes, 1000u);
  EXPECT_EQ(download.flags, OPSUP_DOWNLOAD_CHECK_SIGNATURE);  // unsigned: allowed by the host
  ASSERT_EQ(download.headers.size(), 1u);
  EXPECT_EQ(download.headers[0].first, "Authorization");
  EXPECT_EQ(status_of("a").status(), proto::PackageStatusEnum_Downloading);

  host().download_progress(0, 250, 1000, 4096);
  proto::PackageStatus status = status_of("a");
  EXPECT_EQ(status.status(), proto::PackageStatusEnum_Downloading);
  EXPECT_DOUBLE_EQ(status.download_details().download_percent(), 25.0);
  EXPECT_DOUBLE_EQ(status.download_details().download_bytes_per_second(), 4096.0);

  host().finish_download(0, OPSUP_OK);
  status = status_of("a");
  EXPECT_EQ(status.status(), proto::PackageStatusEnum_Installed);
  EXPECT_EQ(status.agent_has_hash(), "ha");
  EXPECT_EQ(status.agent_has_version(), "1.0.ha");
  EXPECT_FALSE(status.has_download_details());
  EXPECT_EQ(stored_state().packages.at("a").status, Status::kInstalled);
  EXPECT_TRUE(host().package_files().contains("a/a"));

  // The same package offered again (another package added): kept, not downloaded again.
  host().deliver_server_message(offer_message("all2", {{"a", "ha"}, {"b", "hb"}}));
  ASSERT_EQ(host().downloads().size(), 2u);
  EXPECT_EQ(host().downloads()[1].package_name, "b");
  EXPECT_EQ(status_of("a").status(), proto::PackageStatusEnum_Installed);
}

TEST_F(PackagesModule, ABadDownloadIsInstallFailedAndNotTriedAgain) {
  start_unsigned_allowed();
  host().deliver_server_message(offer_message("all1", {{"a", "ha"}}));
  host().finish_download(0, OPSUP_ERR_FAILED, false, "content hash mismatch: ...");
  proto::PackageStatus status = status_of("a");
  EXPECT_EQ(status.status(), proto::PackageStatusEnum_InstallFailed);
  EXPECT_EQ(status.error_message(), "content hash mismatch: ...");
  EXPECT_TRUE(status.agent_has_hash().empty());
  // Offered again with the same hash (in another offer): not downloaded again.
  host().deliver_server_message(offer_message("all2", {{"a", "ha"}, {"b", "hb"}}));
  ASSERT_EQ(host().downloads().size(), 2u);
  EXPECT_EQ(host().downloads()[1].package_name, "b");
  EXPECT_EQ(status_of("a").error_message(), "content hash mismatch: ...");
}

TEST_F(PackagesModule, AnInterruptedDownloadResumesAfterAWait) {
  start_unsigned_allowed();
  host().deliver_server_message(offer_message("all1", {{"a", "ha"}}));
  host().finish_download(0, OPSUP_ERR_FAILED, true, "interrupted after 10 bytes");
  EXPECT_EQ(status_of("a").status(), proto::PackageStatusEnum_InstallPending);
  EXPECT_EQ(host().downloads().size(), 1u);
  host().advance(std::chrono::seconds(2));
  ASSERT_EQ(host().downloads().size(), 2u);
  EXPECT_EQ(status_of("a").status(), proto::PackageStatusEnum_Downloading);
  host().finish_download(1, OPSUP_OK);
  EXPECT_EQ(status_of("a").status(), proto::PackageStatusEnum_Installed);
}

TEST_F(PackagesModule, ADownloadInterruptedTooOftenWaitsForTheNextOffer) {
  start_unsigned_allowed();
  host().deliver_server_message(offer_message("all1", {{"a", "ha"}}));
  for (size_t i = 0; i < 4; ++i) {
    ASSERT_EQ(host().downloads().size(), i + 1);
    host().finish_download(i, OPSUP_ERR_FAILED, true, "interrupted");
    host().advance(std::chrono::seconds(60));
  }
  EXPECT_EQ(host().downloads().size(), 4u);
  EXPECT_EQ(status_of("a").status(), proto::PackageStatusEnum_InstallFailed);
  EXPECT_TRUE(stored_state().packages.at("a").retry);
  // The same offer again (the same all_packages_hash) tries once more.
  host().deliver_server_message(offer_message("all1", {{"a", "ha"}}));
  EXPECT_EQ(host().downloads().size(), 5u);
}

TEST_F(PackagesModule, TheSameOfferDuringADownloadLeavesItRunning) {
  start_unsigned_allowed();
  host().deliver_server_message(offer_message("all1", {{"a", "ha"}}));
  host().download_progress(0, 5, 10, 1);
  host().deliver_server_message(offer_message("all1", {{"a", "ha"}}));
  host().deliver_server_message(offer_message("all2", {{"a", "ha"}, {"b", "hb"}}));
  EXPECT_FALSE(host().downloads()[0].cancelled);
  EXPECT_EQ(status_of("a").status(), proto::PackageStatusEnum_Downloading);
  EXPECT_DOUBLE_EQ(status_of("a").download_details().download_percent(), 50.0);
  // Another hash for it replaces the download.
  host().deliver_server_message(offer_message("all3", {{"a", "ha2"}}));
  EXPECT_TRUE(host().downloads()[0].cancelled);
  EXPECT_EQ(host().downloads().back().package_name, "a");
  EXPECT_FALSE(host().downloads().back().cancelled);
}

TEST_F(PackagesModule, AWithdrawnPackageIsCancelledAndItsFilesRemoved) {
  start_unsigned_allowed();
  host().deliver_server_message(offer_message("all1", {{"a", "ha"}, {"b", "hb"}}));
  host().finish_download(0, OPSUP_OK);  // a
  host().deliver_server_message(offer_message("all2", {}));
  EXPECT_TRUE(host().downloads()[1].cancelled);  // b was still downloading
  EXPECT_EQ(host().removed_packages(), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(host().package_files().empty());
  EXPECT_EQ(last_statuses().packages_size(), 0);
}

TEST_F(PackagesModule, ANameThatCannotBeADirectoryIsRefused) {
  start_unsigned_allowed();
  host().deliver_server_message(offer_message("all1", {{"../x", "h"}}));
  EXPECT_NE(status_of("../x").error_message().find("cannot be a directory name"),
            std::string::npos);
  EXPECT_TRUE(host().downloads().empty());
}

TEST_F(PackagesModule, MaxDownloadBytesMustBePositive) {
  host().set_setting("max_download_bytes", "0");
  EXPECT_EQ(host().create(), OPSUP_ERR_INVALID_ARGUMENT);
  EXPECT_NE(host().last_error().find("plugins.packages.max_download_bytes"), std::string::npos);
}

// The Collector itself (upstream names it ""): downloaded to .collector/, then Installing
// while the host swaps the executable, then Installed with the offered version and hash.
TEST_F(PackagesModule, ATopLevelPackageIsDownloadedThenHandedToTheExecutableUpdate) {
  host().set_setting("collector_health_timeout", "45s");
  start_unsigned_allowed();
  host().deliver_server_message(offer_message("all1", {{"", "h"}}, proto::PackageType_TopLevel));
  ASSERT_EQ(host().downloads().size(), 1u);
  EXPECT_EQ(host().downloads()[0].package_name, ".collector");
  EXPECT_EQ(host().downloads()[0].file_name, "collector-package");
  EXPECT_EQ(status_of("").status(), proto::PackageStatusEnum_Downloading);
  host().finish_download(0, OPSUP_OK);
  ASSERT_EQ(host().collector_updates().size(), 1u);
  EXPECT_EQ(host().collector_updates()[0].package_path,
            "/fake-storage/packages/.collector/collector-package");
  EXPECT_EQ(host().collector_updates()[0].health_timeout_ms, 45000u);
  EXPECT_EQ(status_of("").status(), proto::PackageStatusEnum_Installing);
  EXPECT_EQ(stored_state().packages.at("").status, Status::kInstalling);
  ASSERT_TRUE(host().finish_collector_update(OPSUP_OK));
  const proto::PackageStatus status = status_of("");
  EXPECT_EQ(status.status(), proto::PackageStatusEnum_Installed);
  EXPECT_EQ(status.agent_has_hash(), "h");
  EXPECT_EQ(status.agent_has_version(), "1.0.h");
  EXPECT_EQ(host().removed_packages(), std::vector<std::string>{".collector"});
}

// A rollback is remembered: the same offer again starts no download and no update; another
// hash does.
TEST_F(PackagesModule, ARolledBackUpdateIsNotRetriedUntilAnotherHash) {
  start_unsigned_allowed();
  host().deliver_server_message(offer_message("all1", {{"", "h"}}, proto::PackageType_TopLevel));
  host().finish_download(0, OPSUP_OK);
  host().finish_collector_update(OPSUP_ERR_FAILED,
                                 "the new Collector did not report itself healthy within 60000 "
                                 "ms; the previous executable was restored and started again");
  EXPECT_EQ(status_of("").status(), proto::PackageStatusEnum_InstallFailed);
  EXPECT_NE(status_of("").error_message().find("previous executable was restored"),
            std::string::npos);
  EXPECT_TRUE(status_of("").agent_has_hash().empty());
  EXPECT_FALSE(stored_state().packages.at("").retry);
  host().deliver_server_message(offer_message("all2", {{"", "h"}}, proto::PackageType_TopLevel));
  EXPECT_EQ(host().downloads().size(), 1u);
  EXPECT_EQ(host().collector_updates().size(), 1u);
  EXPECT_EQ(status_of("").status(), proto::PackageStatusEnum_InstallFailed);
  host().deliver_server_message(offer_message("all3", {{"", "h2"}}, proto::PackageType_TopLevel));
  EXPECT_EQ(host().downloads().size(), 2u);
}

TEST_F(PackagesModule, ARefusedPackageIsInstallFailedWithTheReason) {
  start_unsigned_allowed();
  host().deliver_server_message(offer_message("all1", {{"", "h"}}, proto::PackageType_TopLevel));
  host().finish_download(0, OPSUP_OK);
  host().finish_collector_update(OPSUP_ERR_INVALID_ARGUMENT,
                                 "the package was refused: entry 1 \"../x\" is refused");
  EXPECT_EQ(status_of("").status(), proto::PackageStatusEnum_InstallFailed);
  EXPECT_NE(status_of("").error_message().find("../x"), std::string::npos);
  EXPECT_FALSE(stored_state().packages.at("").retry);
}

TEST_F(PackagesModule, AnUpdateTheHostCouldNotTryIsTriedAgain) {
  start_unsigned_allowed();
  host().deliver_server_message(offer_message("all1", {{"", "h"}}, proto::PackageType_TopLevel));
  host().finish_download(0, OPSUP_OK);
  host().finish_collector_update(OPSUP_ERR_UNSUPPORTED, "the supervisor is stopping");
  EXPECT_EQ(status_of("").status(), proto::PackageStatusEnum_InstallFailed);
  EXPECT_TRUE(stored_state().packages.at("").retry);
}

TEST_F(PackagesModule, WithoutTheUpdateServiceATopLevelPackageFailsAndIsRetriedLater) {
  host().set_collector_available(false);
  start_unsigned_allowed();
  host().deliver_server_message(offer_message("all1", {{"", "h"}}, proto::PackageType_TopLevel));
  host().finish_download(0, OPSUP_OK);
  EXPECT_EQ(status_of("").status(), proto::PackageStatusEnum_InstallFailed);
  EXPECT_NE(status_of("").error_message().find("cannot replace the Collector executable"),
            std::string::npos);
  EXPECT_TRUE(stored_state().packages.at("").retry);
}

// After a SIGKILL during the swap, the host finished the update at start-up; the module,
// which had kept Installing, reports what the host found.
PackagesState installing_state() {
  PackagesState state;
  state.server_provided_all_packages_hash = "all1";
  state.packages[""].status = Status::kInstalling;
  state.packages[""].server_offered_hash = "h";
  state.packages[""].server_offered_version = "1.0.h";
  return state;
}

TEST_F(PackagesModule, AnUpdateRolledBackAtStartUpIsInstallFailedAndNotRetried) {
  host().persistent_state()["package_statuses"] = state_yaml(installing_state());
  proto::ServerToAgent offer;
  ASSERT_TRUE(
      offer.ParseFromString(offer_message("all1", {{"", "h"}}, proto::PackageType_TopLevel)));
  host().storage()["packages_available.dat"] = offer.packages_available().SerializeAsString();
  host().set_update_recovery(OPSUP_UPDATE_ROLLED_BACK,
                             "interrupted: ...; the previous executable was restored");
  start_unsigned_allowed();
  EXPECT_EQ(status_of("").status(), proto::PackageStatusEnum_InstallFailed);
  EXPECT_EQ(status_of("").error_message(),
            "interrupted: ...; the previous executable was restored");
  EXPECT_TRUE(host().downloads().empty());
  EXPECT_EQ(stored_state().packages.at("").status, Status::kInstallFailed);
}

TEST_F(PackagesModule, AnUpdateCommittedBeforeTheKillIsInstalled) {
  host().persistent_state()["package_statuses"] = state_yaml(installing_state());
  host().set_update_recovery(OPSUP_UPDATE_INSTALLED, "passed its health gate");
  start_unsigned_allowed();
  EXPECT_EQ(status_of("").status(), proto::PackageStatusEnum_Installed);
  EXPECT_EQ(status_of("").agent_has_hash(), "h");
  EXPECT_EQ(status_of("").agent_has_version(), "1.0.h");
}

TEST_F(PackagesModule, AddonNamesCannotStartWithADot) {
  start_unsigned_allowed();
  host().deliver_server_message(offer_message("all1", {{".collector", "h"}}));
  EXPECT_NE(status_of(".collector").error_message().find("cannot be a directory name"),
            std::string::npos);
  EXPECT_TRUE(host().downloads().empty());
}

TEST_F(PackagesModule, CollectorHealthTimeoutMustBePositive) {
  host().set_setting("collector_health_timeout", "0s");
  EXPECT_EQ(host().create(), OPSUP_ERR_INVALID_ARGUMENT);
  EXPECT_NE(host().last_error().find("plugins.packages.collector_health_timeout"),
            std::string::npos);
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
  start_unsigned_allowed();
  const proto::PackageStatuses statuses = last_statuses();
  EXPECT_EQ(statuses.server_provided_all_packages_hash(), "all1");
  // Started again at once (the host resumes the kept bytes with Range).
  ASSERT_EQ(host().downloads().size(), 1u);
  EXPECT_EQ(statuses.packages().at("a").status(), proto::PackageStatusEnum_Downloading);
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
