#include "common/logging.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <mutex>
#include <stdexcept>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/dist_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "common/log_formatters.hpp"
#include "common/rotating_log_sink.hpp"

namespace opsup::common {
namespace {

constexpr std::string_view kDefaultLoggerName = "supervisor";

struct LoggingState {
  std::mutex mutex;
  bool configured = false;
  // Every logger writes to this one sink; configuring swaps the outputs behind it under
  // its lock, so loggers in use on other threads (modules log from any thread) never see
  // a half-replaced sink list.
  std::shared_ptr<spdlog::sinks::dist_sink_mt> outputs =
      std::make_shared<spdlog::sinks::dist_sink_mt>();
  // add_extra_log_sink: behind `outputs` too, after the configured ones, kept when
  // configuring again.
  std::vector<spdlog::sink_ptr> extra_sinks;
  spdlog::level::level_enum level = spdlog::level::info;
  std::vector<std::FILE *> error_outputs;  // stdout, stderr or files we opened
  std::vector<std::FILE *> opened_error_files;
};

LoggingState &state() {
  static LoggingState instance;
  return instance;
}

std::string lowercase(std::string_view text) {
  std::string result(text);
  std::transform(result.begin(), result.end(), result.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return result;
}

spdlog::level::level_enum parse_level(std::string_view level) {
  const std::string name = lowercase(level);
  if (name == "debug")
    return spdlog::level::debug;
  if (name == "info" || name.empty())
    return spdlog::level::info;
  if (name == "warn" || name == "warning")
    return spdlog::level::warn;
  if (name == "error")
    return spdlog::level::err;
  if (name == "dpanic" || name == "panic" || name == "fatal")
    return spdlog::level::critical;
  throw std::invalid_argument("unknown log level \"" + std::string(level) +
                              "\" (expected debug, info, warn, error, dpanic, panic or fatal)");
}

std::string file_path_of(std::string_view output) {
  constexpr std::string_view kFileScheme = "file://";
  if (output.starts_with(kFileScheme))
    output.remove_prefix(kFileScheme.size());
  return std::string(output);
}

spdlog::sink_ptr make_sink(const std::string &output, const LogSettings &settings) {
  if (output == "stdout")
    return std::make_shared<spdlog::sinks::stdout_sink_mt>();
  if (output == "stderr")
    return std::make_shared<spdlog::sinks::stderr_sink_mt>();
  const std::string path = file_path_of(output);
  if (settings.rotate_max_bytes > 0) {  // throws "cannot open <path>: <why>"
    return std::make_shared<RotatingLogSink>(path, settings.rotate_max_bytes,
                                             settings.rotate_keep_files);
  }
  try {
    return std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, /*truncate=*/false);
  } catch (const spdlog::spdlog_ex &error) {
    throw std::runtime_error("cannot open log output \"" + path + "\": " + error.what());
  }
}

std::FILE *open_error_output(const std::string &output, std::vector<std::FILE *> &opened) {
  if (output == "stdout")
    return stdout;
  if (output == "stderr")
    return stderr;
  const std::string path = file_path_of(output);
  std::FILE *file = std::fopen(path.c_str(), "a");
  if (file == nullptr) {
    throw std::runtime_error("cannot open error log output \"" + path + "\"");
  }
  opened.push_back(file);
  return file;
}

// spdlog's own failures (a full disk, a closed pipe) go to the error outputs.
void report_logging_error(const std::string &message) {
  LoggingState &s = state();
  std::lock_guard lock(s.mutex);
  for (std::FILE *output : s.error_outputs) {
    std::fprintf(output, "logging error: %s\n", message.c_str());
    std::fflush(output);
  }
}

std::shared_ptr<spdlog::logger> find_or_create_locked(LoggingState &s, std::string_view name) {
  const std::string logger_name(name);
  if (auto existing = spdlog::get(logger_name))
    return existing;
  auto logger = std::make_shared<spdlog::logger>(logger_name, s.outputs);
  logger->set_level(s.level);
  logger->flush_on(spdlog::level::trace);  // like zap: every entry is written at once
  spdlog::register_logger(logger);
  return logger;
}

void configure_locked(LoggingState &s, const LogSettings &settings) {
  const spdlog::level::level_enum level = parse_level(settings.level);
  std::vector<spdlog::sink_ptr> sinks;
  for (const std::string &output : settings.output_paths) {
    spdlog::sink_ptr sink = make_sink(output, settings);
    if (settings.encoding == LogEncoding::kJson) {
      sink->set_formatter(std::make_unique<JsonLogFormatter>());
    } else {
      sink->set_formatter(std::make_unique<ConsoleLogFormatter>());
    }
    sinks.push_back(std::move(sink));
  }
  std::vector<std::FILE *> opened;
  std::vector<std::FILE *> error_outputs;
  try {
    for (const std::string &output : settings.error_output_paths) {
      error_outputs.push_back(open_error_output(output, opened));
    }
  } catch (...) {
    for (std::FILE *file : opened)
      std::fclose(file);
    throw;
  }

  for (std::FILE *file : s.opened_error_files)
    std::fclose(file);
  s.opened_error_files = std::move(opened);
  s.error_outputs = std::move(error_outputs);
  sinks.insert(sinks.end(), s.extra_sinks.begin(), s.extra_sinks.end());
  s.outputs->set_sinks(std::move(sinks));  // the previous files are closed here
  s.level = level;
  s.configured = true;

  spdlog::apply_all([&s](const std::shared_ptr<spdlog::logger> &logger) {
    // Only loggers made elsewhere (before the first call) get the shared sink; the sink
    // list of a logger already on it is never written again.
    if (logger->sinks().size() != 1 || logger->sinks().front() != s.outputs)
      logger->sinks() = {s.outputs};
    logger->set_level(s.level);
    logger->flush_on(spdlog::level::trace);
  });
  spdlog::set_default_logger(find_or_create_locked(s, kDefaultLoggerName));
  spdlog::set_error_handler(&report_logging_error);
}

}  // namespace

LogEncoding parse_log_encoding(std::string_view encoding) {
  if (encoding == "json")
    return LogEncoding::kJson;
  if (encoding == "console")
    return LogEncoding::kConsole;
  throw std::invalid_argument("unknown log encoding \"" + std::string(encoding) +
                              "\" (expected json or console)");
}

void configure_logging(const LogSettings &settings) {
  LoggingState &s = state();
  std::lock_guard lock(s.mutex);
  configure_locked(s, settings);
}

void add_extra_log_sink(std::shared_ptr<spdlog::sinks::sink> sink) {
  LoggingState &s = state();
  std::lock_guard lock(s.mutex);
  if (!s.configured)
    configure_locked(s, LogSettings{});
  s.extra_sinks.push_back(sink);
  s.outputs->add_sink(std::move(sink));
}

void remove_extra_log_sink(const std::shared_ptr<spdlog::sinks::sink> &sink) {
  LoggingState &s = state();
  std::lock_guard lock(s.mutex);
  std::erase(s.extra_sinks, sink);
  s.outputs->remove_sink(sink);
}

std::shared_ptr<spdlog::logger> get_logger(std::string_view name) {
  LoggingState &s = state();
  std::lock_guard lock(s.mutex);
  if (!s.configured)
    configure_locked(s, LogSettings{});
  return find_or_create_locked(s, name);
}

}  // namespace opsup::common
