// A private temporary directory, removed with everything in it.
#pragma once

#include <filesystem>
#include <string>

namespace opsup::testing {

class TempDir {
 public:
  TempDir();  // mkdtemp under /tmp, mode 0700; throws std::runtime_error on failure
  ~TempDir();
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;

  const std::filesystem::path &path() const { return path_; }
  // Writes `content` to path()/relative (parents created) and returns the full path.
  std::filesystem::path write_file(const std::string &relative, const std::string &content) const;

 private:
  std::filesystem::path path_;
};

// The whole content of a file; empty when it cannot be read.
std::string read_file(const std::filesystem::path &path);

}  // namespace opsup::testing
