// The packages module's persisted statuses: YAML round trip and what is refused.
#include <gtest/gtest.h>

#include "package_state.hpp"

namespace opsup::packages {
namespace {

TEST(PackageState, RoundTripsEveryField) {
  PackagesState state;
  state.server_provided_all_packages_hash = std::string("\x01\xff\x00", 3);
  PackageState &addon = state.packages["addon one"];
  addon.agent_has_version = "1.0";
  addon.agent_has_hash = "h1";
  addon.server_offered_version = "2.0";
  addon.server_offered_hash = "h2";
  addon.status = Status::kInstallFailed;
  addon.error_message = "content hash: \"quoted\"\nsecond line";
  addon.retry = true;
  state.packages["otelcol"].status = Status::kInstalled;

  std::string error;
  const auto parsed = parse_state(state_yaml(state), error);
  ASSERT_TRUE(parsed) << error;
  EXPECT_EQ(*parsed, state);
}

TEST(PackageState, StatusNamesAreThoseOfTheProto) {
  EXPECT_EQ(status_name(Status::kInstalled), "Installed");
  EXPECT_EQ(static_cast<int>(Status::kDownloading), 4);
  EXPECT_EQ(parse_status("InstallPending"), Status::kInstallPending);
  EXPECT_FALSE(parse_status("Done"));
}

TEST(PackageState, RefusesWhatIsNotAState) {
  std::string error;
  EXPECT_FALSE(parse_state("- a\n", error));
  EXPECT_EQ(error, "not a map");
  EXPECT_FALSE(parse_state("packages: {a: {status: Done}}\n", error));
  EXPECT_EQ(error, "packages.a.status: unknown status 'Done'");
  EXPECT_FALSE(parse_state("server_provided_all_packages_hash: xyz\n", error));
  EXPECT_EQ(error, "server_provided_all_packages_hash: not hex");
  EXPECT_FALSE(parse_state("packages: [\n", error));
}

TEST(PackageState, HexRoundTrips) {
  EXPECT_EQ(to_hex(std::string("\x00\xab", 2)), "00ab");
  EXPECT_EQ(from_hex("00AB"), std::string("\x00\xab", 2));
  EXPECT_FALSE(from_hex("0"));
  EXPECT_FALSE(from_hex("zz"));
}

}  // namespace
}  // namespace opsup::packages
