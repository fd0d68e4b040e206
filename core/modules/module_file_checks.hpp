// Hygiene of module files: what may be loaded into the supervisor's address space.
// A module must be a regular file (a symlink is refused, checked with lstat), and the
// file and its directory must be owned by root or by the supervisor's effective user and
// not writable by group or others.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace opsup::modules {

// Why `file` must not be loaded ("is a symbolic link", "is writable by group or others
// (mode 0664)", ...), or nullopt when it may. The reason does not repeat the path.
std::optional<std::string> module_file_problem(const std::filesystem::path &file);

// Why modules in `directory` must not be loaded, or nullopt when they may.
std::optional<std::string> module_directory_problem(const std::filesystem::path &directory);

}  // namespace opsup::modules
