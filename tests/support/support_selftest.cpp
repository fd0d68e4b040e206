// Checks the test helpers themselves with /bin/sh children.
#include <signal.h>

#include <gtest/gtest.h>

#include "support/test_support.hpp"

namespace opsup::testing {
namespace {

using namespace std::chrono_literals;

ProcessOptions shell(const std::string &script) {
  return {"/bin/sh", {"-c", script}, {}, {}};
}

TEST(ChildProcessTest, CapturesBothStreamsAndExitCode) {
  ChildProcess child(shell("echo out-line; echo err-line >&2; printf partial; exit 7"));
  EXPECT_EQ(child.wait_exit(20s), 7);
  ASSERT_TRUE(child.wait_output_closed(20s));
  EXPECT_TRUE(child.wait_for_line("^out-line$", 1s));
  EXPECT_TRUE(child.wait_for_line("^err-line$", 1s));
  EXPECT_TRUE(child.wait_for_line("^partial$", 1s));
  EXPECT_FALSE(child.running());
}

TEST(ChildProcessTest, ReportsSignalAsExitCodeAndPassesEnvironment) {
  TempDir dir;
  ChildProcess child({"/bin/sh",
                      {"-c", "echo \"value=$OPSUP_SELFTEST pwd=$(pwd)\"; exec sleep 60"},
                      {{"OPSUP_SELFTEST", "42"}},
                      dir.path()});
  auto line = child.wait_for_line("value=", 20s);
  ASSERT_TRUE(line);
  EXPECT_EQ(*line, "value=42 pwd=" + dir.path().string());
  EXPECT_TRUE(child.running());
  EXPECT_FALSE(child.wait_exit(100ms));
  child.send_signal(SIGTERM);
  EXPECT_EQ(child.wait_exit(20s), 128 + SIGTERM);
}

TEST(ChildProcessTest, WaitForLineTimesOutWithoutMatch) {
  ChildProcess child(shell("echo hello; exec sleep 60"));
  EXPECT_TRUE(child.wait_for_line("hello", 20s));
  EXPECT_FALSE(child.wait_for_line("never", 200ms));
  EXPECT_EQ(child.count_lines("hello"), 1u);
}

TEST(ChildProcessTest, DestructorKillsRunningChild) {
  pid_t pid = 0;
  {
    ChildProcess child(shell("exec sleep 60"));
    pid = child.pid();
    ASSERT_EQ(::kill(pid, 0), 0);
  }
  EXPECT_NE(::kill(pid, 0), 0);  // reaped: the pid no longer exists
}

TEST(ChildProcessTest, MissingExecutableThrows) {
  EXPECT_THROW(ChildProcess({"/nonexistent/binary", {}, {}, {}}), std::runtime_error);
}

TEST(TempDirTest, CreatesPrivateDirectoryAndRemovesIt) {
  std::filesystem::path path;
  {
    TempDir dir;
    path = dir.path();
    auto file = dir.write_file("a/b.txt", "content");
    EXPECT_EQ(read_file(file), "content");
    auto perms = std::filesystem::status(path).permissions();
    EXPECT_EQ(perms & std::filesystem::perms::all, std::filesystem::perms::owner_all);
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(PortsTest, FreePortIsUsable) {
  uint16_t port = free_tcp_port();
  EXPECT_GT(port, 0);
}

TEST(EventuallyTest, ReturnsTrueWhenConditionBecomesTrue) {
  int calls = 0;
  EXPECT_TRUE(eventually([&] { return ++calls >= 3; }, 20s, 1ms));
  EXPECT_FALSE(eventually([] { return false; }, 50ms, 10ms));
}

}  // namespace
}  // namespace opsup::testing
