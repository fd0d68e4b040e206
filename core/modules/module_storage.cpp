#include "modules/module_storage.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace opsup::modules {
namespace {

constexpr std::string_view kCoreStateFile = "persistent_state.yaml";

std::string errno_text(const std::string &what, const std::filesystem::path &path) {
  return what + " " + path.string() + ": " + std::strerror(errno);
}

// Closes a descriptor on every path out of a function.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor &) = delete;
  FileDescriptor &operator=(const FileDescriptor &) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now and reports close's own failure (it can carry a delayed write error).
  bool close() {
    const int fd = fd_;
    fd_ = -1;
    return ::close(fd) == 0;
  }

 private:
  int fd_;
};

bool write_all(int fd, std::string_view content) {
  while (!content.empty()) {
    const ssize_t written = ::write(fd, content.data(), content.size());
    if (written < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    content.remove_prefix(static_cast<size_t>(written));
  }
  return true;
}

}  // namespace

// Builds "\"name\"<suffix>" by appending (GCC 12 warns falsely on "lit" + std::string).
std::string quoted(std::string_view name, std::string_view suffix) {
  std::string text;
  text.reserve(name.size() + suffix.size() + 2);
  text += '"';
  text += name;
  text += '"';
  text += suffix;
  return text;
}

std::optional<std::string> storage_name_problem(std::string_view file_name, bool for_write) {
  if (file_name.empty())
    return "the file name is empty";
  if (file_name == "." || file_name == "..")
    return quoted(file_name, " is not a file name");
  if (file_name.find('/') != std::string_view::npos) {
    return quoted(file_name, " contains '/' (plain file names only)");
  }
  if (file_name.find('\0') != std::string_view::npos)
    return "the file name contains NUL";
  if (for_write && file_name == kCoreStateFile) {
    return std::string(kCoreStateFile) + " is owned by the supervisor core";
  }
  return std::nullopt;
}

StorageReadResult read_storage_file(const std::filesystem::path &directory,
                                    const std::string &file_name, std::string &content,
                                    std::string &error) {
  const std::filesystem::path path = directory / file_name;
  FileDescriptor file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (file.get() < 0) {
    if (errno == ENOENT)
      return StorageReadResult::kNotFound;
    error = errno_text("cannot open", path);
    return StorageReadResult::kFailed;
  }
  std::string result;
  char buffer[16384];
  for (;;) {
    const ssize_t count = ::read(file.get(), buffer, sizeof buffer);
    if (count == 0)
      break;
    if (count < 0) {
      if (errno == EINTR)
        continue;
      error = errno_text("cannot read", path);
      return StorageReadResult::kFailed;
    }
    result.append(buffer, static_cast<size_t>(count));
  }
  content = std::move(result);
  return StorageReadResult::kOk;
}

bool write_storage_file_atomically(const std::filesystem::path &directory,
                                   const std::string &file_name, std::string_view content,
                                   std::string &error) {
  std::error_code ec;
  if (!std::filesystem::exists(directory, ec)) {
    std::filesystem::create_directories(directory, ec);
    if (ec) {
      error = "cannot create storage directory " + directory.string() + ": " + ec.message();
      return false;
    }
    ::chmod(directory.c_str(), 0700);
  }
  const std::filesystem::path target = directory / file_name;
  const std::filesystem::path temporary =
      directory / ("." + file_name + ".tmp." + std::to_string(::getpid()));

  FileDescriptor file(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (file.get() < 0) {
    error = errno_text("cannot create", temporary);
    return false;
  }
  if (!write_all(file.get(), content) || ::fsync(file.get()) != 0 || !file.close()) {
    error = errno_text("cannot write", temporary);
    ::unlink(temporary.c_str());
    return false;
  }
  if (::rename(temporary.c_str(), target.c_str()) != 0) {
    error = errno_text("cannot rename " + temporary.string() + " to", target);
    ::unlink(temporary.c_str());
    return false;
  }
  FileDescriptor dir(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0 || ::fsync(dir.get()) != 0) {
    error = errno_text("cannot fsync directory", directory);
    return false;
  }
  return true;
}

}  // namespace opsup::modules
