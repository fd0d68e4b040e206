// Process-wide logging with spdlog, shaped like the Go supervisor's zap logger
// (`telemetry.logs`): a level, a json or console encoding, output paths, and named
// loggers ("supervisor", "opamp-client", "opamp-server", "collector").
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace spdlog {
class logger;
namespace sinks {
class sink;
}
}  // namespace spdlog

namespace opsup::common {

enum class LogEncoding { kJson, kConsole };

struct LogSettings {
  // zap level names: debug, info, warn, error, dpanic, panic, fatal (also "warning").
  std::string level = "info";
  LogEncoding encoding = LogEncoding::kJson;
  // "stdout", "stderr", or a file path (appended to; "file://" prefix accepted).
  std::vector<std::string> output_paths{"stdout"};
  // Where the logging library reports its own failures (zap's ErrorOutputPaths).
  std::vector<std::string> error_output_paths{"stderr"};
  // Size rotation of the files in output_paths: 0 leaves it to logrotate; otherwise a file
  // that would grow past it becomes <path>.1 (mode 0600), keeping rotate_keep_files old ones.
  std::uint64_t rotate_max_bytes = 0;
  int rotate_keep_files = 3;
};

// Parses "json" / "console"; throws std::invalid_argument naming the value otherwise.
LogEncoding parse_log_encoding(std::string_view encoding);

// Replaces the sinks, format and level of every logger (existing and future) and makes
// "supervisor" the default logger used by spdlog::info() and friends. Throws
// std::invalid_argument for an unknown level and std::runtime_error naming a path that
// cannot be opened; then nothing changes. May be called again (after the config is read,
// on SIGHUP), from any thread while others log: every output is opened anew, so a log file
// that logrotate moved away is created again, and the previous ones are closed.
void configure_logging(const LogSettings &settings);

// A sink that every logger writes to besides the configured outputs, kept across
// configure_logging calls (the supervisor's own telemetry exports log records through
// one). It gets the records the level lets through, unformatted.
void add_extra_log_sink(std::shared_ptr<spdlog::sinks::sink> sink);
void remove_extra_log_sink(const std::shared_ptr<spdlog::sinks::sink> &sink);

// The named logger, created with the configured sinks on first use.
std::shared_ptr<spdlog::logger> get_logger(std::string_view name);

}  // namespace opsup::common
