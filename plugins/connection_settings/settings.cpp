#include "settings.hpp"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <string>

namespace opsup::connection_settings {

Capabilities parse_capabilities(std::string_view supervisor_config_yaml) {
  Capabilities capabilities;
  const char *at = "capabilities";
  try {
    const YAML::Node root = YAML::Load(std::string(supervisor_config_yaml));
    if (!root.IsMap())
      return capabilities;
    if (const YAML::Node storage = root["storage"]; storage && storage.IsMap()) {
      if (const YAML::Node directory = storage["directory"];
          directory && directory.IsScalar() && !directory.Scalar().empty()) {
        std::error_code error;
        const auto absolute = std::filesystem::absolute(directory.Scalar(), error);
        if (!error)
          capabilities.storage_directory = absolute.lexically_normal().string();
      }
    }
    const YAML::Node section = root["capabilities"];
    if (!section || !section.IsMap())
      return capabilities;
    at = "capabilities.reports_connection_settings_status";
    if (const YAML::Node key = section["reports_connection_settings_status"]; key && !key.IsNull())
      capabilities.reports_status = key.as<bool>();
    at = "capabilities.accepts_other_connection_settings";
    if (const YAML::Node key = section["accepts_other_connection_settings"]; key && !key.IsNull())
      capabilities.accepts_other = key.as<bool>();
  } catch (const YAML::Exception &error) {
    throw std::invalid_argument(std::string(at) + ": " + error.what());
  }
  return capabilities;
}

}  // namespace opsup::connection_settings
