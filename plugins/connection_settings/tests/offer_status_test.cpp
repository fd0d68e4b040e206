// How the opamp and other_connections parts of one offer combine into one status.
#include <gtest/gtest.h>

#include "offer_status.hpp"

namespace opsup::connection_settings {
namespace {

constexpr int kApplied = 1;
constexpr int kApplying = 2;
constexpr int kFailed = 3;

TEST(OfferStatusTest, AnOfferIsApplyingUntilEveryPartIsDoneThenApplied) {
  OfferStatus status;
  status.begin("h", {OfferPart::kOpamp, OfferPart::kOtherConnections});
  auto combined = status.record(OfferPart::kOpamp, "h", kApplied, "");
  ASSERT_TRUE(combined);
  EXPECT_EQ(combined->status, kApplying);
  EXPECT_EQ(combined->hash, "h");
  combined = status.record(OfferPart::kOtherConnections, "h", kApplied, "");
  ASSERT_TRUE(combined);
  EXPECT_EQ(combined->status, kApplied);
}

TEST(OfferStatusTest, AnyFailedPartFailsTheOfferWithEveryMessage) {
  OfferStatus status;
  status.begin("h", {OfferPart::kOpamp, OfferPart::kOtherConnections});
  auto combined = status.record(OfferPart::kOtherConnections, "h", kFailed,
                                "other_connections: no exporter named \"x\"");
  EXPECT_EQ(combined->status, kApplying) << "the trial still runs";
  EXPECT_EQ(combined->error_message, "");
  combined = status.record(OfferPart::kOpamp, "h", kFailed, "connection refused");
  EXPECT_EQ(combined->status, kFailed);
  EXPECT_EQ(combined->error_message,
            "connection refused; other_connections: no exporter named \"x\"");
}

TEST(OfferStatusTest, APartStillBeingAppliedCarriesOverIntoTheNextOffer) {
  OfferStatus status;
  status.begin("h1", {OfferPart::kOtherConnections});
  status.begin("h2", {OfferPart::kOpamp});
  auto combined = status.record(OfferPart::kOpamp, "h2", kApplied, "");
  EXPECT_EQ(combined->status, kApplying);
  EXPECT_EQ(combined->hash, "h2");
  combined = status.record(OfferPart::kOtherConnections, "h1", kApplied, "");
  ASSERT_TRUE(combined);
  EXPECT_EQ(combined->status, kApplied);
  EXPECT_EQ(combined->hash, "h2");
}

TEST(OfferStatusTest, AFailedPartDoesNotCarryOverAndAReplacedPartIsIgnored) {
  OfferStatus status;
  status.begin("h1", {OfferPart::kOpamp});
  status.record(OfferPart::kOpamp, "h1", kFailed, "refused");
  status.begin("h2", {OfferPart::kOtherConnections});
  auto combined = status.record(OfferPart::kOtherConnections, "h2", kApplied, "");
  EXPECT_EQ(combined->status, kApplied);
  status.begin("h3", {OfferPart::kOtherConnections});
  EXPECT_FALSE(status.record(OfferPart::kOtherConnections, "h2", kFailed, "late"));
}

TEST(OfferStatusTest, AnOutcomeBeforeAnyOfferStartsTrackingItsHash) {
  OfferStatus status;
  auto combined = status.record(OfferPart::kOpamp, "stored", kFailed, "stopped");
  ASSERT_TRUE(combined);
  EXPECT_EQ(combined->status, kFailed);
  EXPECT_EQ(combined->hash, "stored");
}

}  // namespace
}  // namespace opsup::connection_settings
