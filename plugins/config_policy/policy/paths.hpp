// Path checks for access_dirs: normalise, resolve symlinks of the existing prefix, and test
// a path (or a glob's fixed prefix) against allow and deny prefixes.
#pragma once

#include <optional>
#include <string>

#include "settings.hpp"

namespace opsup::config_policy {

// The part of a glob before its first component holding * ? [ or {; the whole path when
// there is none. "/var/log/*/x.log" -> "/var/log".
std::string glob_fixed_prefix(const std::string &pattern);

// Lexically normalised (".." and "." removed), then the longest existing prefix replaced
// by its realpath. Only meaningful for absolute paths.
std::string resolve_path(const std::string &path);

// True when `path` is `prefix` or inside it (component-wise, both already resolved).
bool is_within(const std::string &path, const std::string &prefix);

// Checks one path value (a glob is checked by its fixed prefix). Returns the rule broken,
// such as "access_dirs.read.deny: /etc", or nullopt. `key` is "read" or "write".
std::optional<std::string> check_path(const std::string &value, const AllowDeny &rules,
                                      const std::string &key);

}  // namespace opsup::config_policy
