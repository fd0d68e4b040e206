#include "collector/config_merge.hpp"

#include <yaml-cpp/yaml.h>

#include <set>
#include <string>
#include <vector>

#include "common/yaml_emit.hpp"

namespace opsup::collector {
namespace {

enum class ListRule { kReplace, kConcatenateUnique, kMergeByName };

ListRule list_rule(const std::vector<std::string> &path) {
  if (path == std::vector<std::string>{"service", "extensions"})
    return ListRule::kConcatenateUnique;
  if (path == std::vector<std::string>{"service", "telemetry", "resource", "attributes"})
    return ListRule::kMergeByName;
  return ListRule::kReplace;
}

std::string entry_name(const YAML::Node &entry) {
  if (entry.IsMap() && entry["name"] && entry["name"].IsScalar())
    return entry["name"].Scalar();
  return {};
}

YAML::Node concatenate_unique(const YAML::Node &base, const YAML::Node &overlay) {
  YAML::Node result(YAML::NodeType::Sequence);
  std::set<std::string> seen;
  for (const auto *list : {&base, &overlay}) {
    for (const auto &item : *list) {
      const std::string text = item.IsScalar() ? item.Scalar() : common::emit_yaml(item);
      if (seen.insert(text).second)
        result.push_back(YAML::Clone(item));
    }
  }
  return result;
}

YAML::Node merge_by_name(const YAML::Node &base, const YAML::Node &overlay) {
  YAML::Node result(YAML::NodeType::Sequence);
  for (const auto &item : base)
    result.push_back(YAML::Clone(item));
  for (const auto &item : overlay) {
    const std::string name = entry_name(item);
    bool replaced = false;
    if (!name.empty()) {
      for (std::size_t i = 0; i < result.size(); ++i) {
        if (entry_name(result[i]) == name) {
          result[i] = YAML::Clone(item);
          replaced = true;
          break;
        }
      }
    }
    if (!replaced)
      result.push_back(YAML::Clone(item));
  }
  return result;
}

void merge_at(YAML::Node base, const YAML::Node &overlay, std::vector<std::string> &path) {
  for (const auto &entry : overlay) {
    const std::string key = entry.first.as<std::string>();
    const YAML::Node &value = entry.second;
    path.push_back(key);
    YAML::Node current = base[key];
    if (current.IsMap() && value.IsMap()) {
      merge_at(current, value, path);
    } else if (current.IsSequence() && value.IsSequence() &&
               list_rule(path) == ListRule::kConcatenateUnique) {
      base[key] = concatenate_unique(current, value);
    } else if (current.IsSequence() && value.IsSequence() &&
               list_rule(path) == ListRule::kMergeByName) {
      base[key] = merge_by_name(current, value);
    } else {
      base[key] = YAML::Clone(value);
    }
    path.pop_back();
  }
}

}  // namespace

void merge_config(YAML::Node &base, const YAML::Node &overlay) {
  if (!overlay.IsMap())
    return;  // an empty layer (null) changes nothing
  if (!base.IsMap())
    base = YAML::Node(YAML::NodeType::Map);
  std::vector<std::string> path;
  merge_at(base, overlay, path);
}

YAML::Node config_at(const YAML::Node &config, std::initializer_list<const char *> path) {
  YAML::Node node = config;
  for (const char *key : path) {
    const YAML::Node &map = node;  // const operator[] never inserts
    if (!map.IsMap() || !map[key])
      return YAML::Node();
    node.reset(map[key]);  // re-point the handle; `=` would overwrite the tree
  }
  return node;
}

bool sets_resource_attributes(const YAML::Node &config) {
  const YAML::Node resource = config_at(config, {"service", "telemetry", "resource"});
  return resource.IsMap() && resource["attributes"];
}

void clear_resource_attributes(YAML::Node &config) {
  if (sets_resource_attributes(config))
    config["service"]["telemetry"]["resource"].remove("attributes");
}

}  // namespace opsup::collector
