#include "common/rotating_log_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace opsup::common {

RotatingLogFile::RotatingLogFile(std::filesystem::path path, std::uint64_t max_bytes,
                                 int keep_files)
    : path_(std::move(path)), max_bytes_(max_bytes), keep_files_(keep_files < 0 ? 0 : keep_files) {
  open_file();
}

RotatingLogFile::~RotatingLogFile() {
  if (fd_ >= 0)
    ::close(fd_);
}

void RotatingLogFile::open_file() {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd_ < 0)
    throw std::runtime_error("cannot open " + path_.string() + ": " + std::strerror(errno));
  struct stat info {};
  size_ = ::fstat(fd_, &info) == 0 ? static_cast<std::uint64_t>(info.st_size) : 0;
}

void RotatingLogFile::rotate() {
  ::close(fd_);
  fd_ = -1;
  std::error_code ignored;
  if (keep_files_ == 0) {
    std::filesystem::remove(path_, ignored);
  } else {
    auto numbered = [&](int n) {
      return std::filesystem::path(path_.string() + "." + std::to_string(n));
    };
    std::filesystem::remove(numbered(keep_files_), ignored);
    for (int n = keep_files_ - 1; n >= 1; --n)
      std::filesystem::rename(numbered(n), numbered(n + 1), ignored);
    std::filesystem::rename(path_, numbered(1), ignored);
  }
  open_file();
}

void RotatingLogFile::write_line(std::string_view line) {
  std::string text(line);
  text.push_back('\n');
  write(text);
}

void RotatingLogFile::write(std::string_view text) {
  if (max_bytes_ > 0 && size_ > 0 && size_ + text.size() > max_bytes_) {
    try {
      rotate();
    } catch (const std::runtime_error &) {
      ++write_errors_;
      return;
    }
  }
  if (fd_ < 0) {
    ++write_errors_;
    return;
  }
  const char *data = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    const ssize_t n = ::write(fd_, data, left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      ++write_errors_;
      return;
    }
    data += n;
    left -= static_cast<std::size_t>(n);
    size_ += static_cast<std::uint64_t>(n);
  }
}

}  // namespace opsup::common
