// The file operations of a Collector executable update, each durable before it returns:
// keeping the old executable as a backup (a hard link, or a copy where links are not
// possible), and atomic replacement by rename(2) in the same directory followed by an fsync
// of that directory. Blocking: call them off the loop, or at start-up.
#pragma once

#include <filesystem>

namespace opsup::collector {

// Makes `backup` a second name of `executable` (or a copy with its mode), replacing an
// older `backup`. Throws std::runtime_error naming the files.
void keep_backup(const std::filesystem::path &executable, const std::filesystem::path &backup);

// Renames `from` onto `to` (same directory, so atomic) and fsyncs the directory. Throws
// std::runtime_error naming both.
void rename_durably(const std::filesystem::path &from, const std::filesystem::path &to);

// Removes `path` if it exists, ignoring errors (leftovers of an earlier attempt).
void remove_quietly(const std::filesystem::path &path);

}  // namespace opsup::collector
