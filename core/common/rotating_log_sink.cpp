#include "common/rotating_log_sink.hpp"

#include <string_view>

#include "common/rotating_log_file.hpp"

namespace opsup::common {

RotatingLogSink::RotatingLogSink(std::filesystem::path path, std::uint64_t max_bytes,
                                 int keep_files)
    : file_(std::make_unique<RotatingLogFile>(std::move(path), max_bytes, keep_files)) {}

RotatingLogSink::~RotatingLogSink() = default;

void RotatingLogSink::sink_it_(const spdlog::details::log_msg &msg) {
  spdlog::memory_buf_t formatted;
  formatter_->format(msg, formatted);
  file_->write(std::string_view(formatted.data(), formatted.size()));
}

}  // namespace opsup::common
