#include "storage/atomic_writer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "storage/file_error.hpp"

namespace opsup::storage {
namespace {

std::filesystem::path directory_of(const std::filesystem::path &path) {
  std::filesystem::path directory = path.parent_path();
  return directory.empty() ? std::filesystem::path(".") : directory;
}

}  // namespace

AtomicFileWriter::AtomicFileWriter(std::filesystem::path target, std::filesystem::perms mode)
    : target_(std::move(target)) {
  std::string temp_name(".");
  temp_name.append(target_.filename().string()).append(".tmp-XXXXXX");
  std::string pattern = (directory_of(target_) / temp_name).string();
  fd_ = ::mkostemp(pattern.data(), O_CLOEXEC);
  if (fd_ < 0)
    throw file_error(target_, "create temporary file for", errno);
  temp_path_ = pattern;
  if (::fchmod(fd_, static_cast<mode_t>(mode)) != 0)
    throw file_error(target_, "set the mode of the temporary file for", errno);
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0)
    ::close(fd_);
  if (!temp_path_.empty())
    ::unlink(temp_path_.c_str());
}

void AtomicFileWriter::write(std::string_view chunk) {
  if (fd_ < 0)
    throw std::runtime_error("write after commit to \"" + target_.string() + "\"");
  while (!chunk.empty()) {
    const ssize_t written = ::write(fd_, chunk.data(), chunk.size());
    if (written < 0) {
      if (errno == EINTR)
        continue;
      throw file_error(target_, "write temporary file for", errno);
    }
    chunk.remove_prefix(static_cast<std::size_t>(written));
  }
}

void AtomicFileWriter::commit() {
  if (fd_ < 0)
    throw std::runtime_error("commit twice to \"" + target_.string() + "\"");
  if (::fsync(fd_) != 0)
    throw file_error(target_, "fsync temporary file for", errno);
  const int result = ::close(fd_);
  fd_ = -1;
  if (result != 0)
    throw file_error(target_, "close temporary file for", errno);
  if (::rename(temp_path_.c_str(), target_.c_str()) != 0)
    throw file_error(target_, "rename temporary file over", errno);
  temp_path_.clear();
  const std::filesystem::path directory = directory_of(target_);
  const int dir_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0)
    throw file_error(directory, "open directory", errno);
  const int synced = ::fsync(dir_fd);
  const int saved_errno = errno;
  ::close(dir_fd);
  if (synced != 0)
    throw file_error(directory, "fsync directory", saved_errno);
}

}  // namespace opsup::storage
