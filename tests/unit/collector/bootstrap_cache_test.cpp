// The bootstrap cache's key follows every input the bootstrap depends on, and the cache file
// survives a round trip and is refused, with the reason, when it cannot be used.
#include "collector/bootstrap_cache.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

namespace opsup::collector {
namespace {

using opsup::testing::read_file;
using opsup::testing::TempDir;

BootstrapInputs inputs_for(const std::filesystem::path &executable) {
  BootstrapInputs inputs;
  inputs.executable = executable;
  inputs.args = {"--set=x=1"};
  inputs.env = std::map<std::string, std::string>{{"A", "1"}};
  inputs.feature_gates = {"service.AllowNoPipelines"};
  inputs.identifying_overrides = {{"service.name", "mine"}};
  inputs.non_identifying_overrides = {{"deployment.environment", "test"}};
  return inputs;
}

std::filesystem::path fake_executable(const TempDir &dir, const std::string &content) {
  auto path = dir.write_file("otelcol", content);
  std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  return path;
}

TEST(BootstrapCache, TheKeyChangesWithEveryInputAndOnlyThen) {
  TempDir dir;
  const auto executable = fake_executable(dir, "#!/bin/sh\necho one\n");
  const BootstrapInputs base = inputs_for(executable);
  const std::string key = bootstrap_key(base);
  EXPECT_EQ(key.size(), 64u);
  EXPECT_EQ(bootstrap_key(base), key);

  std::vector<std::pair<const char *, BootstrapInputs>> changed;
  auto with = [&](const char *what, auto change) {
    BootstrapInputs inputs = base;
    change(inputs);
    changed.emplace_back(what, inputs);
  };
  with("args", [](BootstrapInputs &i) { i.args.push_back("--set=y=2"); });
  with("env value", [](BootstrapInputs &i) { (*i.env)["A"] = "2"; });
  with("env inherited", [](BootstrapInputs &i) { i.env.reset(); });
  with("gates", [](BootstrapInputs &i) { i.feature_gates.clear(); });
  with("identifying", [](BootstrapInputs &i) { i.identifying_overrides["service.name"] = "x"; });
  with("non-identifying", [](BootstrapInputs &i) { i.non_identifying_overrides.clear(); });
  // A value moved from one field to another is a different input, not the same text.
  with("arg into gate", [](BootstrapInputs &i) {
    i.feature_gates.push_back(i.args.front());
    i.args.clear();
  });
  for (const auto &[what, inputs] : changed)
    EXPECT_NE(bootstrap_key(inputs), key) << what;
}

TEST(BootstrapCache, TheKeyFollowsTheExecutablesContentAndModificationTime) {
  TempDir dir;
  const auto executable = fake_executable(dir, "#!/bin/sh\necho one\n");
  const std::string key = bootstrap_key(inputs_for(executable));

  // Same size, other content, same modification time.
  struct stat before {};
  ASSERT_EQ(::stat(executable.c_str(), &before), 0);
  fake_executable(dir, "#!/bin/sh\necho two\n");
  const struct timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, executable.c_str(), times, 0), 0);
  const std::string other_content = bootstrap_key(inputs_for(executable));
  EXPECT_NE(other_content, key);

  // Same content, other modification time.
  const struct timespec later[2] = {before.st_atim, {before.st_mtim.tv_sec + 10, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, executable.c_str(), later, 0), 0);
  EXPECT_NE(bootstrap_key(inputs_for(executable)), other_content);
}

TEST(BootstrapCache, AMissingExecutableIsNamed) {
  TempDir dir;
  const auto missing = dir.path() / "no-such-otelcol";
  try {
    bootstrap_key(inputs_for(missing));
    FAIL() << "hashed a missing executable";
  } catch (const std::runtime_error &error) {
    EXPECT_NE(std::string(error.what()).find(missing.string()), std::string::npos) << error.what();
  }
}

TEST(BootstrapCache, RoundTripsBinaryResultsForTheSameKeyOnly) {
  TempDir storage;
  const std::string description("\x0a\x05\x00\xff\x01binary", 11);
  write_bootstrap_cache(storage.path(), "key-1", {description, "components"});
  std::string problem;
  auto cached = read_bootstrap_cache(storage.path(), "key-1", &problem);
  ASSERT_TRUE(cached) << problem;
  EXPECT_EQ(cached->agent_description, description);
  EXPECT_EQ(cached->available_components, "components");
  EXPECT_FALSE(read_bootstrap_cache(storage.path(), "key-2", &problem));
  EXPECT_EQ(problem, "");  // another key is no problem
  struct stat info {};
  ASSERT_EQ(::stat((storage.path() / kBootstrapCacheFile).c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
}

TEST(BootstrapCache, NoCacheIsNoProblem) {
  TempDir storage;
  std::string problem;
  EXPECT_FALSE(read_bootstrap_cache(storage.path(), "key", &problem));
  EXPECT_EQ(problem, "");
}

TEST(BootstrapCache, AnUnusableCacheIsReportedWithTheReason) {
  TempDir storage;
  const auto path = storage.path() / kBootstrapCacheFile;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"key: [\n", "line "},
      {"just text\n", "not a bootstrap cache"},
      {"format: 1\nkey: k\nagent_description: !!binary AAA\n", "not a bootstrap cache"},
      {"format: 9\nkey: k\nagent_description: !!binary AA==\navailable_components: !!binary "
       "AA==\n",
       "format 9 is not 1"},
  };
  for (const auto &[content, reason] : cases) {
    storage.write_file(kBootstrapCacheFile, content);
    std::string problem;
    EXPECT_FALSE(read_bootstrap_cache(storage.path(), "k", &problem)) << content;
    EXPECT_EQ(problem.rfind(path.string() + ": ", 0), 0u) << problem;
    EXPECT_NE(problem.find(reason), std::string::npos) << problem;
  }
  std::filesystem::resize_file(path, kMaxBootstrapCacheBytes + 1);
  std::string problem;
  EXPECT_FALSE(read_bootstrap_cache(storage.path(), "k", &problem));
  EXPECT_NE(problem.find("larger than"), std::string::npos) << problem;
}

}  // namespace
}  // namespace opsup::collector
