#include "sanitise.hpp"

#include <set>
#include <utility>

namespace opsup::config_policy {
namespace {

// Removes `ids` from a list node; returns how many were removed.
size_t remove_ids(YAML::Node list, const std::set<std::string> &ids) {
  if (!list || !list.IsSequence())
    return 0;
  YAML::Node kept(YAML::NodeType::Sequence);
  size_t removed = 0;
  for (const auto &item : list) {
    if (item.IsScalar() && ids.count(item.Scalar()))
      ++removed;
    else
      kept.push_back(item);
  }
  if (removed > 0) {
    list = kept;
  }
  return removed;
}

bool empty_list(const YAML::Node &node) {
  return !node || !node.IsSequence() || node.size() == 0;
}

}  // namespace

SanitiseResult sanitise(const YAML::Node &config, const std::vector<Violation> &violations) {
  SanitiseResult result{YAML::Clone(config), {}};
  YAML::Node &out = result.config;
  // kind -> ids, and the first reason per component.
  std::set<std::pair<std::string, std::string>> offending;
  for (const Violation &v : violations) {
    if (v.kind.empty() || !offending.insert({v.kind, v.component}).second)
      continue;
    result.removed.push_back("removed " + v.kind + "/" + v.component + ": " + describe(v));
  }
  std::set<std::string> by_kind[4];  // receivers, processors, exporters, extensions
  std::set<std::string> connectors;
  for (const auto &[kind, id] : offending) {
    if (out[kind] && out[kind].IsMap())
      out[kind].remove(id);
    if (kind == "receivers")
      by_kind[0].insert(id);
    else if (kind == "processors")
      by_kind[1].insert(id);
    else if (kind == "exporters")
      by_kind[2].insert(id);
    else if (kind == "extensions")
      by_kind[3].insert(id);
    else if (kind == "connectors")
      connectors.insert(id);
  }
  YAML::Node service = out["service"];
  if (!service || !service.IsMap())
    return result;
  remove_ids(service["extensions"], by_kind[3]);
  YAML::Node pipelines = service["pipelines"];
  if (!pipelines || !pipelines.IsMap())
    return result;
  std::vector<std::string> emptied;
  for (auto entry : pipelines) {
    YAML::Node pipeline = entry.second;
    if (!pipeline.IsMap())
      continue;
    std::set<std::string> receivers = by_kind[0];
    receivers.insert(connectors.begin(), connectors.end());
    std::set<std::string> exporters = by_kind[2];
    exporters.insert(connectors.begin(), connectors.end());
    const size_t changed = remove_ids(pipeline["receivers"], receivers) +
                           remove_ids(pipeline["processors"], by_kind[1]) +
                           remove_ids(pipeline["exporters"], exporters);
    if (changed > 0 && (empty_list(pipeline["receivers"]) || empty_list(pipeline["exporters"])))
      emptied.push_back(entry.first.Scalar());
  }
  for (const std::string &name : emptied) {
    pipelines.remove(name);
    result.removed.push_back("removed pipeline " + name +
                             ": no receivers or no exporters were left");
  }
  return result;
}

}  // namespace opsup::config_policy
