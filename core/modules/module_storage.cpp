#include "modules/module_storage.hpp"

#include <stdexcept>

#include "storage/atomic_file.hpp"

namespace opsup::modules {
namespace {

constexpr std::string_view kCoreStateFile = "persistent_state.yaml";

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

// Modules cross a C boundary, so core/storage's exceptions become status + text here.
StorageReadResult read_storage_file(const std::filesystem::path &directory,
                                    const std::string &file_name, std::string &content,
                                    std::string &error) {
  try {
    std::optional<std::string> text = storage::read_file_if_exists(directory / file_name);
    if (!text)
      return StorageReadResult::kNotFound;
    content = std::move(*text);
    return StorageReadResult::kOk;
  } catch (const std::exception &failure) {
    error = failure.what();
    return StorageReadResult::kFailed;
  }
}

bool write_storage_file_atomically(const std::filesystem::path &directory,
                                   const std::string &file_name, std::string_view content,
                                   std::string &error) {
  try {
    storage::ensure_private_directory(directory);
    storage::write_file_atomically(directory / file_name, content);
    return true;
  } catch (const std::exception &failure) {
    error = failure.what();
    return false;
  }
}

}  // namespace opsup::modules
