#include "packages/entry_path.hpp"

#include <gtest/gtest.h>

#include "packages/package_format.hpp"
#include "support/temp_dir.hpp"

namespace opsup::packages {
namespace {

TEST(EntryPath, AcceptsRelativePathsInsideTheArchive) {
  for (const char *path : {"otelcol-contrib", "./otelcol-contrib", "bin/otelcol", "a/..b/c",
                           "..hidden", "./", "dir/"}) {
    EXPECT_EQ(unsafe_entry_path(path), std::nullopt) << path;
  }
}

TEST(EntryPath, RefusesEmptyAbsoluteAndParentPaths) {
  EXPECT_EQ(unsafe_entry_path(""), "empty path");
  EXPECT_EQ(unsafe_entry_path("/otelcol"), "absolute path");
  for (const char *path : {"..", "../x", "a/../b", "a/..", "./../x", "a//../b"}) {
    EXPECT_EQ(unsafe_entry_path(path), "\"..\" component") << path;
  }
}

TEST(EntryPath, StripsLeadingDotSlashOnly) {
  EXPECT_EQ(without_dot_prefix("./otelcol"), "otelcol");
  EXPECT_EQ(without_dot_prefix("././/otelcol"), "otelcol");
  EXPECT_EQ(without_dot_prefix("bin/./otelcol"), "bin/./otelcol");
  EXPECT_EQ(without_dot_prefix(".otelcol"), ".otelcol");
}

TEST(PackageFormat, TellsElfFromGzipFromAnythingElse) {
  opsup::testing::TempDir dir;
  EXPECT_EQ(detect_package_format("/bin/true"), PackageFormat::kElfExecutable);
  EXPECT_EQ(detect_package_format(dir.write_file("a.gz", "\x1f\x8b\x08\x00rest")),
            PackageFormat::kGzipTarball);
  EXPECT_EQ(detect_package_format(dir.write_file("short",
                                                 "\x7f"
                                                 "EL")),
            PackageFormat::kUnknown);
  EXPECT_EQ(detect_package_format(dir.write_file("empty", "")), PackageFormat::kUnknown);
  EXPECT_EQ(detect_package_format(dir.write_file("text", "ELF\x7f")), PackageFormat::kUnknown);
  EXPECT_THROW(detect_package_format(dir.path() / "missing"), std::runtime_error);
}

}  // namespace
}  // namespace opsup::packages
