#include "packages/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "storage/file_error.hpp"

namespace opsup::packages {

using storage::file_error;
MappedFile::MappedFile(const std::filesystem::path &path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw file_error(path, "open", errno);
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    const int saved = errno;
    ::close(fd);
    throw file_error(path, "stat", saved);
  }
  if (!S_ISREG(info.st_mode)) {
    ::close(fd);
    throw std::runtime_error("cannot read \"" + path.string() + "\": not a regular file");
  }
  size_ = static_cast<std::size_t>(info.st_size);
  if (size_ > 0) {
    data_ = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (data_ == MAP_FAILED) {
      const int saved = errno;
      data_ = nullptr;
      ::close(fd);
      throw file_error(path, "map", saved);
    }
  }
  ::close(fd);
}

MappedFile::~MappedFile() {
  if (data_)
    ::munmap(data_, size_);
}

}  // namespace opsup::packages
