// Where capability modules are loaded from: --modules-dir, else plugins.directory, else
// <directory of the executable>/../lib/opampsupervisor/modules.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace opsup::app {

std::filesystem::path resolve_module_directory(const std::optional<std::string> &cli_override,
                                               const std::filesystem::path &configured);

}  // namespace opsup::app
