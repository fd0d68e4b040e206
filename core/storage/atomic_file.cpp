#include "storage/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "storage/atomic_writer.hpp"
#include "storage/file_error.hpp"

namespace opsup::storage {
void write_file_atomically(const std::filesystem::path &path, std::string_view contents,
                           std::filesystem::perms mode) {
  AtomicFileWriter writer(path, mode);
  writer.write(contents);
  writer.commit();
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
