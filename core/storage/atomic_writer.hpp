// Streaming counterpart of write_file_atomically() for files too big to hold in memory
// (e.g. a Collector executable): chunks go to a temporary file in the target's directory;
// commit() fsyncs it, renames it over the target and fsyncs the directory. Destroyed
// without commit(), it removes the temporary file, so the target is either untouched or
// wholly replaced.
#pragma once

#include <filesystem>
#include <string_view>

namespace opsup::storage {

class AtomicFileWriter {
 public:
  // Creates the temporary file with `mode`. Throws std::runtime_error naming the target.
  AtomicFileWriter(std::filesystem::path target, std::filesystem::perms mode);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter &) = delete;
  AtomicFileWriter &operator=(const AtomicFileWriter &) = delete;

  void write(std::string_view chunk);  // throws std::runtime_error naming the target
  void commit();                       // throws std::runtime_error naming the target

 private:
  std::filesystem::path target_;
  std::filesystem::path temp_path_;
  int fd_ = -1;
};

}  // namespace opsup::storage
