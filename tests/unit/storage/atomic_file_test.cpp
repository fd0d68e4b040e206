#include "storage/atomic_file.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_files.hpp"

namespace opsup::storage {
namespace {

using opsup::testing::file_mode;
using opsup::testing::read_text;
using opsup::testing::TempDir;
using ::testing::HasSubstr;

std::vector<std::string> entries(const std::filesystem::path &directory) {
  std::vector<std::string> names;
  for (const auto &entry : std::filesystem::directory_iterator(directory)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST(AtomicFile, WritesContentWithPrivateModeAndLeavesNoTemporaryFile) {
  TempDir dir;
  const auto file = dir.path() / "state.yaml";
  write_file_atomically(file, "first\n");
  EXPECT_EQ(read_text(file), "first\n");
  EXPECT_EQ(file_mode(file), 0600u);

  write_file_atomically(file, std::string("second\0binary", 13));
  EXPECT_EQ(read_text(file), std::string("second\0binary", 13));
  EXPECT_EQ(entries(dir.path()), std::vector<std::string>{"state.yaml"});
}

TEST(AtomicFile, ReplacesAnExistingFileModeWithTheRequestedOne) {
  TempDir dir;
  const auto file = dir.path() / "effective.yaml";
  opsup::testing::write_text(file, "old");
  std::filesystem::permissions(file, std::filesystem::perms::all);
  write_file_atomically(file, "new",
                        std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                            std::filesystem::perms::group_read);
  EXPECT_EQ(read_text(file), "new");
  EXPECT_EQ(file_mode(file), 0640u);
}

TEST(AtomicFile, FailureNamesTheFile) {
  TempDir dir;
  const auto file = dir.path() / "missing-dir" / "state.yaml";
  try {
    write_file_atomically(file, "x");
    FAIL() << "expected an exception";
  } catch (const std::runtime_error &error) {
    EXPECT_THAT(error.what(), HasSubstr(file.string()));
  }
}

TEST(AtomicFile, ReadMissingFileGivesNullopt) {
  TempDir dir;
  EXPECT_EQ(read_file_if_exists(dir.path() / "absent"), std::nullopt);
  write_file_atomically(dir.path() / "present", "data");
  EXPECT_EQ(read_file_if_exists(dir.path() / "present"), "data");
}

TEST(AtomicFile, ReadingADirectoryFailsNamingIt) {
  TempDir dir;
  try {
    read_file_if_exists(dir.path());
    FAIL() << "expected an exception";
  } catch (const std::runtime_error &error) {
    EXPECT_THAT(error.what(), HasSubstr(dir.path().string()));
  }
}

TEST(AtomicFile, EnsurePrivateDirectoryCreatesMissingDirectoriesWith0700) {
  TempDir dir;
  const auto storage = dir.path() / "a" / "supervisor";
  ensure_private_directory(storage);
  EXPECT_TRUE(std::filesystem::is_directory(storage));
  EXPECT_EQ(file_mode(storage), 0700u);
  ensure_private_directory(storage);  // existing: no error
}

TEST(AtomicFile, EnsurePrivateDirectoryFailureNamesTheDirectory) {
  TempDir dir;
  const auto blocker = dir.path() / "file";
  opsup::testing::write_text(blocker, "x");
  try {
    ensure_private_directory(blocker / "sub");
    FAIL() << "expected an exception";
  } catch (const std::runtime_error &error) {
    EXPECT_THAT(error.what(), HasSubstr((blocker / "sub").string()));
  }
}

}  // namespace
}  // namespace opsup::storage
