// The one wording of a failed file operation: cannot <step> "<path>": <strerror>.
#pragma once

#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

namespace opsup::storage {

inline std::runtime_error file_error(const std::filesystem::path &path, std::string_view step,
                                     int error_number) {
  return std::runtime_error("cannot " + std::string(step) + " \"" + path.string() +
                            "\": " + std::strerror(error_number));
}

}  // namespace opsup::storage
