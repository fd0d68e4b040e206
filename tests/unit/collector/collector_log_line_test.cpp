// Levels of the Collector's own log lines, in the shapes v0.149.0 writes them (copied from
// its output).
#include "collector/collector_log_line.hpp"

#include <gtest/gtest.h>

namespace opsup::collector {
namespace {

TEST(CollectorLogLine, ConsoleLinesGiveTheirLevelAndLoseTimestampAndLevel) {
  const auto info = parse_collector_log_line(
      "2026-12-06T05:10:51.945Z\tinfo\tservice@v0.149.0/service.go:241\tStarting otelcol-opsup..."
      "\t{\"resource\": {\"service.name\": \"otelcol-opsup\"}}");
  EXPECT_EQ(info.level, CollectorLogLevel::kInfo);
  EXPECT_EQ(info.text,
            "service@v0.149.0/service.go:241\tStarting otelcol-opsup...\t{\"resource\": "
            "{\"service.name\": \"otelcol-opsup\"}}");
  const auto error = parse_collector_log_line(
      "2026-12-06T05:10:59.031Z\terror\topampextension@v0.149.0/logger.go:26\tConnection failed");
  EXPECT_EQ(error.level, CollectorLogLevel::kError);
  EXPECT_EQ(parse_collector_log_line("2026-12-06T05:10:59.031Z\twarn\tx.go:1\ty").level,
            CollectorLogLevel::kWarn);
  EXPECT_EQ(parse_collector_log_line("2026-12-06T05:10:59.031Z\tdebug\tx.go:1\ty").level,
            CollectorLogLevel::kDebug);
}

TEST(CollectorLogLine, JsonLinesGiveTheirLevelAndStayWhole) {
  const std::string line =
      R"({"level":"warn","ts":"2026-12-06T05:10:51.945Z","caller":"x.go:1","msg":"careful"})";
  const auto parsed = parse_collector_log_line(line);
  EXPECT_EQ(parsed.level, CollectorLogLevel::kWarn);
  EXPECT_EQ(parsed.text, line);
}

TEST(CollectorLogLine, OtherLinesAreInfoUnlessTheyAreAPanicOrTheFinalError) {
  EXPECT_EQ(parse_collector_log_line("github.com/x/y.(*z).Start.func3").level,
            CollectorLogLevel::kInfo);
  EXPECT_EQ(parse_collector_log_line("\tgithub.com/x/y.go:142").text, "\tgithub.com/x/y.go:142");
  EXPECT_EQ(parse_collector_log_line("panic: runtime error: index out of range").level,
            CollectorLogLevel::kError);
  EXPECT_EQ(parse_collector_log_line("fatal error: concurrent map writes").level,
            CollectorLogLevel::kError);
  EXPECT_EQ(parse_collector_log_line("Error: failed to get config: x").level,
            CollectorLogLevel::kError);
  EXPECT_EQ(parse_collector_log_line("").text, "");
}

}  // namespace
}  // namespace opsup::collector
