#include "storage/atomic_writer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "test_files.hpp"

namespace opsup::storage {
namespace {

using opsup::testing::file_mode;
using opsup::testing::read_text;
using opsup::testing::TempDir;

constexpr auto kExecutable = std::filesystem::perms(0755);

std::vector<std::string> entries(const std::filesystem::path &directory) {
  std::vector<std::string> names;
  for (const auto &entry : std::filesystem::directory_iterator(directory)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST(AtomicFileWriter, CommitReplacesTheTargetWithAllChunksAndTheMode) {
  TempDir dir;
  const auto target = dir.path() / "otelcol";
  opsup::testing::write_text(target, "old");
  {
    AtomicFileWriter writer(target, kExecutable);
    writer.write("first ");
    EXPECT_EQ(read_text(target), "old");  // nothing visible before commit
    writer.write(std::string("second\0", 7));
    writer.commit();
  }
  EXPECT_EQ(read_text(target), std::string("first second\0", 13));
  EXPECT_EQ(file_mode(target), 0755u);
  EXPECT_EQ(entries(dir.path()), std::vector<std::string>{"otelcol"});
}

TEST(AtomicFileWriter, DestroyedWithoutCommitLeavesTheTargetAndNoTemporaryFile) {
  TempDir dir;
  const auto target = dir.path() / "otelcol";
  opsup::testing::write_text(target, "old");
  {
    AtomicFileWriter writer(target, kExecutable);
    writer.write("partial");
    EXPECT_EQ(entries(dir.path()).size(), 2u);
  }
  EXPECT_EQ(read_text(target), "old");
  EXPECT_EQ(entries(dir.path()), std::vector<std::string>{"otelcol"});
}

TEST(AtomicFileWriter, NamesTheTargetWhenTheDirectoryIsMissing) {
  TempDir dir;
  const auto target = dir.path() / "missing" / "otelcol";
  try {
    AtomicFileWriter writer(target, kExecutable);
    FAIL() << "expected an exception";
  } catch (const std::runtime_error &error) {
    EXPECT_NE(std::string(error.what()).find(target.string()), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace opsup::storage
