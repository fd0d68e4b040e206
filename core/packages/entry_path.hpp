// Internal: which archive entry paths are refused before anything is looked up by name.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace opsup::packages {

// Why `path` is unsafe (empty, absolute, or with a ".." component), or nullopt when it is
// a relative path inside the archive.
std::optional<std::string> unsafe_entry_path(std::string_view path);

// `path` without leading "./" components, e.g. "./otelcol-contrib" -> "otelcol-contrib".
std::string_view without_dot_prefix(std::string_view path);

}  // namespace opsup::packages
