// The feature gates this stand-in knows, like the Collector's featuregate registry.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace opsup::fakeotelcol {

inline constexpr const char *kAllowNoPipelinesGate = "service.AllowNoPipelines";
inline constexpr const char *kRemoteRestartsGate = "extension.opampextension.RemoteRestarts";
inline constexpr const char *kProfilesSupportGate = "service.profilesSupport";

struct FeatureGate {
  std::string id;
  std::string stage;  // Alpha, Beta, Stable, Deprecated (as the Collector prints them)
  bool enabled_by_default = false;
  std::string description;
  std::string from_version;
};

const std::vector<FeatureGate> &known_feature_gates();

class FeatureGates {
 public:
  FeatureGates();  // every gate at its default
  // Applies one --feature-gates value ("a,+b,-c"). Throws std::invalid_argument with the
  // Collector's message for an unknown gate.
  void apply(const std::string &list);
  bool enabled(const std::string &id) const;

 private:
  std::map<std::string, bool> enabled_;
};

// `featuregate` output: a header line then one row per gate; `id` selects one gate.
std::string describe_feature_gates(const FeatureGates &gates, const std::string &id = "");

}  // namespace opsup::fakeotelcol
