#include "paths.hpp"

#include <filesystem>
#include <system_error>

namespace opsup::config_policy {
namespace fs = std::filesystem;

std::string glob_fixed_prefix(const std::string &pattern) {
  const size_t magic = pattern.find_first_of("*?[{");
  if (magic == std::string::npos)
    return pattern;
  const size_t slash = pattern.rfind('/', magic);
  if (slash == std::string::npos)
    return "";
  return slash == 0 ? "/" : pattern.substr(0, slash);
}

std::string resolve_path(const std::string &path) {
  fs::path normal = fs::path(path).lexically_normal();
  // Walk up to the longest prefix that exists, realpath it, re-append the rest.
  fs::path existing = normal;
  fs::path rest;
  std::error_code ec;
  while (!existing.empty() && !fs::exists(existing, ec)) {
    rest = existing.filename() / rest;
    if (existing == existing.parent_path())
      break;
    existing = existing.parent_path();
  }
  fs::path real = fs::canonical(existing, ec);
  if (ec)
    return normal.string();
  fs::path out = rest.empty() ? real : (real / rest).lexically_normal();
  std::string text = out.string();
  while (text.size() > 1 && text.back() == '/')
    text.pop_back();
  return text;
}

bool is_within(const std::string &path, const std::string &prefix) {
  if (prefix == "/")
    return !path.empty() && path.front() == '/';
  return path == prefix ||
         (path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0 &&
          path[prefix.size()] == '/');
}

std::optional<std::string> check_path(const std::string &value, const AllowDeny &rules,
                                      const std::string &key) {
  if (rules.allow.empty() && rules.deny.empty())
    return std::nullopt;
  const std::string fixed = glob_fixed_prefix(value);
  const bool is_glob = fixed != value;
  if (fixed.empty() || fixed.front() != '/')
    return "access_dirs." + key + " (a relative path cannot be checked)";
  const std::string resolved = resolve_path(fixed);
  for (const std::string &deny : rules.deny) {
    const std::string denied = resolve_path(deny);
    // A glob whose fixed prefix lies above a denied directory may match inside it.
    if (is_within(resolved, denied) || (is_glob && is_within(denied, resolved)))
      return "access_dirs." + key + ".deny: " + deny;
  }
  if (rules.allow.empty())
    return std::nullopt;
  for (const std::string &allow : rules.allow) {
    if (is_within(resolved, resolve_path(allow)))
      return std::nullopt;
  }
  return "access_dirs." + key + ".allow (resolves to " + resolved + ")";
}

}  // namespace opsup::config_policy
