#include <gtest/gtest.h>

#include <stdexcept>

#include "app/cli.hpp"
#include "app/module_directory.hpp"

namespace opsup::app {
namespace {

TEST(CommandLine, AcceptsTheGoSupervisorsFlags) {
  CommandLine command = parse_command_line(
      {"--config", "s.yaml", "--feature-gates", "opampsupervisor.Extensions,-other.gate"});
  EXPECT_EQ(command.verb, Verb::kRun);
  EXPECT_EQ(command.config_path, "s.yaml");
  EXPECT_TRUE(command.feature_gates.enabled.contains("opampsupervisor.Extensions"));
  EXPECT_TRUE(command.feature_gates.disabled.contains("other.gate"));

  // Go's flag package also takes one dash and name=value.
  command = parse_command_line({"-config=other.yaml"});
  EXPECT_EQ(command.config_path, "other.yaml");
}

TEST(CommandLine, ParsesVerbsAndTheGlobalModulesDir) {
  CommandLine command = parse_command_line({"modules", "--modules-dir", "/opt/m"});
  EXPECT_EQ(command.verb, Verb::kModules);
  EXPECT_EQ(command.modules_dir, "/opt/m");
  EXPECT_FALSE(command.config_path);

  command = parse_command_line({"--modules-dir=/x", "validate", "--config", "c.yaml"});
  EXPECT_EQ(command.verb, Verb::kValidate);
  EXPECT_EQ(command.modules_dir, "/x");

  EXPECT_EQ(parse_command_line({"--version"}).verb, Verb::kVersion);
  EXPECT_EQ(parse_command_line({"--help"}).verb, Verb::kHelp);
}

TEST(CommandLine, RejectsBadInputNamingTheArgument) {
  auto message_of = [](std::vector<std::string> args) {
    try {
      parse_command_line(args);
    } catch (const std::invalid_argument &error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message_of({"--bogus"}).find("--bogus"), std::string::npos);
  EXPECT_NE(message_of({"--config"}).find("--config needs a value"), std::string::npos);
  EXPECT_NE(message_of({"validate"}).find("--config FILE is required"), std::string::npos);
  EXPECT_NE(message_of({}).find("--config FILE is required"), std::string::npos);
  EXPECT_NE(message_of({"--config", "a", "stray"}).find("stray"), std::string::npos);
  EXPECT_NE(message_of({"--config", "a", "--feature-gates", "a,,b"}).find("empty gate"),
            std::string::npos);
}

TEST(ModuleDirectory, OverridesWinInOrder) {
  EXPECT_EQ(resolve_module_directory(std::string("/cli"), "/configured"), "/cli");
  EXPECT_EQ(resolve_module_directory(std::nullopt, "/configured"), "/configured");
  // The default sits next to the running executable: <bin>/../lib/opampsupervisor/modules.
  const auto fallback = resolve_module_directory(std::nullopt, "");
  EXPECT_EQ(fallback.filename(), "modules");
  EXPECT_EQ(fallback.parent_path().filename(), "opampsupervisor");
}

}  // namespace
}  // namespace opsup::app
