// opampsupervisor's commands as real processes, with real modules that read their own
// plugins.<id> section: errors carry the config file and line, plugins.disable is named,
// the build tree's default module directory exists, and what `run` says about the
// Collector.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>

#include <boost/json/serialize.hpp>

#include "supervisor_fixture.hpp"

namespace opsup::testing {
namespace {

using namespace std::chrono_literals;
constexpr auto kDeadline = 30s;

// A copy of a test module from tests/abi/modules, in a private directory the loader's
// hygiene checks accept.
std::filesystem::path install_test_module(const std::string &file_name,
                                          const std::filesystem::path &directory) {
  const auto target = directory / file_name;
  std::filesystem::copy_file(std::filesystem::path(OPSUP_ABI_TEST_MODULE_DIR) / file_name, target,
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::permissions(
      target, std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                  std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
                  std::filesystem::perms::others_exec);
  return target;
}

std::string base_yaml(const TempDir &dir, const std::string &executable = "/bin/true") {
  return "server:\n  endpoint: ws://127.0.0.1:4320/v1/opamp\n"  // lines 1-2
         "agent:\n  executable: " +
         executable +                                                       // lines 3-4
         "\nstorage:\n  directory: " + (dir.path() / "s").string() + "\n";  // lines 5-6
}

TEST(SupervisorModuleCommands, ValidateNamesFileAndLineOfTheKeyAModuleRejects) {
  TempDir dir;
  TempDir modules;
  install_test_module("flaky.so", modules.path());
  const auto config = dir.write_file("supervisor.yaml", base_yaml(dir) +
                                                            "plugins:\n"                 // 7
                                                            "  io.opsup.test.flaky:\n"   // 8
                                                            "    mode: fail_create\n");  // 9
  const CommandResult result = run_supervisor_command(
      {"validate", "--config", config.string(), "--modules-dir", modules.path().string()});
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find(config.string() +
                               ":9: plugins.io.opsup.test.flaky.mode: fail_create makes "
                               "create fail"),
            std::string::npos)
      << result.output;
  // The section belongs to an installed module, even though it refused it.
  EXPECT_EQ(result.output.find("no installed module"), std::string::npos) << result.output;
  // A rejected setting stops validate and run: nothing may claim it carries on.
  EXPECT_EQ(result.output.find("continuing without it"), std::string::npos) << result.output;
}

// Two modules claim AcceptsRestartCommand: the later file is refused, validate fails with
// one line naming it once and the earlier file, and its section says it was refused.
TEST(SupervisorModuleCommands, ValidateFailsOnARefusedModuleAndSaysWhyItsSectionIsIgnored) {
  TempDir dir;
  TempDir modules;
  const auto first = install_test_module("claim_a.so", modules.path());
  const auto second = install_test_module("claim_b.so", modules.path());
  const auto config = dir.write_file("supervisor.yaml", base_yaml(dir) +
                                                            "plugins:\n"                  // 7
                                                            "  io.opsup.test.claim_b:\n"  // 8
                                                            "    x: 1\n");
  const CommandResult result = run_supervisor_command(
      {"validate", "--config", config.string(), "--modules-dir", modules.path().string()});
  EXPECT_EQ(result.exit_code, 1) << result.output;
  const std::string refusal =
      "error: module file " + second.string() +
      " is refused: module io.opsup.test.claim_b claims AcceptsRestartCommand, already owned by "
      "module io.opsup.test.claim_a (" +
      first.string() + "), which comes first in file-name order\n";
  EXPECT_NE(result.output.find(refusal), std::string::npos) << result.output;
  // The warning the loader logs names the refused file once too.
  const std::string logged = "module file " + second.string() + " refused: module";
  const size_t at = result.output.find(logged);
  ASSERT_NE(at, std::string::npos) << result.output;
  const std::string line = result.output.substr(at, result.output.find('\n', at) - at);
  EXPECT_EQ(line.find(second.string(), line.find(second.string()) + 1), std::string::npos) << line;
  EXPECT_NE(result.output.find(config.string() +
                               ":8: plugins.io.opsup.test.claim_b: module "
                               "\"io.opsup.test.claim_b\" was refused (" +
                               second.string() + ": module io.opsup.test.claim_b claims"),
            std::string::npos)
      << result.output;
  EXPECT_EQ(result.output.find("no installed module"), std::string::npos) << result.output;

  // `modules` lists the same directory, says why, and stays informative (exit 0).
  const CommandResult listing =
      run_supervisor_command({"modules", "--modules-dir", modules.path().string()});
  EXPECT_EQ(listing.exit_code, 0) << listing.output;
  EXPECT_NE(listing.output.find("refused: module io.opsup.test.claim_b claims"), std::string::npos)
      << listing.output;
}

// A file refused before its entry ran has no id: a section it may own says so.
TEST(SupervisorModuleCommands, AStraySectionMentionsFilesRefusedBeforeTheirIdWasKnown) {
  TempDir dir;
  TempDir modules;
  const auto junk = modules.path() / "junk.so";
  std::ofstream(junk) << "not a library";
  std::filesystem::permissions(
      junk, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                std::filesystem::perms::group_read | std::filesystem::perms::others_read);
  const auto config = dir.write_file("supervisor.yaml", base_yaml(dir) +
                                                            "plugins:\n"
                                                            "  com.example.junk:\n"
                                                            "    x: 1\n");
  const CommandResult result = run_supervisor_command(
      {"validate", "--config", config.string(), "--modules-dir", modules.path().string()});
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("no installed module has the id \"com.example.junk\" (a module "
                               "file was refused before its id was known: " +
                               junk.string() + ": "),
            std::string::npos)
      << result.output;
}

TEST(SupervisorModuleCommands, ValidateSaysAWrittenCapabilitysOnlyModuleIsDisabled) {
  TempDir dir;
  TempDir modules;
  install_test_module("flaky.so", modules.path());
  // flaky owns AcceptsRestartCommand; its section would fail create if it ran.
  const auto config = dir.write_file("supervisor.yaml", base_yaml(dir) +
                                                            "capabilities:\n"
                                                            "  accepts_restart_command: true\n"
                                                            "plugins:\n"
                                                            "  disable: [io.opsup.test.flaky]\n"
                                                            "  io.opsup.test.flaky:\n"
                                                            "    mode: fail_create\n");
  const CommandResult result = run_supervisor_command(
      {"validate", "--config", config.string(), "--modules-dir", modules.path().string()});
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find(config.string() + ":8: capabilities.accepts_restart_command: true "
                                                 "needs module \"io.opsup.test.flaky\" "
                                                 "(AcceptsRestartCommand), which is disabled by "
                                                 "plugins.disable"),
            std::string::npos)
      << result.output;
  EXPECT_EQ(result.output.find("(AcceptsRestartCommand), which is not installed"),
            std::string::npos)
      << result.output;
  EXPECT_EQ(result.output.find("makes create fail"), std::string::npos)
      << "a disabled module was created:\n"
      << result.output;
}

