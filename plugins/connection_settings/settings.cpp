#include "settings.hpp"

#include <yaml-cpp/yaml.h>

#include <string>

namespace opsup::connection_settings {

Capabilities parse_capabilities(std::string_view supervisor_config_yaml) {
  Capabilities capabilities;
  try {
    const YAML::Node root = YAML::Load(std::string(supervisor_config_yaml));
    const YAML::Node section = root["capabilities"];
    if (!section || !section.IsMap())
      return capabilities;
    if (const YAML::Node key = section["reports_connection_settings_status"]; key && !key.IsNull())
      capabilities.reports_status = key.as<bool>();
  } catch (const YAML::Exception &error) {
    throw std::invalid_argument(std::string("capabilities.reports_connection_settings_status: ") +
                                error.what());
  }
  return capabilities;
}

}  // namespace opsup::connection_settings
