// A log file appended to across runs, never truncated at a start, and rotated by size so it
// cannot fill the disk: <path> -> <path>.1 -> ... -> <path>.<keep_files>, the oldest
// dropped. The Collector's output (agent.log) and the supervisor's own log files
// (telemetry.logs.rotation) are kept this way.
//
// Threading: not thread-safe; the supervisor's loop owns it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>

namespace opsup::common {

class RotatingLogFile {
 public:
  // Opens (creating with mode 0600) for appending. Throws std::runtime_error naming the path.
  // max_bytes == 0 turns rotation off; keep_files is how many rotated files are kept.
  RotatingLogFile(std::filesystem::path path, std::uint64_t max_bytes, int keep_files);
  ~RotatingLogFile();
  RotatingLogFile(const RotatingLogFile &) = delete;
  RotatingLogFile &operator=(const RotatingLogFile &) = delete;

  // Appends `line` and a newline, rotating first when the file would grow past max_bytes.
  // A write error is counted, not thrown: losing log lines must not stop the Collector.
  void write_line(std::string_view line);
  // The same for text that already ends as it should (one or more whole lines).
  void write(std::string_view text);

  std::uint64_t write_errors() const { return write_errors_; }
  const std::filesystem::path &path() const { return path_; }

 private:
  void open_file();
  void rotate();

  std::filesystem::path path_;
  std::uint64_t max_bytes_;
  int keep_files_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
  std::uint64_t write_errors_ = 0;
};

}  // namespace opsup::common
