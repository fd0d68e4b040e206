// An spdlog sink writing to a RotatingLogFile: the supervisor's own log files with
// telemetry.logs.rotation, named and rotated like agent.log (<path>.1 ... <path>.<keep>).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>

#include <spdlog/sinks/base_sink.h>

namespace opsup::common {

class RotatingLogFile;

class RotatingLogSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  // Throws std::runtime_error naming the path when it cannot be opened.
  RotatingLogSink(std::filesystem::path path, std::uint64_t max_bytes, int keep_files);
  ~RotatingLogSink() override;

 protected:
  void sink_it_(const spdlog::details::log_msg &msg) override;
  void flush_() override {}  // every write goes straight to the file

 private:
  std::unique_ptr<RotatingLogFile> file_;
};

}  // namespace opsup::common
