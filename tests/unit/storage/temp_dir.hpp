// A fresh directory under $TMPDIR (or /tmp), removed with everything in it.
#pragma once

#include <filesystem>
#include <string>

namespace opsup::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
  const std::filesystem::path &path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::string read_text(const std::filesystem::path &file);
void write_text(const std::filesystem::path &file, const std::string &text);
unsigned file_mode(const std::filesystem::path &path);  // permission bits, e.g. 0600

}  // namespace opsup::testing
