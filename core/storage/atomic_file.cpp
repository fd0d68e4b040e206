#include "storage/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace opsup::storage {
namespace {

std::runtime_error file_error(const std::filesystem::path &path, std::string_view step,
                              int error_number) {
  return std::runtime_error("cannot " + std::string(step) + " \"" + path.string() +
                            "\": " + std::strerror(error_number));
}

// Closes the descriptor and removes the temporary file unless released.
class TempFile {
 public:
  TempFile(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}
  ~TempFile() {
    if (fd_ >= 0)
      ::close(fd_);
    if (!path_.empty())
      ::unlink(path_.c_str());
  }
  TempFile(const TempFile &) = delete;
  TempFile &operator=(const TempFile &) = delete;

  int fd() const { return fd_; }
  const std::filesystem::path &path() const { return path_; }
  int close() {
    const int result = ::close(fd_);
    fd_ = -1;
    return result;
  }
  void release() { path_.clear(); }

 private:
  int fd_;
  std::filesystem::path path_;
};

void write_all(const TempFile &file, std::string_view contents,
               const std::filesystem::path &target) {
  while (!contents.empty()) {
    const ssize_t written = ::write(file.fd(), contents.data(), contents.size());
    if (written < 0) {
      if (errno == EINTR)
        continue;
      throw file_error(target, "write temporary file for", errno);
    }
    contents.remove_prefix(static_cast<std::size_t>(written));
  }
}

void fsync_directory(const std::filesystem::path &directory) {
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    throw file_error(directory, "open directory", errno);
  const int result = ::fsync(fd);
  const int saved_errno = errno;
  ::close(fd);
  if (result != 0)
    throw file_error(directory, "fsync directory", saved_errno);
}

}  // namespace

void write_file_atomically(const std::filesystem::path &path, std::string_view contents,
                           std::filesystem::perms mode) {
  std::filesystem::path directory = path.parent_path();
  if (directory.empty())
    directory = ".";
  // GCC 12 warns falsely (-Wrestrict) about "." + std::string, hence append().
  std::string temp_name(".");
  temp_name.append(path.filename().string()).append(".tmp-XXXXXX");
  std::string pattern = (directory / temp_name).string();
  const int fd = ::mkostemp(pattern.data(), O_CLOEXEC);
  if (fd < 0)
    throw file_error(path, "create temporary file for", errno);
  TempFile temp(fd, pattern);

  if (::fchmod(temp.fd(), static_cast<mode_t>(mode)) != 0) {
    throw file_error(path, "set the mode of the temporary file for", errno);
  }
  write_all(temp, contents, path);
  if (::fsync(temp.fd()) != 0)
    throw file_error(path, "fsync temporary file for", errno);
  if (temp.close() != 0)
    throw file_error(path, "close temporary file for", errno);
  if (::rename(temp.path().c_str(), path.c_str()) != 0) {
    throw file_error(path, "rename temporary file over", errno);
  }
  temp.release();
  fsync_directory(directory);
}

std::optional<std::string> read_file_if_exists(const std::filesystem::path &path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT)
      return std::nullopt;
    throw file_error(path, "open", errno);
  }
  std::string contents;
  char buffer[16384];
  for (;;) {
    const ssize_t count = ::read(fd, buffer, sizeof(buffer));
    if (count == 0)
      break;
    if (count < 0) {
      if (errno == EINTR)
        continue;
      const int saved_errno = errno;
      ::close(fd);
      throw file_error(path, "read", saved_errno);
    }
    contents.append(buffer, static_cast<std::size_t>(count));
  }
  ::close(fd);
  return contents;
}

void ensure_private_directory(const std::filesystem::path &directory) {
  std::error_code error;
  if (std::filesystem::is_directory(directory, error))
    return;
  std::filesystem::create_directories(directory, error);
  if (error) {
    throw std::runtime_error("error creating storage dir \"" + directory.string() +
                             "\": " + error.message());
  }
  std::filesystem::permissions(directory, std::filesystem::perms::owner_all, error);
  if (error) {
    throw std::runtime_error("cannot set mode 0700 on \"" + directory.string() +
                             "\": " + error.message());
  }
}

}  // namespace opsup::storage
