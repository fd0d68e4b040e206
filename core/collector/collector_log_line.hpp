// Reads the level and message of one line the Collector logged, so passthrough logging can
// keep the Collector's own level. Both of the Collector's encodings are read:
//   console: "2026-12-06T05:10:51.945Z\tinfo\tservice@v0.149.0/service.go:241\tStarting...\t{...}"
//   json:    {"level":"info","ts":...,"caller":"...","msg":"Starting...",...}
// Anything else (a Go panic's stack, text printed before logging is set up) is kept whole
// at info level, or error level when it starts with "panic:", "fatal error:" (Go's runtime)
// or "Error: " (how the Collector reports a config it cannot run, before exiting).
#pragma once

#include <string>
#include <string_view>

namespace opsup::collector {

enum class CollectorLogLevel { kDebug, kInfo, kWarn, kError };

struct CollectorLogLine {
  CollectorLogLevel level = CollectorLogLevel::kInfo;
  std::string text;  // the line without its timestamp and level (console), or whole (json)
};

CollectorLogLine parse_collector_log_line(std::string_view line);

}  // namespace opsup::collector
