#include "modules/module_storage.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "module_test_support.hpp"

namespace opsup::modules {
namespace {

using opsup::test::TempDir;

TEST(ModuleStorage, PlainNamesOnly) {
  EXPECT_EQ(storage_name_problem("last_recv_remote_config.dat", true), std::nullopt);
  EXPECT_EQ(storage_name_problem(".hidden", true), std::nullopt);
  EXPECT_EQ(storage_name_problem("", false), "the file name is empty");
  EXPECT_EQ(storage_name_problem("..", false), "\"..\" is not a file name");
  EXPECT_EQ(storage_name_problem("a/b", false), "\"a/b\" contains '/' (plain file names only)");
  EXPECT_EQ(storage_name_problem(std::string_view("a\0b", 3), false), "the file name contains NUL");
  EXPECT_EQ(storage_name_problem("persistent_state.yaml", false), std::nullopt);
  EXPECT_EQ(storage_name_problem("persistent_state.yaml", true),
            "persistent_state.yaml is owned by the supervisor core");
}

TEST(ModuleStorage, WriteReplacesAtomicallyWithMode0600AndReadsBack) {
  TempDir dir;
  std::string error;
  ASSERT_TRUE(write_storage_file_atomically(dir.path(), "state.dat", "first", error)) << error;
  ASSERT_TRUE(
      write_storage_file_atomically(dir.path(), "state.dat", std::string("2\0nd", 4), error))
      << error;
  std::string content;
  ASSERT_EQ(read_storage_file(dir.path(), "state.dat", content, error), StorageReadResult::kOk);
  EXPECT_EQ(content, std::string("2\0nd", 4));
  struct stat info {};
  ASSERT_EQ(::stat((dir / "state.dat").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  // No temporary file is left behind.
  size_t files = 0;
  for ([[maybe_unused]] const auto &entry : std::filesystem::directory_iterator(dir.path()))
    ++files;
  EXPECT_EQ(files, 1u);
}

TEST(ModuleStorage, MissingFileIsNotFound) {
  TempDir dir;
  std::string content, error;
  EXPECT_EQ(read_storage_file(dir.path(), "absent", content, error), StorageReadResult::kNotFound);
}

TEST(ModuleStorage, CreatesAMissingStorageDirectoryPrivately) {
  TempDir dir;
  const auto storage = dir / "storage";
  std::string error;
  ASSERT_TRUE(write_storage_file_atomically(storage, "x", "y", error)) << error;
  struct stat info {};
  ASSERT_EQ(::stat(storage.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700u);
}

TEST(ModuleStorage, FailedWriteNamesThePathAndKeepsTheOldFile) {
  TempDir dir;
  std::string error;
  ASSERT_TRUE(write_storage_file_atomically(dir.path(), "keep", "old", error));
  std::filesystem::create_directory(dir / "taken");
  std::ofstream(dir / "taken" / "child") << "x";
  // Renaming a file over a non-empty directory fails.
  EXPECT_FALSE(write_storage_file_atomically(dir.path(), "taken", "new", error));
  EXPECT_NE(error.find((dir / "taken").string()), std::string::npos) << error;
  std::string content;
  ASSERT_EQ(read_storage_file(dir.path(), "keep", content, error), StorageReadResult::kOk);
  EXPECT_EQ(content, "old");
}

}  // namespace
}  // namespace opsup::modules
