// Internal: a read-only memory mapping of a whole file (for signatures over large files
// without reading them into memory).
#pragma once

#include <filesystem>
#include <string_view>

namespace opsup::packages {

class MappedFile {
 public:
  // Throws std::runtime_error naming the file and the failing step.
  explicit MappedFile(const std::filesystem::path &path);
  ~MappedFile();
  MappedFile(const MappedFile &) = delete;
  MappedFile &operator=(const MappedFile &) = delete;

  std::string_view content() const { return {static_cast<const char *>(data_), size_}; }

 private:
  void *data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace opsup::packages
