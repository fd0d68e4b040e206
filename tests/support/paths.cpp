#include "support/paths.hpp"

#include <cstdlib>

namespace opsup::testing {

std::filesystem::path build_dir() {
  if (const char *dir = std::getenv("OPSUP_BUILD_DIR"); dir != nullptr && *dir != '\0') {
    return dir;
  }
  return std::filesystem::current_path().parent_path();
}

std::filesystem::path binary(const std::string &name) {
  return build_dir() / "bin" / name;
}

}  // namespace opsup::testing
