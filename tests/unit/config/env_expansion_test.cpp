// ${...} expansion inside values, like the Collector's confmap.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "config/env_expansion.hpp"
#include "test_support.hpp"

namespace opsup::config {
namespace {

using namespace std::chrono_literals;
using testing::describe;
using testing::expect_loads;
using testing::find_by_key;
using testing::kBase;
using testing::load_text;
using testing::options_with;

const std::map<std::string, std::string> kEnv{{"OPAMP_HOST", "opamp.example.com"},
                                              {"PORT", "4321"},
                                              {"FLAG", "true"},
                                              {"TIMEOUT", "1m30s"},
                                              {"ZEROS", "0123"},
                                              {"EMPTY", ""},
                                              {"NOT_A_PORT", "http"}};

TEST(EnvExpansion, BothSyntaxesInsideAValue) {
  const std::string text =
      "server:\n  endpoint: wss://${env:OPAMP_HOST}:${PORT}/v1/opamp\n"
      "agent:\n  executable: /usr/bin/otelcol\n";
  const SupervisorConfig config = expect_loads(load_text(text, options_with(kEnv)));
  EXPECT_EQ(config.server.endpoint, "wss://opamp.example.com:4321/v1/opamp");
}

TEST(EnvExpansion, DoubleDollarIsALiteralDollar) {
  const SupervisorConfig config = expect_loads(
      load_text(std::string(kBase) + "  args: [\"$${env:PORT}\", \"cost: $$5\", \"$$$$\"]\n",
                options_with(kEnv)));
  EXPECT_EQ(config.agent.args, (std::vector<std::string>{"${env:PORT}", "cost: $5", "$$"}));
}

TEST(EnvExpansion, BareDollarNamesAreLeftAlone) {
  const SupervisorConfig config = expect_loads(
      load_text(std::string(kBase) + "  config_files: [$OWN_TELEMETRY_CONFIG, $REMOTE_CONFIG]\n",
                options_with(kEnv)));
  EXPECT_EQ(config.agent.config_files,
            (std::vector<std::string>{"$OWN_TELEMETRY_CONFIG", "$REMOTE_CONFIG"}));
}

TEST(EnvExpansion, WholeReferenceIsTypedByItsKey) {
  const SupervisorConfig config =
      expect_loads(load_text(std::string(kBase) + "  opamp_server_port: ${env:PORT}\n"
                                                  "  passthrough_logs: ${FLAG}\n"
                                                  "  config_apply_timeout: ${TIMEOUT}\n"
                                                  "  instance_id: \"${EMPTY}\"\n"
                                                  "  description:\n"
                                                  "    identifying_attributes:\n"
                                                  "      build: ${ZEROS}\n",
                             options_with(kEnv)));
  EXPECT_EQ(config.agent.opamp_server_port, 4321);
  EXPECT_TRUE(config.agent.passthrough_logs);
  EXPECT_EQ(config.agent.config_apply_timeout, 90s);
  EXPECT_EQ(config.agent.instance_id, "");
  EXPECT_EQ(config.agent.description.identifying_attributes.at("build"), "0123");
}

TEST(EnvExpansion, BadExpandedValueIsReportedAtTheReferenceLine) {
  const LoadResult result = load_text(std::string(kBase) +
                                          "  passthrough_logs: false\n"            // 5
                                          "  opamp_server_port: ${NOT_A_PORT}\n",  // 6
                                      options_with(kEnv));
  const Diagnostic *error = find_by_key(result.errors, "agent.opamp_server_port");
  ASSERT_NE(error, nullptr) << describe(result.errors);
  EXPECT_EQ(error->line, 6);
  EXPECT_NE(error->message.find("\"http\""), std::string::npos);
}

TEST(EnvExpansion, UnsetVariableExpandsToEmptyWithAWarning) {
  const LoadResult result = load_text(std::string(kBase) +
                                          "  args: [\"a${env:NOPE}b\"]\n"  // 5
                                          "storage:\n"                     // 6
                                          "  directory: ${NOPE}\n",        // 7
                                      options_with(kEnv));
  const SupervisorConfig config = expect_loads(result);
  EXPECT_EQ(config.agent.args, std::vector<std::string>{"ab"});
  // A value that is only an unset variable is unset: the key keeps its default.
  EXPECT_EQ(config.storage.directory, "/var/lib/otelcol/supervisor");
  ASSERT_EQ(result.warnings.size(), 2u) << describe(result.warnings);
  EXPECT_EQ(result.warnings[0].line, 5);
  EXPECT_EQ(result.warnings[0].key, "agent.args[0]");
  EXPECT_NE(result.warnings[0].message.find("\"NOPE\" is not set"), std::string::npos);
  EXPECT_EQ(result.warnings[1].key, "storage.directory");
}

TEST(EnvExpansion, DefaultValueSyntax) {
  const SupervisorConfig config = expect_loads(load_text(
      std::string(kBase) + "storage:\n  directory: ${env:NOPE:-/tmp/sup}\n", options_with(kEnv)));
  EXPECT_EQ(config.storage.directory, "/tmp/sup");
}

TEST(EnvExpansion, FileReferenceReadsTheFile) {
  const auto path =
      std::filesystem::temp_directory_path() / ("opsup-config-token-" + std::to_string(::getpid()));
  std::ofstream(path) << "tok-from-file\n";
  const LoadResult result =
      load_text(std::string(kBase) +
                    "extensions:\n  bearertokenauth:\n    token: ${file:" + path.string() + "}\n",
                options_with(kEnv, {kExtensionsFeatureGate}));
  std::filesystem::remove(path);
  const SupervisorConfig config = expect_loads(result);
  ASSERT_EQ(config.extensions.size(), 1u);
  EXPECT_EQ(std::get<BearerTokenAuthConfig>(config.extensions[0].settings).token, "tok-from-file");
}

TEST(EnvExpansion, InvalidReferencesAreErrors) {
  EXPECT_TRUE(expand_scalar("${env:1BAD}", options_with({}).lookup_env).error.has_value());
  EXPECT_TRUE(expand_scalar("${env:${env:X}}", options_with({}).lookup_env).error.has_value());
  EXPECT_TRUE(expand_scalar("${vault:secret}", options_with({}).lookup_env).error.has_value());
  // An unterminated reference is kept as written, like confmap.
  const auto unterminated = expand_scalar("a${b", options_with({}).lookup_env);
  EXPECT_FALSE(unterminated.error.has_value());
  EXPECT_EQ(unterminated.text, "a${b");
}

TEST(EnvExpansion, ScalarResultFlags) {
  const auto lookup = options_with(kEnv).lookup_env;
  const auto whole = expand_scalar("${PORT}", lookup);
  EXPECT_TRUE(whole.whole_reference);
  EXPECT_EQ(whole.text, "4321");
  const auto partial = expand_scalar("x${PORT}", lookup);
  EXPECT_FALSE(partial.whole_reference);
  EXPECT_TRUE(partial.changed);
  const auto two = expand_scalar("${PORT}${PORT}", lookup);
  EXPECT_FALSE(two.whole_reference);
  EXPECT_EQ(two.text, "43214321");
  EXPECT_FALSE(expand_scalar("plain", lookup).changed);
}

TEST(EnvExpansion, ProcessEnvironmentIsTheDefault) {
  ::setenv("OPSUP_CONFIG_TEST_ENDPOINT", "ws://10.1.2.3:4320/v1/opamp", 1);
  const LoadResult result = load_supervisor_config_from_string(
      "server:\n  endpoint: ${env:OPSUP_CONFIG_TEST_ENDPOINT}\nagent:\n  executable: /x\n",
      "supervisor.yaml", LoadOptions{});
  ::unsetenv("OPSUP_CONFIG_TEST_ENDPOINT");
  EXPECT_EQ(expect_loads(result).server.endpoint, "ws://10.1.2.3:4320/v1/opamp");
}

}  // namespace
}  // namespace opsup::config
