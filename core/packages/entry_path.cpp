#include "packages/entry_path.hpp"

namespace opsup::packages {

std::optional<std::string> unsafe_entry_path(std::string_view path) {
  if (path.empty())
    return "empty path";
  if (path.front() == '/')
    return "absolute path";
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    if (path.substr(start, end - start) == "..")
      return "\"..\" component";
    start = end + 1;
  }
  return std::nullopt;
}

std::string_view without_dot_prefix(std::string_view path) {
  while (path.substr(0, 2) == "./") {
    path.remove_prefix(2);
    while (!path.empty() && path.front() == '/')
      path.remove_prefix(1);
  }
  return path;
}

}  // namespace opsup::packages
