// The Collector binary update end to end (issue 12, item 4): tools/opamp-server offers a
// top-level package from its package store, signed with its own key; the supervisor (packages
// and health modules, the real Collector from tools/otelcol copied into a temporary directory
// as agent.executable) downloads it, swaps the executable, requires the Collector healthy on
// it, and reports the outcome. The "newer release" is <build>/bin/otelcol-opsup-next, the same
// Collector reporting version 0.149.1-opsup.next (tools/otelcol/build.sh).
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <csignal>

#include "common/sha256.hpp"
#include "supervisor_fixture.hpp"
#include "support/collector.hpp"
#include "support/http.hpp"
#include "unit/packages/test_archive.hpp"

namespace opsup::testing {
namespace {

using namespace std::chrono_literals;
constexpr auto kDeadline = 90s;
constexpr const char *kOldVersion = "0.149.0";
constexpr const char *kNextVersion = "0.149.1-opsup.next";

class CollectorUpdateE2e : public ::testing::Test {
 protected:
  TempDir dir_;
  TempDir modules_;
  std::unique_ptr<OpampServerProcess> server_ = std::make_unique<OpampServerProcess>();
  std::unique_ptr<ChildProcess> supervisor_;
  std::string uid_;
  std::filesystem::path executable_ = dir_.path() / "bin" / "otelcol-opsup";
  std::string old_sha256_;

  void SetUp() override {
    std::filesystem::copy_file(OPSUP_PACKAGES_MODULE, modules_.path() / "packages.so");
    std::filesystem::copy_file(OPSUP_HEALTH_MODULE, modules_.path() / "health.so");
    // The update replaces agent.executable: a copy, never the build's own Collector.
    std::filesystem::create_directories(executable_.parent_path());
    std::filesystem::copy_file(collector_executable(CollectorKind::kReal), executable_);
    old_sha256_ = common::sha256_file(executable_);
  }

  void start(const std::string &health_timeout = "60s") {
    const auto key = http_get(server_->ui_url() + "/api/package-signing-key");
    ASSERT_EQ(key.status, 200) << key.error;
    const auto key_file = dir_.write_file("opamp-server.pub", key.body);
    supervisor_ = start_supervisor(
        {.endpoint = server_->websocket_url(),
         .storage = dir_.path() / "storage",
         .modules_dir = modules_.path(),
         .extra_yaml = "capabilities:\n  accepts_packages: true\n  reports_health: true\n"
                       "plugins:\n  packages:\n    collector_health_timeout: " +
                       health_timeout + "\n    signature:\n      public_keys: [" +
                       key_file.string() + "]\n",
         .collector = executable_},
        dir_.path());
    uid_ = wait_for_connected_agent(*server_, kDeadline);
    ASSERT_FALSE(uid_.empty()) << supervisor_->output();
  }

  void stop_supervisor() {
    supervisor_->send_signal(SIGTERM);
    EXPECT_EQ(supervisor_->wait_exit(kDeadline), 0) << supervisor_->output();
  }

  // Waits until the server sees the Collector healthy and reporting `version`.
  void wait_running(const std::string &version) {
    boost::json::value agent;
    const bool seen = eventually(
        [&] {
          agent = server_->agent(uid_);
          return string_at(agent, {"description", "identifying_attributes", "service.version"}) ==
                     version &&
                 at(agent, {"health", "healthy"}) == boost::json::value(true);
        },
        kDeadline);
    EXPECT_TRUE(seen) << "waiting for a healthy Collector " << version << "; the server has "
                      << boost::json::serialize(agent) << "\n"
                      << supervisor_->output();
  }

