// Builds gzipped tarballs for the extraction tests with libarchive, including hostile
// entries that the tar command would refuse to write. libarchive stays in the .cpp.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace opsup::testing {

struct TarEntry {
  enum class Kind { kFile, kDirectory, kSymlink, kHardlink, kFifo, kCharDevice };
  std::string path;
  Kind kind = Kind::kFile;
  std::string content;           // kFile
  std::uint64_t zero_bytes = 0;  // kFile: this many zero bytes instead of `content`
  std::string link_target;       // kSymlink, kHardlink
  unsigned mode = 0755;          // permission bits
};

inline TarEntry file(std::string path, std::string content) {
  return TarEntry{std::move(path), TarEntry::Kind::kFile, std::move(content), 0, {}};
}
// A file without execute bits (a LICENSE, a README).
inline TarEntry data_file(std::string path, std::string content) {
  return TarEntry{std::move(path), TarEntry::Kind::kFile, std::move(content), 0, {}, 0644};
}
inline TarEntry zeros(std::string path, std::uint64_t bytes) {
  return TarEntry{std::move(path), TarEntry::Kind::kFile, {}, bytes, {}};
}
inline TarEntry directory(std::string path) {
  return TarEntry{std::move(path), TarEntry::Kind::kDirectory, {}, 0, {}};
}
inline TarEntry symlink(std::string path, std::string target) {
  return TarEntry{std::move(path), TarEntry::Kind::kSymlink, {}, 0, std::move(target)};
}
inline TarEntry hardlink(std::string path, std::string target) {
  return TarEntry{std::move(path), TarEntry::Kind::kHardlink, {}, 0, std::move(target)};
}
inline TarEntry special(std::string path, TarEntry::Kind kind) {
  return TarEntry{std::move(path), kind, {}, 0, {}};
}

void write_tar_gz(const std::filesystem::path &file, const std::vector<TarEntry> &entries);

}  // namespace opsup::testing
