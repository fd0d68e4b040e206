// Whole-file writes that never leave a torn file behind: write a temporary file in the
// same directory, fsync it, rename it over the target, fsync the directory.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace opsup::storage {

inline constexpr std::filesystem::perms kPrivateFileMode =
    std::filesystem::perms::owner_read | std::filesystem::perms::owner_write;  // 0600

// Replaces `path` with `contents` atomically; the file gets `mode`. Throws
// std::runtime_error naming the file and the failing step. Blocking (fsync): keep it to
// small files on the loop thread.
void write_file_atomically(const std::filesystem::path &path, std::string_view contents,
                           std::filesystem::perms mode = kPrivateFileMode);

// The whole file, or nullopt when it does not exist. Throws std::runtime_error naming
// the file on any other failure.
std::optional<std::string> read_file_if_exists(const std::filesystem::path &path);

// Creates `directory` (and missing parents) with mode 0700 when absent. Throws
// std::runtime_error naming the directory on failure.
void ensure_private_directory(const std::filesystem::path &directory);

}  // namespace opsup::storage
