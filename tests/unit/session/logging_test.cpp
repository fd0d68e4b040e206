#include "common/logging.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <thread>

#include "common/redact.hpp"
#include "test_files.hpp"

namespace opsup::common {
namespace {

using opsup::testing::read_text;
using opsup::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;

std::vector<std::string> lines(const std::string &text) {
  std::vector<std::string> result;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    result.push_back(text.substr(start, end - start));
    if (end == std::string::npos)
      break;
    start = end + 1;
  }
  return result;
}

LogSettings settings_for(const std::filesystem::path &file, LogEncoding encoding,
                         std::string level = "info") {
  LogSettings settings;
  settings.level = std::move(level);
  settings.encoding = encoding;
  settings.output_paths = {file.string()};
  settings.error_output_paths = {"stderr"};
  return settings;
}

class LoggingTest : public ::testing::Test {
 protected:
  void TearDown() override { configure_logging(LogSettings{}); }
  TempDir dir;
};

TEST_F(LoggingTest, JsonEncodingWritesOneZapLikeObjectPerLine) {
  const auto file = dir.path() / "log.json";
  configure_logging(settings_for(file, LogEncoding::kJson));
  get_logger("opamp-client")->warn("quote \" and newline \n inside");
  spdlog::info("from the default logger");
  const auto written = lines(read_text(file));
  ASSERT_EQ(written.size(), 2u);
  const auto first = boost::json::parse(written[0]).as_object();
  EXPECT_EQ(first.at("level").as_string(), "warn");
  EXPECT_EQ(first.at("logger").as_string(), "opamp-client");
  EXPECT_EQ(first.at("msg").as_string(), "quote \" and newline \n inside");
  EXPECT_TRUE(first.at("ts").is_double());
  const auto second = boost::json::parse(written[1]).as_object();
  EXPECT_EQ(second.at("logger").as_string(), "supervisor");
  EXPECT_EQ(second.at("level").as_string(), "info");
}

TEST_F(LoggingTest, LevelFiltersLowerEntries) {
  const auto file = dir.path() / "log.json";
  configure_logging(settings_for(file, LogEncoding::kJson, "warn"));
  get_logger("collector")->info("hidden");
  get_logger("collector")->debug("hidden too");
  get_logger("collector")->error("shown");
  const std::string text = read_text(file);
  EXPECT_THAT(text, Not(HasSubstr("hidden")));
  EXPECT_THAT(text, HasSubstr("shown"));
}

TEST_F(LoggingTest, ConsoleEncodingIsTabSeparated) {
  const auto file = dir.path() / "log.txt";
  configure_logging(settings_for(file, LogEncoding::kConsole, "debug"));
  get_logger("supervisor")->debug("hello");
  const auto written = lines(read_text(file));
  ASSERT_EQ(written.size(), 1u);
  EXPECT_THAT(written[0], HasSubstr("\tdebug\tsupervisor\thello"));
  EXPECT_EQ(written[0][4], '-');  // 2024-...
}

TEST_F(LoggingTest, ReconfiguringMovesExistingLoggers) {
  const auto first = dir.path() / "first.log";
  const auto second = dir.path() / "second.log";
  configure_logging(settings_for(first, LogEncoding::kJson));
  auto logger = get_logger("opamp-server");
  logger->info("one");
  configure_logging(settings_for(second, LogEncoding::kJson));
  logger->info("two");
  EXPECT_THAT(read_text(first), Not(HasSubstr("two")));
  EXPECT_THAT(read_text(second), HasSubstr("two"));
}

// logrotate moves the file away, then `systemctl reload` sends SIGHUP: the same settings
// again create the file anew, and nothing more goes to the moved one.
TEST_F(LoggingTest, ConfiguringAgainReopensAMovedFile) {
  const auto file = dir.path() / "supervisor.log";
  const auto rotated = dir.path() / "supervisor.log.1";
  configure_logging(settings_for(file, LogEncoding::kJson));
  get_logger("supervisor")->info("before the rotation");
  std::filesystem::rename(file, rotated);
  configure_logging(settings_for(file, LogEncoding::kJson));
  get_logger("supervisor")->info("after the rotation");
  EXPECT_THAT(read_text(rotated), HasSubstr("before the rotation"));
  EXPECT_THAT(read_text(rotated), Not(HasSubstr("after the rotation")));
  EXPECT_THAT(read_text(file), HasSubstr("after the rotation"));
}

// Loggers stay usable on other threads while the outputs are replaced under them.
TEST_F(LoggingTest, ReconfiguringWhileAnotherThreadLogsIsSafe) {
  const auto first = dir.path() / "first.log";
  const auto second = dir.path() / "second.log";
  configure_logging(settings_for(first, LogEncoding::kJson));
  std::atomic<bool> done{false};
  std::thread writer([&] {
    auto logger = get_logger("module-thread");
    while (!done)
      logger->info("from another thread");
  });
  for (int i = 0; i < 50; ++i)
    configure_logging(settings_for(i % 2 == 0 ? second : first, LogEncoding::kJson));
  done = true;
  writer.join();
  get_logger("module-thread")->info("last line");
  EXPECT_THAT(read_text(first), HasSubstr("last line"));
}

// telemetry.logs.rotation: a file that would grow past the size moves to <path>.1.
TEST_F(LoggingTest, FilesAreRotatedBySizeWhenAsked) {
  const auto file = dir.path() / "supervisor.log";
  LogSettings settings = settings_for(file, LogEncoding::kJson);
  settings.rotate_max_bytes = 1000;
  settings.rotate_keep_files = 2;
  configure_logging(settings);
  for (int i = 0; i < 40; ++i)
    get_logger("supervisor")->info("entry {} with some padding to fill the file", 100 + i);
  EXPECT_LE(read_text(file).size(), 1000u);
  EXPECT_THAT(read_text(file), HasSubstr("entry 139"));
  EXPECT_FALSE(read_text(dir.path() / "supervisor.log.1").empty());
  EXPECT_FALSE(read_text(dir.path() / "supervisor.log.2").empty());
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "supervisor.log.3"));
}

TEST_F(LoggingTest, BadSettingsAreRejectedWithTheValue) {
  try {
    configure_logging(settings_for(dir.path() / "x", LogEncoding::kJson, "loud"));
    FAIL();
  } catch (const std::invalid_argument &error) {
    EXPECT_THAT(error.what(), HasSubstr("loud"));
  }
  opsup::testing::write_text(dir.path() / "file", "x");
  const auto bad_path = dir.path() / "file" / "log";  // under a regular file
  try {
    configure_logging(settings_for(bad_path, LogEncoding::kJson));
    FAIL();
  } catch (const std::runtime_error &error) {
    EXPECT_THAT(error.what(), HasSubstr(bad_path.string()));
  }
  EXPECT_EQ(parse_log_encoding("console"), LogEncoding::kConsole);
  EXPECT_THROW(parse_log_encoding("xml"), std::invalid_argument);
}

TEST(Redact, SecretsAreReplaced) {
  EXPECT_EQ(redact("token"), "[REDACTED]");
  EXPECT_EQ(redact(""), "");
  EXPECT_EQ(redact_header_value("Authorization", "Bearer x"), "[REDACTED]");
  EXPECT_EQ(redact_header_value("x-api-key", "k"), "[REDACTED]");
  EXPECT_EQ(redact_header_value("content-type", "application/x-protobuf"),
            "application/x-protobuf");
}

}  // namespace
}  // namespace opsup::common
