#include "packages/package_format.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

namespace opsup::packages {

const char *to_string(PackageFormat format) {
  switch (format) {
    case PackageFormat::kElfExecutable:
      return "ELF executable";
    case PackageFormat::kGzipTarball:
      return "gzipped tarball";
    case PackageFormat::kUnknown:
      return "unknown";
  }
  return "unknown";
}

PackageFormat detect_package_format(const std::filesystem::path &file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw std::runtime_error("cannot open \"" + file.string() + "\": " + std::strerror(errno));
  }
  char magic[4] = {};
  std::size_t have = 0;
  while (have < sizeof(magic)) {
    const ssize_t count = ::read(fd, magic + have, sizeof(magic) - have);
    if (count < 0 && errno == EINTR)
      continue;
    if (count < 0) {
      const int saved = errno;
      ::close(fd);
      throw std::runtime_error("cannot read \"" + file.string() + "\": " + std::strerror(saved));
    }
    if (count == 0)
      break;
    have += static_cast<std::size_t>(count);
  }
  ::close(fd);
  const std::string_view head(magic, have);
  if (head == std::string_view("\x7f"
                               "ELF",
                               4))
    return PackageFormat::kElfExecutable;
  if (head.size() >= 2 && head.substr(0, 2) == "\x1f\x8b")
    return PackageFormat::kGzipTarball;
  return PackageFormat::kUnknown;
}

}  // namespace opsup::packages
