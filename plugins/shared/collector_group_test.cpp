// agent.run_as read the way the core reads it, and a certificate file shared with the
// Collector's group (group read, mode 0640, still the supervisor's).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "shared/collector_group.hpp"

namespace opsup::plugins {
namespace {

TEST(CollectorGroupTest, WithoutRunAsThereIsNoGroup) {
  EXPECT_FALSE(collector_group("agent:\n  executable: /bin/true\n"));
  EXPECT_FALSE(collector_group("{}\n"));
}

TEST(CollectorGroupTest, TheGroupIsNamedOrNumericOrTheUsersPrimaryOne) {
  // nobody exists on every Debian system; its primary group is nogroup (65534).
  EXPECT_EQ(collector_group("agent:\n  run_as:\n    user: nobody\n"), gid_t{65534});
  EXPECT_EQ(collector_group("agent:\n  run_as:\n    user: nobody\n    group: root\n"), gid_t{0});
  EXPECT_EQ(collector_group("agent:\n  run_as:\n    user: nobody\n    group: \"4242\"\n"),
            gid_t{4242});
  EXPECT_THROW(collector_group("agent:\n  run_as:\n    user: nobody\n    group: no-such-grp\n"),
               std::invalid_argument);
}

TEST(CollectorGroupTest, ASharedFileGetsTheGroupAndMode0640) {
  char pattern[] = "/tmp/opsup-collector-group-XXXXXX";
  const int fd = ::mkstemp(pattern);
  ASSERT_GE(fd, 0);
  ::close(fd);
  ::chmod(pattern, 0600);
  const gid_t gid = ::getegid();  // a group this process may always give
  EXPECT_EQ(share_with_collector(pattern, gid), "");
  struct stat info {};
  ASSERT_EQ(::stat(pattern, &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0640u);
  EXPECT_EQ(info.st_gid, gid);
  EXPECT_EQ(info.st_uid, ::geteuid()) << "the file stays the supervisor's";
  std::filesystem::remove(pattern);
  EXPECT_NE(share_with_collector(pattern, gid), "");
}

}  // namespace
}  // namespace opsup::plugins
