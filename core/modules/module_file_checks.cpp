#include "modules/module_file_checks.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace opsup::modules {
namespace {

std::string octal_mode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

// Ownership and write permission shared by files and directories.
std::optional<std::string> ownership_problem(const struct stat &info, const std::string &what) {
  const uid_t euid = geteuid();
  if (info.st_uid != 0 && info.st_uid != euid) {
    return std::string(what) + " is owned by uid " + std::to_string(info.st_uid) +
           ", not by root or the supervisor's user (uid " + std::to_string(euid) + ")";
  }
  if ((info.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return what + " is writable by group or others (mode " + octal_mode(info.st_mode) + ")";
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> module_file_problem(const std::filesystem::path &file) {
  struct stat info {};
  if (::lstat(file.c_str(), &info) != 0) {
    return std::string("cannot be inspected: ") + std::strerror(errno);
  }
  if (S_ISLNK(info.st_mode))
    return "is a symbolic link (modules must be regular files)";
  if (!S_ISREG(info.st_mode))
    return "is not a regular file";
  if (auto problem = ownership_problem(info, "the file"))
    return problem;
  return module_directory_problem(file.parent_path().empty() ? "." : file.parent_path());
}

std::optional<std::string> module_directory_problem(const std::filesystem::path &directory) {
  struct stat info {};
  if (::stat(directory.c_str(), &info) != 0) {
    return "its directory " + directory.string() + " cannot be inspected: " + std::strerror(errno);
  }
  if (!S_ISDIR(info.st_mode))
    return "its directory " + directory.string() + " is not a directory";
  return ownership_problem(info, "its directory " + directory.string());
}

}  // namespace opsup::modules
