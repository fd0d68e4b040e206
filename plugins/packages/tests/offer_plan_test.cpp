// Comparing an offer with what the agent has, level by level.
#include <gtest/gtest.h>

#include "offer_plan.hpp"

namespace opsup::packages {
namespace {

Offer offer(std::string all_hash, std::map<std::string, std::string> hashes) {
  Offer result;
  result.all_packages_hash = std::move(all_hash);
  for (auto &[name, hash] : hashes) {
    OfferedPackage package;
    package.version = "v-" + hash;
    package.hash = hash;
    result.packages.emplace(name, std::move(package));
  }
  return result;
}

PackageState installed(const std::string &hash) {
  PackageState state;
  state.status = Status::kInstalled;
  state.agent_has_hash = hash;
  state.agent_has_version = "v-" + hash;
  state.server_offered_hash = hash;
  state.server_offered_version = "v-" + hash;
  return state;
}

TEST(OfferPlan, AFirstOfferInstallsEveryPackage) {
  const Plan plan = plan_offer({}, offer("all", {{"a", "ha"}, {"b", "hb"}}));
  EXPECT_FALSE(plan.unchanged);
  EXPECT_EQ(plan.install, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(plan.remove.empty());
  EXPECT_EQ(plan.next.server_provided_all_packages_hash, "all");
  EXPECT_EQ(plan.next.packages.at("a").status, Status::kInstallPending);
  EXPECT_EQ(plan.next.packages.at("a").server_offered_hash, "ha");
  EXPECT_EQ(plan.next.packages.at("a").server_offered_version, "v-ha");
}

TEST(OfferPlan, TheSameAllPackagesHashComparesNothing) {
  PackagesState current;
  current.server_provided_all_packages_hash = "all";
  current.packages["a"] = installed("old");  // would differ per package
  const Plan plan = plan_offer(current, offer("all", {{"a", "ha"}}));
  EXPECT_TRUE(plan.unchanged);
  EXPECT_TRUE(plan.install.empty());
  EXPECT_EQ(plan.next, current);
}

TEST(OfferPlan, TheSameAllPackagesHashResumesUnfinishedWork) {
  PackagesState current;
  current.server_provided_all_packages_hash = "all";
  current.packages["a"].status = Status::kDownloading;
  current.packages["b"].status = Status::kInstallFailed;
  current.packages["b"].retry = true;
  current.packages["c"].status = Status::kInstallFailed;
  const Plan plan = plan_offer(current, offer("all", {{"a", "ha"}, {"b", "hb"}, {"c", "hc"}}));
  EXPECT_EQ(plan.install, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(plan.next.packages.at("b").status, Status::kInstallPending);
  EXPECT_EQ(plan.next.packages.at("c").status, Status::kInstallFailed);
}

TEST(OfferPlan, KeepsWhatTheAgentHasAndInstallsWhatChanged) {
  PackagesState current;
  current.server_provided_all_packages_hash = "all1";
  current.packages["same"] = installed("hs");
  current.packages["changed"] = installed("h1");
  const Plan plan = plan_offer(current, offer("all2", {{"same", "hs"}, {"changed", "h2"}}));
  EXPECT_EQ(plan.install, std::vector<std::string>{"changed"});
  EXPECT_EQ(plan.next.packages.at("same"), current.packages.at("same"));
  const PackageState &changed = plan.next.packages.at("changed");
  EXPECT_EQ(changed.status, Status::kInstallPending);
  EXPECT_EQ(changed.agent_has_hash, "h1");  // still what is installed
  EXPECT_EQ(changed.server_offered_hash, "h2");
}

TEST(OfferPlan, PackagesNoLongerOfferedAreRemoved) {
  PackagesState current;
  current.server_provided_all_packages_hash = "all1";
  current.packages["kept"] = installed("hk");
  current.packages["gone"] = installed("hg");
  const Plan plan = plan_offer(current, offer("all2", {{"kept", "hk"}}));
  EXPECT_EQ(plan.remove, std::vector<std::string>{"gone"});
  EXPECT_FALSE(plan.next.packages.contains("gone"));
  EXPECT_TRUE(plan.install.empty());
}

TEST(OfferPlan, ABadPackageIsNotTriedAgainUntilAnotherHashIsOffered) {
  PackagesState current;
  current.server_provided_all_packages_hash = "all1";
  PackageState &failed = current.packages["a"];
  failed.status = Status::kInstallFailed;
  failed.server_offered_hash = "bad";
  failed.error_message = "content hash mismatch";

  Plan plan = plan_offer(current, offer("all2", {{"a", "bad"}}));
  EXPECT_TRUE(plan.install.empty());
  EXPECT_EQ(plan.next.packages.at("a").error_message, "content hash mismatch");

  plan = plan_offer(current, offer("all3", {{"a", "good"}}));
  EXPECT_EQ(plan.install, std::vector<std::string>{"a"});
  EXPECT_TRUE(plan.next.packages.at("a").error_message.empty());
}

TEST(OfferPlan, AFailureOfTheAgentIsTriedAgainWithTheSameHash) {
  PackagesState current;
  current.server_provided_all_packages_hash = "all1";
  current.packages["a"].status = Status::kInstallFailed;
  current.packages["a"].server_offered_hash = "h";
  current.packages["a"].retry = true;
  const Plan plan = plan_offer(current, offer("all2", {{"a", "h"}}));
  EXPECT_EQ(plan.install, std::vector<std::string>{"a"});
  EXPECT_FALSE(plan.next.packages.at("a").retry);
}

TEST(OfferPlan, OfferingBackWhatTheAgentHasStopsOtherWork) {
  PackagesState current;
  current.server_provided_all_packages_hash = "all2";
  current.packages["a"] = installed("h1");
  current.packages["a"].status = Status::kDownloading;  // of h2
  current.packages["a"].server_offered_hash = "h2";
  const Plan plan = plan_offer(current, offer("all1", {{"a", "h1"}}));
  EXPECT_TRUE(plan.install.empty());
  EXPECT_EQ(plan.next.packages.at("a").status, Status::kInstalled);
  EXPECT_EQ(plan.next.packages.at("a").server_offered_hash, "h1");
}

}  // namespace
}  // namespace opsup::packages
