#include "collector/executable_files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace opsup::collector {
namespace {

std::string failure(const std::string &what, int error) {
  return what + ": " + std::strerror(error);
}

void fsync_directory(const std::filesystem::path &directory) {
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    throw std::runtime_error(failure("cannot open directory " + directory.string(), errno));
  const int result = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (result != 0)
    throw std::runtime_error(failure("cannot fsync directory " + directory.string(), error));
}

}  // namespace

void keep_backup(const std::filesystem::path &executable, const std::filesystem::path &backup) {
  remove_quietly(backup);
  if (::link(executable.c_str(), backup.c_str()) != 0) {
    const int error = errno;
    if (error != EPERM && error != EXDEV && error != EMLINK && error != ENOTSUP)
      throw std::runtime_error(failure(
          "cannot keep " + executable.string() + " as " + backup.string() + " (link)", error));
    // No hard links here: a copy (written under a temporary name, then renamed).
    std::filesystem::path temporary = backup;
    temporary += ".tmp";
    std::error_code copy_error;
    std::filesystem::copy_file(executable, temporary,
                               std::filesystem::copy_options::overwrite_existing, copy_error);
    if (copy_error) {
      remove_quietly(temporary);
      throw std::runtime_error("cannot copy " + executable.string() + " to " + temporary.string() +
                               ": " + copy_error.message());
    }
    const int fd = ::open(temporary.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      ::fsync(fd);
      ::close(fd);
    }
    rename_durably(temporary, backup);
    return;
  }
  fsync_directory(backup.parent_path());
}

void rename_durably(const std::filesystem::path &from, const std::filesystem::path &to) {
  if (::rename(from.c_str(), to.c_str()) != 0)
    throw std::runtime_error(
        failure("cannot rename " + from.string() + " to " + to.string(), errno));
  fsync_directory(to.parent_path());
}

void remove_quietly(const std::filesystem::path &path) {
  std::error_code ignored;
  std::filesystem::remove(path, ignored);
}

}  // namespace opsup::collector
