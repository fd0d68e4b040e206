#include "app/module_directory.hpp"

#include "modules/module_loader.hpp"

namespace opsup::app {

std::filesystem::path resolve_module_directory(const std::optional<std::string> &cli_override,
                                               const std::filesystem::path &configured) {
  if (cli_override)
    return *cli_override;
  if (!configured.empty())
    return configured;
  return modules::default_module_directory();
}

}  // namespace opsup::app
