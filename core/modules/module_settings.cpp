#include "modules/module_settings.hpp"

#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include "common/yaml_emit.hpp"

namespace opsup::modules {

std::map<std::string, std::string> module_settings_sections(
    std::string_view supervisor_config_yaml) {
  std::map<std::string, std::string> sections;
  try {
    const YAML::Node root = YAML::Load(std::string(supervisor_config_yaml));
    if (!root.IsMap())
      return sections;
    // Iterate instead of root["plugins"]: a module id contains dots, and lookups by
    // operator[] on a non-const node would add keys.
    for (auto top = root.begin(); top != root.end(); ++top) {
      if (!top->first.IsScalar() || top->first.Scalar() != "plugins" || !top->second.IsMap())
        continue;
      for (auto entry = top->second.begin(); entry != top->second.end(); ++entry) {
        if (!entry->first.IsScalar())
          continue;
        const std::string &id = entry->first.Scalar();
        if (id == "directory" || id == "disable" || common::is_yaml_null(entry->second))
          continue;
        sections[id] = common::emit_yaml(entry->second);
      }
    }
  } catch (const std::exception &error) {
    // The host emitted this text itself, so this is a bug; modules then see no section.
    spdlog::error("cannot read plugins sections from the supervisor config: {}", error.what());
    sections.clear();
  }
  return sections;
}

}  // namespace opsup::modules
