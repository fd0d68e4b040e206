#include "modules/module_file_checks.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "module_test_support.hpp"

namespace opsup::modules {
namespace {

using opsup::test::TempDir;

std::filesystem::path make_file(const TempDir &dir, const std::string &name, mode_t mode) {
  const auto path = dir / name;
  std::ofstream(path) << "content";
  EXPECT_EQ(::chmod(path.c_str(), mode), 0);
  return path;
}

TEST(ModuleFileChecks, PrivateRegularFileInPrivateDirectoryIsAccepted) {
  TempDir dir;
  EXPECT_EQ(module_file_problem(make_file(dir, "m.so", 0755)), std::nullopt);
  EXPECT_EQ(module_file_problem(make_file(dir, "r.so", 0400)), std::nullopt);
  EXPECT_EQ(module_directory_problem(dir.path()), std::nullopt);
}

TEST(ModuleFileChecks, GroupOrOtherWritableFileIsRefused) {
  TempDir dir;
  EXPECT_EQ(module_file_problem(make_file(dir, "g.so", 0664)),
            "the file is writable by group or others (mode 0664)");
  EXPECT_EQ(module_file_problem(make_file(dir, "o.so", 0646)),
            "the file is writable by group or others (mode 0646)");
}

TEST(ModuleFileChecks, WritableDirectoryIsRefused) {
  TempDir dir;
  const auto file = make_file(dir, "m.so", 0755);
  ASSERT_EQ(::chmod(dir.path().c_str(), 0775), 0);
  const auto problem = module_file_problem(file);
  ASSERT_TRUE(problem);
  EXPECT_EQ(*problem,
            "its directory " + dir.path().string() + " is writable by group or others (mode 0775)");
  EXPECT_EQ(module_directory_problem(dir.path()), problem);
}

TEST(ModuleFileChecks, SymlinkIsRefusedEvenToAGoodFile) {
  TempDir dir;
  const auto target = make_file(dir, "real.so", 0755);
  std::filesystem::create_symlink(target, dir / "link.so");
  EXPECT_EQ(module_file_problem(dir / "link.so"),
            "is a symbolic link (modules must be regular files)");
}

TEST(ModuleFileChecks, DirectoryAndMissingFileAreRefused) {
  TempDir dir;
  std::filesystem::create_directory(dir / "sub.so");
  EXPECT_EQ(module_file_problem(dir / "sub.so"), "is not a regular file");
  const auto missing = module_file_problem(dir / "missing.so");
  ASSERT_TRUE(missing);
  EXPECT_NE(missing->find("cannot be inspected: No such file or directory"), std::string::npos);
}

TEST(ModuleFileChecks, FileOwnedBySomeoneElseIsRefused) {
  if (::geteuid() != 0)
    GTEST_SKIP() << "needs root to give a file away";
  TempDir dir;
  const auto file = make_file(dir, "m.so", 0755);
  ASSERT_EQ(::chown(file.c_str(), 65534, 65534), 0);
  EXPECT_EQ(module_file_problem(file),
            "the file is owned by uid 65534, not by root or the supervisor's user (uid 0)");
  ASSERT_EQ(::chown(file.c_str(), 0, 0), 0);
  ASSERT_EQ(::chown(dir.path().c_str(), 65534, 65534), 0);
  const auto problem = module_file_problem(file);
  ASSERT_TRUE(problem);
  EXPECT_NE(problem->find("its directory " + dir.path().string() + " is owned by uid 65534"),
            std::string::npos);
}

}  // namespace
}  // namespace opsup::modules