TEST(SupervisorModuleCommands, ValidatePrintsFeatureGatesItDoesNotUse) {
  TempDir dir;
  TempDir modules;
  const auto config = dir.write_file("supervisor.yaml", base_yaml(dir));
  const CommandResult result =
      run_supervisor_command({"validate", "--config", config.string(), "--modules-dir",
                              modules.path().string(), "--feature-gates", "io.example.gate"});
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("Feature gate io.example.gate is not used by this supervisor"),
            std::string::npos)
      << result.output;
}

TEST(SupervisorModuleCommands, ModulesWithoutADirectoryFlagUsesTheBuildTreesDefault) {
  const CommandResult result = run_supervisor_command({"modules"});
  EXPECT_EQ(result.exit_code, 0) << result.output;
  const auto expected =
      std::filesystem::weakly_canonical(build_dir() / "lib" / "opampsupervisor" / "modules");
  // Exactly this line: a missing directory would be followed by "(does not exist)".
  EXPECT_NE(result.output.find("module directory: " + expected.string() + "\n"), std::string::npos)
      << result.output;
  EXPECT_TRUE(std::filesystem::is_directory(expected));
}

TEST(SupervisorModuleCommands, ModulesListsEvenWhenTheCollectorExecutableIsMissing) {
  TempDir dir;
  const auto config =
      dir.write_file("supervisor.yaml", base_yaml(dir, (dir.path() / "no-otelcol").string()));
  const auto examples = build_dir() / "lib" / "opampsupervisor" / "examples";
  const CommandResult result = run_supervisor_command(
      {"modules", "--config", config.string(), "--modules-dir", examples.string()});
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("io.opsup.example.hello"), std::string::npos) << result.output;
  // Each module's one-line description.
  EXPECT_NE(result.output.find("\"Example in C: answers io.opsup.example.hello ping"),
            std::string::npos)
      << result.output;
}

