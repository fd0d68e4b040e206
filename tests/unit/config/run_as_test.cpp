// agent.run_as: user and group names or numeric ids, resolved when the file is loaded; an
// unknown one is an error naming the file, the line and the key.
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>

#include <algorithm>
#include <string>

#include "test_support.hpp"

namespace opsup::config {
namespace {

using testing::describe;
using testing::expect_loads;
using testing::find_by_key;
using testing::kBase;
using testing::load_text;

// kBase is lines 1-4: `run_as:` is line 5, its first key line 6, the second line 7.
std::string with_run_as(const std::string &keys) {
  return std::string(kBase) + "  run_as:\n" + keys;
}

// An id that is neither a uid nor a gid on this machine.
uint32_t unused_id() {
  uint32_t id = 54321;
  while (::getpwuid(id) != nullptr || ::getgrgid(id) != nullptr)
    ++id;
  return id;
}

// The error for `key`, which must name supervisor.yaml and `line`.
void expect_error(const LoadResult &result, const std::string &key, int line,
                  const std::string &excerpt) {
  ASSERT_FALSE(result.ok()) << "expected an error for " << key;
  const Diagnostic *error = find_by_key(result.errors, key);
  ASSERT_NE(error, nullptr) << "no error for " << key << "; got:\n" << describe(result.errors);
  EXPECT_EQ(error->file, "supervisor.yaml");
  EXPECT_EQ(error->line, line) << error->to_string();
  EXPECT_NE(error->message.find(excerpt), std::string::npos) << error->to_string();
  EXPECT_EQ(
      error->to_string().rfind("supervisor.yaml:" + std::to_string(line) + ": " + key + ": ", 0),
      0u)
      << error->to_string();
}

TEST(RunAs, AbsentMeansTheSupervisorsOwnUser) {
  const SupervisorConfig config = expect_loads(load_text(kBase));
  EXPECT_FALSE(config.agent.run_as.has_value());
}

TEST(RunAs, UserAndGroupNamesAreResolved) {
  const passwd *nobody = ::getpwnam("nobody");
  const group *nogroup = ::getgrnam("nogroup");
  ASSERT_NE(nobody, nullptr);
  ASSERT_NE(nogroup, nullptr);
  const uid_t uid = nobody->pw_uid;
  const gid_t gid = nogroup->gr_gid;
  const SupervisorConfig config =
      expect_loads(load_text(with_run_as("    user: nobody\n    group: nogroup\n")));
  ASSERT_TRUE(config.agent.run_as.has_value());
  const RunAsConfig &run_as = *config.agent.run_as;
  EXPECT_EQ(run_as.user, "nobody");
  EXPECT_EQ(run_as.group, "nogroup");
  EXPECT_EQ(run_as.uid, uid);
  EXPECT_EQ(run_as.gid, gid);
  EXPECT_EQ(run_as.user_name, "nobody");
  EXPECT_EQ(run_as.group_name, "nogroup");
  EXPECT_NE(std::find(run_as.groups.begin(), run_as.groups.end(), gid), run_as.groups.end());
  EXPECT_EQ(run_as.describe(), "user nobody (uid " + std::to_string(uid) +
                                   "), group nogroup (gid " + std::to_string(gid) + ")");
}

TEST(RunAs, WithoutAGroupTheUsersPrimaryGroupAndItsSupplementaryGroups) {
  const passwd *daemon = ::getpwnam("daemon");
  ASSERT_NE(daemon, nullptr);
  const uid_t uid = daemon->pw_uid;
  const gid_t primary = daemon->pw_gid;
  std::vector<gid_t> expected(64);
  int count = static_cast<int>(expected.size());
  ASSERT_GE(::getgrouplist("daemon", primary, expected.data(), &count), 0);
  expected.resize(static_cast<std::size_t>(count));

  const SupervisorConfig config = expect_loads(load_text(with_run_as("    user: daemon\n")));
  ASSERT_TRUE(config.agent.run_as.has_value());
  EXPECT_EQ(config.agent.run_as->uid, uid);
  EXPECT_EQ(config.agent.run_as->gid, primary);
  EXPECT_EQ(config.agent.run_as->group, "");
  for (gid_t gid : expected) {
    EXPECT_NE(
        std::find(config.agent.run_as->groups.begin(), config.agent.run_as->groups.end(), gid),
        config.agent.run_as->groups.end())
        << gid;
  }
  EXPECT_EQ(config.agent.run_as->groups.size(), expected.size());
}

TEST(RunAs, NumericIdsOfKnownEntriesFindTheirNames) {
  const passwd *nobody = ::getpwnam("nobody");
  ASSERT_NE(nobody, nullptr);
  const std::string uid = std::to_string(nobody->pw_uid);
  const std::string gid = std::to_string(nobody->pw_gid);
  const SupervisorConfig config =
      expect_loads(load_text(with_run_as("    user: " + uid + "\n    group: \"" + gid + "\"\n")));
  ASSERT_TRUE(config.agent.run_as.has_value());
  EXPECT_EQ(config.agent.run_as->uid, nobody->pw_uid);
  EXPECT_EQ(config.agent.run_as->gid, nobody->pw_gid);
  EXPECT_EQ(config.agent.run_as->user_name, "nobody");
  EXPECT_EQ(config.agent.run_as->user, uid);  // as written
}

TEST(RunAs, NumericIdsWithoutEntriesAreTakenAsIsWhenTheGroupIsGiven) {
  const uint32_t id = unused_id();
  const std::string text = std::to_string(id);
  const SupervisorConfig config =
      expect_loads(load_text(with_run_as("    user: " + text + "\n    group: " + text + "\n")));
  ASSERT_TRUE(config.agent.run_as.has_value());
  EXPECT_EQ(config.agent.run_as->uid, id);
  EXPECT_EQ(config.agent.run_as->gid, id);
  EXPECT_EQ(config.agent.run_as->groups, std::vector<uint32_t>{id});
  EXPECT_EQ(config.agent.run_as->user_name, "");
  EXPECT_EQ(config.agent.run_as->describe(), "uid " + text + ", gid " + text);
}

TEST(RunAs, ANumericUidWithoutAnEntryNeedsTheGroup) {
  const std::string text = std::to_string(unused_id());
  expect_error(load_text(with_run_as("    user: " + text + "\n")), "agent.run_as.user", 6,
               "set agent.run_as.group too");
}

TEST(RunAs, AnUnknownUserNameIsAnErrorWithItsLine) {
  expect_error(load_text(with_run_as("    user: opsup-no-such-user\n    group: nogroup\n")),
               "agent.run_as.user", 6, "no such user \"opsup-no-such-user\"");
}

TEST(RunAs, AnUnknownGroupNameIsAnErrorWithItsLine) {
  expect_error(load_text(with_run_as("    user: nobody\n    group: opsup-no-such-group\n")),
               "agent.run_as.group", 7, "no such group \"opsup-no-such-group\"");
}

TEST(RunAs, TheUserIsRequired) {
  expect_error(load_text(with_run_as("    group: nogroup\n")), "agent.run_as.user", 5,
               "must be specified");
  expect_error(load_text(with_run_as("    user: \"\"\n")), "agent.run_as.user", 6,
               "must be specified");
}

TEST(RunAs, RootIsRefused) {
  expect_error(load_text(with_run_as("    user: root\n")), "agent.run_as.user", 6,
               "is root (uid 0)");
  expect_error(load_text(with_run_as("    user: \"0\"\n")), "agent.run_as.user", 6,
               "is root (uid 0)");
  expect_error(load_text(with_run_as("    user: nobody\n    group: root\n")), "agent.run_as.group",
               7, "the group is root (gid 0)");
}

TEST(RunAs, AnUnknownKeyIsAnError) {
  expect_error(load_text(with_run_as("    user: nobody\n    uid: 5\n")), "agent.run_as.uid", 7,
               "unknown key");
}

TEST(RunAs, MustBeAMapping) {
  const LoadResult result = load_text(std::string(kBase) + "  run_as: nobody\n");
  expect_error(result, "agent.run_as", 5, "must be a mapping");
}

}  // namespace
}  // namespace opsup::config
