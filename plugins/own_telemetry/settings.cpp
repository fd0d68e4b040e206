#include "settings.hpp"

#include <yaml-cpp/yaml.h>

#include <filesystem>

namespace opsup::own_telemetry {
namespace {

YAML::Node load(std::string_view text) {
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception &) {
    return {};
  }
}

// `map[key]`, or an undefined node when `map` is not a map or lacks the key (yaml-cpp
// throws on most calls to the node a const lookup returns for a missing key).
YAML::Node child(const YAML::Node &map, const char *key) {
  if (!map.IsDefined() || !map.IsMap())
    return YAML::Node(YAML::NodeType::Undefined);
  const YAML::Node value = map[key];
  if (!value.IsDefined())
    return YAML::Node(YAML::NodeType::Undefined);
  return value;
}

// The value of a boolean key, nullopt when absent or not a boolean.
std::optional<bool> boolean(const YAML::Node &map, const char *key) {
  const YAML::Node value = child(map, key);
  bool result = false;
  if (!value.IsDefined() || !value.IsScalar() || !YAML::convert<bool>::decode(value, result))
    return std::nullopt;
  return result;
}

}  // namespace

Settings parse_supervisor_settings(std::string_view supervisor_config_yaml,
                                   std::string_view own_section) {
  Settings settings;
  const YAML::Node root = load(supervisor_config_yaml);
  const YAML::Node directory = child(child(root, "storage"), "directory");
  if (directory.IsDefined() && directory.IsScalar() && !directory.Scalar().empty()) {
    std::error_code error;
    const std::filesystem::path absolute = std::filesystem::absolute(directory.Scalar(), error);
    if (!error)
      settings.storage_directory = absolute.lexically_normal().string();
  }
  const YAML::Node capabilities = child(root, "capabilities");
  const char *keys[] = {"reports_own_metrics", "reports_own_logs", "reports_own_traces"};
  for (size_t i = 0; i < 3; ++i) {
    if (auto value = boolean(capabilities, keys[i]))
      settings.enabled[i] = *value;
  }
  const YAML::Node own = load(own_section);
  if (own.IsDefined() && own.IsMap()) {
    for (const auto &entry : own) {
      const std::string key = entry.first.Scalar();
      if (key != "metrics_interval") {
        throw SettingsError("plugins.own_telemetry." + key +
                            ": unknown key (the module knows metrics_interval)");
      }
    }
  } else if (own.IsDefined() && !own.IsNull()) {
    throw SettingsError("plugins.own_telemetry: must be a map");
  }
  return settings;
}

}  // namespace opsup::own_telemetry
