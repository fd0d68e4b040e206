#include "feature_gates.hpp"

#include <algorithm>
#include <sstream>
#include <stdexcept>

namespace opsup::fakeotelcol {

const std::vector<FeatureGate> &known_feature_gates() {
  static const std::vector<FeatureGate> gates = {
      {"confmap.enableMergeAppendOption", "alpha", false,
       "Combines lists when resolving configs from different sources.", "v0.120.0"},
      {kRemoteRestartsGate, "alpha", false,
       "Enables the accepts_restart_command capability of the opamp extension.", "v0.122.0"},
      {kAllowNoPipelinesGate, "alpha", false,
       "Allow starting the Collector without starting any pipelines.", "v0.122.0"},
      {kProfilesSupportGate, "alpha", false, "Controls whether profiles support can be enabled",
       "v0.112.0"},
      {"telemetry.newPipelineTelemetry", "alpha", false,
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
          << "From Version: " << gate.from_version << "\n";
      return out.str();
    }
    throw std::invalid_argument("feature \"" + id + "\" not found");
  }
  size_t id_width = 2;
  for (const auto &gate : known_feature_gates())
    id_width = std::max(id_width, gate.id.size());
  auto pad = [](const std::string &text, size_t width) {
    return text + std::string(width > text.size() ? width - text.size() : 0, ' ');
  };
  out << pad("ID", id_width + 3) << pad("Enabled", 10) << pad("Stage", 9) << "Description\n";
  for (const auto &gate : known_feature_gates()) {
    out << pad(gate.id, id_width + 3) << pad(gates.enabled(gate.id) ? "true" : "false", 10)
        << pad(gate.stage, 9) << gate.description << "\n";
  }
  return out.str();
}

}  // namespace opsup::fakeotelcol