// The server sees a module's custom capability although the module never sends it (and
// clears its fields at start): the supervisor advertises it from the descriptor.
TEST(SupervisorModuleCommands, RunAdvertisesCustomCapabilitiesFromTheDescriptor) {
  TempDir dir;
  TempDir modules;
  install_test_module("silent_custom.so", modules.path());
  OpampServerProcess server;
  const SupervisorRun run{.endpoint = server.websocket_url(),
                          .storage = dir.path() / "storage",
                          .modules_dir = modules.path()};
  auto supervisor = start_supervisor(run, dir.path());
  const std::string uid = wait_for_connected_agent(server, kDeadline);
  ASSERT_FALSE(uid.empty()) << supervisor->output();
  EXPECT_TRUE(eventually(
      [&] {
        const std::string capabilities =
            boost::json::serialize(at(server.agent(uid), {"custom_capabilities"}));
        return capabilities.find("io.opsup.test.silent") != std::string::npos;
      },
      kDeadline))
      << "the descriptor's custom capability never reached the server:\n"
      << supervisor->output();
  // The load log names it.
  EXPECT_TRUE(
      supervisor->wait_for_line("custom capabilities io\\.opsup\\.test\\.silent", kDeadline))
      << supervisor->output();
  supervisor->send_signal(SIGTERM);
  EXPECT_EQ(supervisor->wait_exit(kDeadline), 0);
}

// A setting a module rejects stops `run` with the file and line, and nothing says it
// carries on without the module.
TEST(SupervisorModuleCommands, RunStopsOnARejectedSettingWithoutClaimingToContinue) {
  TempDir dir;
  TempDir modules;
  install_test_module("flaky.so", modules.path());
  const SupervisorRun run{
      .endpoint = "ws://127.0.0.1:1/v1/opamp",
      .storage = dir.path() / "storage",
      .modules_dir = modules.path(),
      .extra_yaml = "plugins:\n  io.opsup.test.flaky:\n    mode: fail_create\n"};
  auto supervisor = start_supervisor(run, dir.path());
  EXPECT_EQ(supervisor->wait_exit(kDeadline), 1) << supervisor->output();
  supervisor->wait_output_closed(10s);
  const std::string output = supervisor->output();
  EXPECT_NE(output.find("plugins.io.opsup.test.flaky.mode: fail_create makes create fail"),
            std::string::npos)
      << output;
  EXPECT_EQ(output.find("continuing without it"), std::string::npos) << output;
}

TEST(SupervisorModuleCommands, RunStartsTheCollectorWithoutWaitingForTheServer) {
  TempDir dir;
  TempDir modules;
  // Nobody listens on port 1: the session keeps retrying while the Collector runs.
  const SupervisorRun run{.endpoint = "ws://127.0.0.1:1/v1/opamp",
                          .storage = dir.path() / "storage",
                          .modules_dir = modules.path()};
  auto supervisor = start_supervisor(run, dir.path());
  ASSERT_TRUE(supervisor->wait_for_line("Collector started \\(pid [0-9]+\\) on config generation 1",
                                        kDeadline))
      << supervisor->output();
  ASSERT_TRUE(supervisor->wait_for_line("Failed to connect to the OpAMP server", kDeadline))
      << supervisor->output();
  EXPECT_TRUE(std::filesystem::exists(run.storage / "effective.yaml"));
  supervisor->send_signal(SIGTERM);
  EXPECT_EQ(supervisor->wait_exit(kDeadline), 0) << supervisor->output();
  supervisor->wait_output_closed(10s);
  EXPECT_EQ(supervisor->count_lines("exited unexpectedly"), 0u) << supervisor->output();
}

}  // namespace
}  // namespace opsup::testing
