#include "config/config_diff.hpp"

#include <yaml-cpp/yaml.h>

#include <array>
#include <map>
#include <set>

#include "config/config_to_yaml.hpp"

namespace opsup::config {
namespace {

constexpr std::array<std::string_view, 9> kLiveKeys = {
    "telemetry.logs.level",
    "telemetry.logs.encoding",
    "telemetry.logs.output_paths",
    "telemetry.logs.error_output_paths",
    "telemetry.logs.rotation",
    "agent.config_files",
    "agent.description.identifying_attributes",
    "agent.description.non_identifying_attributes",
    "server.heartbeat_interval",
};

// Leaf key → its value as YAML text, in document order. A non-empty map is descended into;
// anything else (scalars, lists, null, empty maps) is one leaf.
void flatten(const YAML::Node &node, const std::string &prefix,
             std::vector<std::pair<std::string, std::string>> &out) {
  if (node.IsMap() && node.size() > 0) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      const std::string name = it->first.Scalar();
      flatten(it->second, prefix.empty() ? name : prefix + "." + name, out);
    }
    return;
  }
  YAML::Emitter emitter;
  emitter << node;
  out.emplace_back(prefix, emitter.c_str());
}

}  // namespace

bool applies_while_running(std::string_view dotted_key) {
  for (const std::string_view live : kLiveKeys) {
    if (dotted_key == live || (dotted_key.starts_with(live) && dotted_key.size() > live.size() &&
                               dotted_key[live.size()] == '.'))
      return true;
  }
  return false;
}

std::vector<ConfigChange> diff_configs(const SupervisorConfig &before,
                                       const SupervisorConfig &after) {
  std::vector<std::pair<std::string, std::string>> old_leaves;
  std::vector<std::pair<std::string, std::string>> new_leaves;
  flatten(typed_config_yaml(before), "", old_leaves);
  flatten(typed_config_yaml(after), "", new_leaves);
  const std::map<std::string, std::string> new_values(new_leaves.begin(), new_leaves.end());

  std::vector<ConfigChange> changes;
  std::set<std::string> seen;
  for (const auto &[key, value] : old_leaves) {
    seen.insert(key);
    const auto found = new_values.find(key);
    if (found == new_values.end() || found->second != value)
      changes.push_back({key, applies_while_running(key)});
  }
  for (const auto &[key, value] : new_leaves) {
    if (!seen.contains(key))
      changes.push_back({key, applies_while_running(key)});
  }
  return changes;
}

}  // namespace opsup::config