  // A gzipped tarball holding `entries`, offered as the top-level package "collector" (the
  // server signs it); returns the offer's all_packages_hash.
  std::string offer_tarball(const std::vector<TarEntry> &entries,
                            const std::string &version = kNextVersion) {
    const auto tarball = dir_.path() / "collector.tar.gz";
    write_tar_gz(tarball, entries);
    const auto answer =
        server_->post_json("/api/agents/" + uid_ + "/packages",
                           R"({"packages": {"collector": {"type": "TopLevel", "version": ")" +
                               version + R"(", "file_path": ")" + tarball.string() + R"("}}})");
    EXPECT_EQ(answer.status, 200) << boost::json::serialize(answer.body);
    return string_at(answer.body, {"all_packages_hash"});
  }

  boost::json::value wait_status(const std::string &all_hash, const std::string &status) {
    return wait_statuses_for(all_hash, "collector", status);
  }

  boost::json::value wait_statuses_for(const std::string &all_hash, const std::string &name,
                                       const std::string &status) {
    boost::json::value statuses;
    const bool seen = eventually(
        [&] {
          statuses = at(server_->agent(uid_), {"package_statuses"});
          return statuses.is_object() &&
                 string_at(statuses, {"server_provided_all_packages_hash"}) == all_hash &&
                 string_at(statuses, {"packages", name.c_str(), "status"}) == status;
        },
        kDeadline);
    EXPECT_TRUE(seen) << "waiting for " << name << " " << status << "; the server has "
                      << boost::json::serialize(statuses) << "\n"
                      << supervisor_->output();
    return statuses;
  }

  std::string error_of(const boost::json::value &statuses) {
    return string_at(statuses, {"packages", "collector", "error_message"});
  }

  bool leftovers() const {
    return std::filesystem::exists(dir_.path() / "bin" / "otelcol-opsup.opsup-backup") ||
           std::filesystem::exists(dir_.path() / "bin" / ".otelcol-opsup.opsup-new") ||
           std::filesystem::exists(dir_.path() / "storage" / "collector_update.journal");
  }

  // How often the server's package store served package `name`.
  std::int64_t download_count(const std::string &name = "collector") {
    const auto list = at(server_->get_json("/api/packages"), {"packages"});
    if (list.is_array()) {
      for (const auto &package : list.as_array()) {
        if (string_at(package, {"name"}) == name)
          return package.at("download_count").to_number<std::int64_t>();
      }
    }
    return -1;
  }
};

std::string next_collector() {
  return read_file(collector_executable(CollectorKind::kRealNext));
}

TEST_F(CollectorUpdateE2e, ANewerRealCollectorIsInstalledAndReportsItsVersion) {
  start();
  wait_running(kOldVersion);
  const std::string next = next_collector();
  const std::string all_hash =
      offer_tarball({file("otelcol-opsup", next), data_file("LICENSE", "Apache-2.0\n")});
  const auto statuses = wait_status(all_hash, "Installed");
  EXPECT_EQ(string_at(statuses, {"packages", "collector", "agent_has_version"}), kNextVersion);
  EXPECT_EQ(string_at(statuses, {"packages", "collector", "agent_has_hash"}),
            string_at(statuses, {"packages", "collector", "server_offered_hash"}));
  // The new Collector runs, healthy, and its AgentDescription reached the server.
  wait_running(kNextVersion);
  EXPECT_EQ(common::sha256_file(executable_), common::sha256(next));
  EXPECT_EQ(std::filesystem::status(executable_).permissions() & std::filesystem::perms::all,
            std::filesystem::perms(0755));
  EXPECT_FALSE(leftovers());
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "storage" / "packages" / ".collector" /
                                       "collector-package"));
  // The executable's identity changed: the bootstrap cache was written for it (or removed).
  EXPECT_TRUE(
      supervisor_->wait_for_line("Bootstrap cache for the new Collector executable: "
                                 "(refreshed|removed)",
                                 kDeadline))
      << supervisor_->output();
  // A restart runs the new executable and reports the same truth.
  stop_supervisor();
  start();
  wait_running(kNextVersion);
  wait_status(all_hash, "Installed");
  stop_supervisor();
}

