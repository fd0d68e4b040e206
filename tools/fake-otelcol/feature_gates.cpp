#include "feature_gates.hpp"

#include <algorithm>
#include <sstream>
#include <stdexcept>

namespace opsup::fakeotelcol {

const std::vector<FeatureGate> &known_feature_gates() {
  static const std::vector<FeatureGate> gates = {
      {"confmap.enableMergeAppendOption", "Alpha", false,
       "Combines lists when resolving configs from different sources. This feature gate will "
       "not be stabilized 'as is'; the current behavior will remain the default.",
       "v0.120.0"},
      {kRemoteRestartsGate, "Alpha", false,
       "When enabled, the OpAMP extension supports restart commands from the OpAMP server "
       "through the `CommandType_Restart` command.",
       "v0.122.0"},
      {kAllowNoPipelinesGate, "Alpha", false,
       "Allow starting the Collector without starting any pipelines.", "v0.122.0"},
      {kProfilesSupportGate, "Alpha", false, "Controls whether profiles support can be enabled",
       "v0.112.0"},
      {"telemetry.newPipelineTelemetry", "Alpha", false,
       "Injects component-identifying scope attributes in internal Collector metrics", "v0.123.0"},
  };
  return gates;
}

FeatureGates::FeatureGates() {
  for (const auto &gate : known_feature_gates())
    enabled_[gate.id] = gate.enabled_by_default;
}

void FeatureGates::apply(const std::string &list) {
  std::stringstream stream(list);
  std::string item;
  while (std::getline(stream, item, ',')) {
    if (item.empty())
      continue;
    bool enable = true;
    if (item[0] == '+' || item[0] == '-') {
      enable = item[0] == '+';
      item.erase(0, 1);
    }
    auto found = enabled_.find(item);
    if (found == enabled_.end()) {
      throw std::invalid_argument("invalid argument \"" + list +
                                  "\" for \"--feature-gates\" flag: no such feature gate \"" +
                                  item + "\"");
    }
    found->second = enable;
  }
}

bool FeatureGates::enabled(const std::string &id) const {
  auto found = enabled_.find(id);
  return found != enabled_.end() && found->second;
}

std::string describe_feature_gates(const FeatureGates &gates, const std::string &id) {
  std::ostringstream out;
  if (!id.empty()) {
    for (const auto &gate : known_feature_gates()) {
      if (gate.id != id)
        continue;
      out << "Feature: " << gate.id << "\n"
          << "Enabled: " << (gates.enabled(gate.id) ? "true" : "false") << "\n"
          << "Stage: " << gate.stage << "\n"
          << "Description: " << gate.description << "\n"
          << "From Version: " << gate.from_version << "\n"
          << "To Version: v<nil>\n";
      return out.str();
    }
    throw std::invalid_argument("feature \"" + id + "\" not found");
  }
  // Go's tabwriter with padding 2: each column as wide as its widest cell plus two.
  size_t id_width = std::string("ID").size();
  size_t stage_width = std::string("Stage").size();
  for (const auto &gate : known_feature_gates()) {
    id_width = std::max(id_width, gate.id.size());
    stage_width = std::max(stage_width, gate.stage.size());
  }
  auto pad = [](const std::string &text, size_t width) {
    return text + std::string(width + 2 - text.size(), ' ');
  };
  const size_t enabled_width = std::string("Enabled").size();
  out << pad("ID", id_width) << pad("Enabled", enabled_width) << pad("Stage", stage_width)
      << "Description\n";
  for (const auto &gate : known_feature_gates()) {
    out << pad(gate.id, id_width) << pad(gates.enabled(gate.id) ? "true" : "false", enabled_width)
        << pad(gate.stage, stage_width) << gate.description << "\n";
  }
  return out.str();
}

}  // namespace opsup::fakeotelcol
