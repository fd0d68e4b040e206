#include <gtest/gtest.h>

#include <filesystem>

#include "paths.hpp"
#include "temp_dir.hpp"

namespace opsup::config_policy {
namespace {
namespace fs = std::filesystem;
using testing::TempDir;

TEST(ConfigPolicyPaths, GlobFixedPrefix) {
  EXPECT_EQ(glob_fixed_prefix("/var/log/*.log"), "/var/log");
  EXPECT_EQ(glob_fixed_prefix("/var/log/*/x.log"), "/var/log");
  EXPECT_EQ(glob_fixed_prefix("/var/lo?/x"), "/var");
  EXPECT_EQ(glob_fixed_prefix("/*"), "/");
  EXPECT_EQ(glob_fixed_prefix("/etc/shadow"), "/etc/shadow");
  EXPECT_EQ(glob_fixed_prefix("*.log"), "");
}

TEST(ConfigPolicyPaths, WithinIsComponentWise) {
  EXPECT_TRUE(is_within("/var/log", "/var/log"));
  EXPECT_TRUE(is_within("/var/log/a", "/var/log"));
  EXPECT_FALSE(is_within("/var/logs", "/var/log"));
  EXPECT_TRUE(is_within("/etc", "/"));
}

TEST(ConfigPolicyPaths, DotDotEscapeIsCaught) {
  TempDir dir;
  fs::create_directories(dir.path() / "allowed");
  const AllowDeny rules{{dir.str("allowed")}, {}};
  EXPECT_EQ(check_path(dir.str("allowed/app.log"), rules, "read"), std::nullopt);
  const std::string escape = dir.str("allowed") + "/../secret.txt";
  const auto rule = check_path(escape, rules, "read");
  ASSERT_TRUE(rule.has_value());
  EXPECT_EQ(*rule, "access_dirs.read.allow (resolves to " + dir.str("secret.txt") + ")");
}

TEST(ConfigPolicyPaths, SymlinkEscapeIsCaught) {
  TempDir dir;
  fs::create_directories(dir.path() / "allowed");
  fs::create_directories(dir.path() / "outside");
  fs::create_directory_symlink(dir.path() / "outside", dir.path() / "allowed" / "link");
  const AllowDeny rules{{dir.str("allowed")}, {}};
  // Through an existing symlink, into a file that does not exist yet.
  const auto rule = check_path(dir.str("allowed/link/new.log"), rules, "write");
  ASSERT_TRUE(rule.has_value());
  EXPECT_EQ(*rule, "access_dirs.write.allow (resolves to " + dir.str("outside/new.log") + ")");
  // Lexically inside the allowed directory, so only symlink resolution catches it.
  EXPECT_EQ(fs::path(dir.str("allowed/link/new.log"))
                .lexically_normal()
                .string()
                .rfind(dir.str("allowed"), 0),
            0u);
}

TEST(ConfigPolicyPaths, DenyWinsOverAllowAndCatchesGlobsAbove) {
  TempDir dir;
  fs::create_directories(dir.path() / "logs" / "private");
  const AllowDeny rules{{dir.str("logs")}, {dir.str("logs/private")}};
  EXPECT_EQ(check_path(dir.str("logs/private/a.log"), rules, "read"),
            "access_dirs.read.deny: " + dir.str("logs/private"));
  // The glob's fixed prefix is above the denied directory: it could match inside it.
  EXPECT_EQ(check_path(dir.str("logs/*/a.log"), rules, "read"),
            "access_dirs.read.deny: " + dir.str("logs/private"));
  EXPECT_EQ(check_path(dir.str("logs/public/*.log"), rules, "read"), std::nullopt);
}

TEST(ConfigPolicyPaths, RelativePathIsRefusedOnlyWhenRulesExist) {
  EXPECT_EQ(check_path("logs/a.log", AllowDeny{}, "read"), std::nullopt);
  EXPECT_TRUE(check_path("logs/a.log", AllowDeny{{"/var/log"}, {}}, "read").has_value());
}

}  // namespace
}  // namespace opsup::config_policy
