// agent.log and the supervisor's own log files: appended across runs, private, rotated by size with
// a bounded number of files.
#include "common/rotating_log_file.hpp"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

namespace opsup::common {
namespace {

using opsup::testing::read_file;
using opsup::testing::TempDir;

TEST(RotatingLogFile, AppendsAcrossRunsWithPrivateMode) {
  TempDir dir;
  const auto path = dir.path() / "agent.log";
  {
    RotatingLogFile log(path, 0, 0);
    log.write_line("first run");
  }
  {
    RotatingLogFile log(path, 0, 0);
    log.write_line("second run");
  }
  EXPECT_EQ(read_file(path), "first run\nsecond run\n");
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
}

TEST(RotatingLogFile, RotatesBySizeAndKeepsTheNewestFiles) {
  TempDir dir;
  const auto path = dir.path() / "agent.log";
  RotatingLogFile log(path, 100, 2);
  for (int i = 0; i < 30; ++i)
    log.write_line("line " + std::to_string(100 + i) + " .........");  // 19 bytes + newline
  EXPECT_LE(read_file(path).size(), 100u);
  EXPECT_LE(read_file(dir.path() / "agent.log.1").size(), 100u);
  EXPECT_FALSE(read_file(dir.path() / "agent.log.2").empty());
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "agent.log.3"));
  // The newest line is in agent.log, the ones before it in .1, then .2.
  EXPECT_NE(read_file(path).find("line 129"), std::string::npos);
  EXPECT_NE(read_file(dir.path() / "agent.log.1").find("line 124"), std::string::npos);
  EXPECT_NE(read_file(dir.path() / "agent.log.2").find("line 119"), std::string::npos);
  EXPECT_EQ(log.write_errors(), 0u);
}

TEST(RotatingLogFile, AnUnwritablePathIsNamed) {
  TempDir dir;
  const auto path = dir.path() / "missing-dir" / "agent.log";
  try {
    RotatingLogFile log(path, 0, 0);
    FAIL() << "opened " << path;
  } catch (const std::runtime_error &error) {
    EXPECT_EQ(std::string(error.what()),
              "cannot open " + path.string() + ": No such file or directory");
  }
}

}  // namespace
}  // namespace opsup::common
