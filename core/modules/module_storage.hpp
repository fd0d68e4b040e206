// Files modules keep in the storage directory (host services storage_read and
// storage_write). Names are plain file names; writes replace the file atomically.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace opsup::modules {

// Why `file_name` is not usable by a module ("contains '/'", ...), or nullopt. Plain
// names only: not empty, no '/', no NUL, not "." or "..". persistent_state.yaml is the
// core's and may be read but not written (`for_write`).
std::optional<std::string> storage_name_problem(std::string_view file_name, bool for_write);

enum class StorageReadResult { kOk, kNotFound, kFailed };

// Reads the whole file into `content`; on failure `error` says what and where.
StorageReadResult read_storage_file(const std::filesystem::path &directory,
                                    const std::string &file_name, std::string &content,
                                    std::string &error);

// Replaces the file atomically: write a temporary file beside it (mode 0600), fsync,
// rename over the target, fsync the directory. Creates the directory (0700) if missing.
// Returns false with `error` set on failure; the old file is then left untouched.
bool write_storage_file_atomically(const std::filesystem::path &directory,
                                   const std::string &file_name, std::string_view content,
                                   std::string &error);

}  // namespace opsup::modules
