// The packages module end to end: tools/opamp-server offers packages from its package store,
// the supervisor (capabilities.accepts_packages: true, the real Collector) answers with
// package_statuses, and the tests assert on what the server saw. Upstream's
// SupervisorPackageCapabilitiesReturnError is the opposite here: the capability works.
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <csignal>

#include "supervisor_fixture.hpp"
#include "support/collector.hpp"
#include "support/http.hpp"

namespace opsup::testing {
namespace {

using namespace std::chrono_literals;
constexpr auto kDeadline = 60s;

class PackagesE2e : public ::testing::Test {
 protected:
  TempDir dir_;
  TempDir modules_;
  std::unique_ptr<OpampServerProcess> server_ = std::make_unique<OpampServerProcess>();
  std::unique_ptr<ChildProcess> supervisor_;
  std::string uid_;

  void SetUp() override {
    std::filesystem::copy_file(OPSUP_PACKAGES_MODULE, modules_.path() / "packages.so");
  }

  void start() {
    supervisor_ = start_supervisor({.endpoint = server_->websocket_url(),
                                    .storage = dir_.path() / "storage",
                                    .modules_dir = modules_.path(),
                                    .extra_yaml = "capabilities:\n  accepts_packages: true\n",
                                    .collector = collector_executable(CollectorKind::kReal)},
                                   dir_.path());
    uid_ = wait_for_connected_agent(*server_, kDeadline);
    ASSERT_FALSE(uid_.empty()) << supervisor_->output();
  }

  void stop_supervisor() {
    supervisor_->send_signal(SIGTERM);
    EXPECT_EQ(supervisor_->wait_exit(kDeadline), 0) << supervisor_->output();
  }

  // Offers `body`'s packages to the agent; returns the offer's all_packages_hash (hex).
  std::string offer(const std::string &body) {
    const auto answer = server_->post_json("/api/agents/" + uid_ + "/packages", body);
    EXPECT_EQ(answer.status, 200) << boost::json::serialize(answer.body);
    return string_at(answer.body, {"all_packages_hash"});
  }

  // Waits until the server has package_statuses for `all_hash` where `ready` holds.
  boost::json::value wait_statuses(const std::string &all_hash,
                                   const std::function<bool(const boost::json::value &)> &ready) {
    boost::json::value statuses;
    const bool seen = eventually(
        [&] {
          statuses = at(server_->agent(uid_), {"package_statuses"});
          return statuses.is_object() &&
                 string_at(statuses, {"server_provided_all_packages_hash"}) == all_hash &&
                 ready(statuses);
        },
        kDeadline);
    EXPECT_TRUE(seen) << "the server has " << boost::json::serialize(statuses) << "\n"
                      << supervisor_->output();
    return statuses;
  }
};

constexpr const char *kOneAddon =
    R"({"packages": {"addon": {"type": "Addon", "version": "1.0.0", "content": "hello\n"}}})";

TEST_F(PackagesE2e, SupervisorPackageCapabilitiesWork) {
  start();
  const auto capabilities = at(server_->agent(uid_), {"capabilities", "names"});
  const std::string names = boost::json::serialize(capabilities);
  EXPECT_NE(names.find("\"AcceptsPackages\""), std::string::npos) << names;
  EXPECT_NE(names.find("\"ReportsPackageStatuses\""), std::string::npos) << names;

  const std::string all_hash = offer(kOneAddon);
  ASSERT_FALSE(all_hash.empty());
  const auto statuses = wait_statuses(all_hash, [](const boost::json::value &statuses) {
    return at(statuses, {"packages", "addon", "status"}).is_string();
  });
  EXPECT_EQ(string_at(statuses, {"packages", "addon", "name"}), "addon");
  EXPECT_EQ(string_at(statuses, {"packages", "addon", "server_offered_version"}), "1.0.0");
  EXPECT_FALSE(string_at(statuses, {"packages", "addon", "server_offered_hash"}).empty());
  // Until the host has a download service, the module says why it cannot install.
  EXPECT_EQ(string_at(statuses, {"packages", "addon", "status"}), "InstallFailed");
  EXPECT_NE(string_at(statuses, {"packages", "addon", "error_message"}).find("download"),
            std::string::npos);
  stop_supervisor();
}

TEST_F(PackagesE2e, StatusesSurviveASupervisorRestart) {
  start();
  const std::string all_hash = offer(kOneAddon);
  wait_statuses(all_hash, [](const boost::json::value &statuses) {
    return at(statuses, {"packages", "addon", "status"}).is_string();
  });
  stop_supervisor();
  // The server forgets the agent and its offer: what it learns next comes from the
  // supervisor's persisted state alone.
  const auto deleted = http_send("DELETE", server_->ui_url() + "/api/agents/" + uid_, "", "");
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  start();
  const auto statuses = wait_statuses(all_hash, [](const boost::json::value &statuses) {
    return at(statuses, {"packages", "addon", "status"}).is_string();
  });
  EXPECT_EQ(string_at(statuses, {"packages", "addon", "server_offered_version"}), "1.0.0");
  stop_supervisor();
}

TEST_F(PackagesE2e, AWithdrawnPackageIsRemoved) {
  start();
  const std::string first = offer(
      R"({"packages": {"addon": {"type": "Addon", "version": "1.0.0", "content": "a\n"},
                       "other": {"type": "Addon", "version": "2.0.0", "content": "b\n"}}})");
  wait_statuses(first, [](const boost::json::value &statuses) {
    return at(statuses, {"packages", "other", "status"}).is_string();
  });
  const std::string second = offer(R"({"merge": true, "remove": ["other"]})");
  ASSERT_NE(second, first);
  const auto statuses = wait_statuses(second, [](const boost::json::value &statuses) {
    return at(statuses, {"packages", "other"}).is_null();
  });
  EXPECT_TRUE(at(statuses, {"packages", "addon"}).is_object());
  stop_supervisor();
}

}  // namespace
}  // namespace opsup::testing
