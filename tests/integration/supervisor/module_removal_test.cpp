// Minimal installs: removing any one capability module's .so removes exactly the capability
// bits it owns from what is advertised, and the others keep working. The modules are the
// ones the build produced (build/lib/opampsupervisor/modules), whatever they are.
#include <gtest/gtest.h>

#include <csignal>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "supervisor_fixture.hpp"
#include "support/collector.hpp"

namespace opsup::testing {
namespace {

using namespace std::chrono_literals;
using Names = std::set<std::string>;

// The capability key that switches a capability on (ReportsRemoteConfig and
// ReportsPackageStatuses come with the keys of their Accepts* partners).
const std::map<std::string, std::string> kKeyOf = {
    {"AcceptsRemoteConfig", "accepts_remote_config"},
    {"ReportsEffectiveConfig", "reports_effective_config"},
    {"AcceptsPackages", "accepts_packages"},
    {"ReportsOwnTraces", "reports_own_traces"},
    {"ReportsOwnMetrics", "reports_own_metrics"},
    {"ReportsOwnLogs", "reports_own_logs"},
    {"AcceptsOpAMPConnectionSettings", "accepts_opamp_connection_settings"},
    {"AcceptsOtherConnectionSettings", "accepts_other_connection_settings"},
    {"AcceptsRestartCommand", "accepts_restart_command"},
    {"ReportsHealth", "reports_health"},
    {"ReportsAvailableComponents", "reports_available_components"},
    {"ReportsConnectionSettingsStatus", "reports_connection_settings_status"},
};

Names split_names(const std::string &text) {
  Names names;
  if (text == "none")
    return names;
  std::stringstream stream(text);
  for (std::string name; std::getline(stream, name, '|');)
    names.insert(name);
  return names;
}

struct Module {
  std::string file;
  Names owns;
};

std::vector<Module> built_modules() {
  const auto directory = build_dir() / "lib" / "opampsupervisor" / "modules";
  const CommandResult listed =
      run_supervisor_command({"modules", "--modules-dir", directory.string()});
  EXPECT_EQ(listed.exit_code, 0) << listed.output;
  std::vector<Module> modules;
  const std::regex line("^\\S+ \\S+ owns=(\\S+) .*\\((.*\\.so)\\)$");
  std::stringstream stream(listed.output);
  for (std::string text; std::getline(stream, text);) {
    std::smatch match;
    if (std::regex_match(text, match, line))
      modules.push_back({match[2].str(), split_names(match[1].str())});
  }
  return modules;
}

class ModuleRemoval : public ::testing::Test {
 protected:
  TempDir dir_;

  // A modules dir holding every built module but `left_out`, and a config switching on
  // every capability those modules own.
  std::pair<std::filesystem::path, std::filesystem::path> install(
      const std::vector<Module> &modules, const std::string &left_out) {
    const auto directory =
        dir_.path() / ("modules-without-" + std::filesystem::path(left_out).stem().string());
    std::filesystem::create_directories(directory);
    std::filesystem::permissions(directory, std::filesystem::perms::owner_all);
    std::string keys;
    for (const auto &module : modules) {
      if (module.file == left_out)
        continue;
      std::filesystem::copy_file(module.file,
                                 directory / std::filesystem::path(module.file).filename());
      for (const auto &name : module.owns) {
        if (auto key = kKeyOf.find(name); key != kKeyOf.end())
          keys += "  " + key->second + ": true\n";
      }
    }
    const auto config = dir_.write_file(
        "supervisor-" + directory.filename().string() + ".yaml",
        "server:\n  endpoint: ws://127.0.0.1:1/v1/opamp\nagent:\n  executable: " +
            collector_executable(CollectorKind::kStandIn).string() +
            "\nstorage:\n  directory: " + (dir_.path() / "storage").string() + "\ncapabilities:\n" +
            (keys.empty() ? "  reports_heartbeat: true\n" : keys));
    return {directory, config};
  }

  Names advertised(const std::filesystem::path &modules_dir, const std::filesystem::path &config) {
    const CommandResult result = run_supervisor_command(
        {"validate", "--config", config.string(), "--modules-dir", modules_dir.string()});
    EXPECT_EQ(result.exit_code, 0) << result.output;
    std::smatch match;
    EXPECT_TRUE(std::regex_search(result.output, match, std::regex("would advertise: ([^;]+);")))
        << result.output;
    return match.empty() ? Names{} : split_names(match[1].str());
  }
};

TEST_F(ModuleRemoval, RemovingAModuleRemovesExactlyItsCapabilities) {
  const std::vector<Module> modules = built_modules();
  ASSERT_GE(modules.size(), 3u) << "the build produced too few modules to show anything";
  const auto [all_dir, all_config] = install(modules, "");
  const Names everything = advertised(all_dir, all_config);
  for (const auto &module : modules) {
    SCOPED_TRACE(module.file);
    const auto [without_dir, without_config] = install(modules, module.file);
    const Names left = advertised(without_dir, without_config);
    Names gone;
    for (const auto &name : everything) {
      if (!left.contains(name))
        gone.insert(name);
    }
    EXPECT_EQ(gone, module.owns);
    for (const auto &name : left)
      EXPECT_TRUE(everything.contains(name)) << name;
  }
}

TEST_F(ModuleRemoval, TheOthersKeepWorkingWithoutTheRemoteConfigModule) {
  const std::vector<Module> modules = built_modules();
  std::string remote_config;
  for (const auto &module : modules) {
    if (module.owns.contains("AcceptsRemoteConfig"))
      remote_config = module.file;
  }
  ASSERT_FALSE(remote_config.empty());
  const auto [directory, config] = install(modules, remote_config);
  OpampServerProcess server;
  SupervisorRun run{.endpoint = server.websocket_url(),
                    .storage = dir_.path() / "storage-run",
                    .modules_dir = directory,
                    .extra_yaml = "capabilities:\n  reports_health: true\n",
                    .collector = collector_executable(CollectorKind::kReal)};
  auto supervisor = start_supervisor(run, dir_.path());
  const std::string uid = wait_for_connected_agent(server, 60s);
  ASSERT_FALSE(uid.empty()) << supervisor->output();
  EXPECT_TRUE(eventually(
      [&] {
        return at(server.agent(uid), {"health", "healthy"}) == boost::json::value(true);
      },
      60s))
      << supervisor->output();
  const auto capabilities = at(server.agent(uid), {"capabilities", "value"}).to_number<uint64_t>();
  EXPECT_EQ(capabilities & 0x2u, 0u) << "AcceptsRemoteConfig without its module";
  supervisor->send_signal(SIGTERM);
  EXPECT_EQ(supervisor->wait_exit(60s), 0);
}

}  // namespace
}  // namespace opsup::testing