TEST_F(CollectorUpdateE2e, ATarballWithAParentDirectoryEntryIsRefusedAndNothingChanges) {
  start();
  wait_running(kOldVersion);
  const std::string all_hash =
      offer_tarball({file("otelcol-opsup", next_collector()), file("../evil", "x")});
  const auto statuses = wait_status(all_hash, "InstallFailed");
  EXPECT_NE(error_of(statuses).find("\"../evil\" of"), std::string::npos) << error_of(statuses);
  EXPECT_NE(error_of(statuses).find("is refused: \"..\" component"), std::string::npos)
      << error_of(statuses);
  EXPECT_TRUE(string_at(statuses, {"packages", "collector", "agent_has_hash"}).empty());
  EXPECT_EQ(common::sha256_file(executable_), old_sha256_);
  EXPECT_FALSE(leftovers());
  wait_running(kOldVersion);
  stop_supervisor();
}

// A "Collector" that exits at once never becomes healthy: the old one is put back and runs
// again, the status says why, and the same offer sent again is not retried.
TEST_F(CollectorUpdateE2e, ABinaryThatNeverBecomesHealthyIsRolledBackAndNotRetried) {
  start();
  wait_running(kOldVersion);
  const std::string all_hash =
      offer_tarball({file("otelcol-opsup", "#!/bin/sh\necho broken release >&2\nexit 3\n")});
  const auto statuses = wait_status(all_hash, "InstallFailed");
  EXPECT_NE(error_of(statuses).find("the new Collector exited"), std::string::npos)
      << error_of(statuses);
  EXPECT_NE(error_of(statuses).find("previous executable was restored"), std::string::npos)
      << error_of(statuses);
  EXPECT_EQ(common::sha256_file(executable_), old_sha256_);
  EXPECT_FALSE(leftovers());
  wait_running(kOldVersion);
  ASSERT_EQ(download_count(), 1);
  const std::size_t installing = supervisor_->count_lines("installing collector");
  // The server offers the same Collector package again, now beside an addon: the addon is
  // installed, and the Collector package, which failed with this very hash, is not tried.
  const std::string again =
      server_
          ->post_json(
              "/api/agents/" + uid_ + "/packages",
              R"({"merge": true, "packages": {"addon": {"type": "Addon", "version": "1", "content": "a"}}})")
          .body.at("all_packages_hash")
          .as_string()
          .c_str();
  ASSERT_NE(again, all_hash);
  const auto after = wait_statuses_for(again, "addon", "Installed");
  EXPECT_EQ(string_at(after, {"packages", "collector", "status"}), "InstallFailed");
  EXPECT_EQ(error_of(after), error_of(statuses));
  EXPECT_EQ(download_count(), 1);
  EXPECT_EQ(supervisor_->count_lines("installing collector"), installing);
  EXPECT_EQ(common::sha256_file(executable_), old_sha256_);
  stop_supervisor();
}

// The supervisor is killed while the new executable sits in a long health gate; the next
// start puts the old executable back, runs it, and reports the interrupted update.
TEST_F(CollectorUpdateE2e, ASupervisorKilledDuringTheSwapComesBackWithAWorkingCollector) {
  start("10m");
  wait_running(kOldVersion);
  const std::string hanging = "#!/bin/sh\nexec sleep 600\n";
  const std::string all_hash = offer_tarball({file("otelcol-opsup", hanging)});
  wait_status(all_hash, "Installing");
  ASSERT_TRUE(eventually([&] { return read_file(executable_) == hanging; }, kDeadline))
      << supervisor_->output();
  ASSERT_TRUE(supervisor_->wait_for_line("waiting up to 600000 ms", kDeadline).has_value())
      << supervisor_->output();
  supervisor_->send_signal(SIGKILL);
  ASSERT_TRUE(supervisor_->wait_exit(kDeadline).has_value());
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "storage" / "collector_update.journal"));

  start("10m");
  const auto statuses = wait_status(all_hash, "InstallFailed");
  EXPECT_NE(error_of(statuses).find("interrupted"), std::string::npos) << error_of(statuses);
  EXPECT_NE(error_of(statuses).find("previous executable was restored"), std::string::npos)
      << error_of(statuses);
  EXPECT_EQ(common::sha256_file(executable_), old_sha256_);
  EXPECT_FALSE(leftovers());
  wait_running(kOldVersion);
  stop_supervisor();
}

}  // namespace
}  // namespace opsup::testing
