#include "stored_status.hpp"

#include <yaml-cpp/yaml.h>

namespace opsup::connection_settings {
std::string status_yaml(const StoredStatus &status) {
  YAML::Emitter out;
  out << YAML::Flow << YAML::BeginMap;
  out << YAML::Key << "status" << YAML::Value << status.status;
  out << YAML::Key << "last_connection_settings_hash" << YAML::Value << YAML::DoubleQuoted
      << to_hex(status.hash);
  out << YAML::Key << "error_message" << YAML::Value << YAML::DoubleQuoted << status.error_message;
  out << YAML::EndMap;
  return out.c_str();
}

std::optional<StoredStatus> parse_status_yaml(std::string_view yaml) {
  try {
    const YAML::Node node = YAML::Load(std::string(yaml));
    if (!node.IsMap())
      return std::nullopt;
    StoredStatus status;
    status.status = node["status"] ? node["status"].as<int>() : 0;
    if (status.status < 0 || status.status > 3)
      return std::nullopt;
    if (const YAML::Node hash = node["last_connection_settings_hash"]; hash) {
      auto bytes = from_hex(hash.as<std::string>());
      if (!bytes)
        return std::nullopt;
      status.hash = std::move(*bytes);
    }
    if (const YAML::Node message = node["error_message"]; message)
      status.error_message = message.as<std::string>();
    return status;
  } catch (const YAML::Exception &) {
    return std::nullopt;
  }
}

}  // namespace opsup::connection_settings
