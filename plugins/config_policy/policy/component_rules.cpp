#include "component_rules.hpp"

namespace opsup::config_policy {

std::string component_type(const std::string &id) {
  return id.substr(0, id.find('/'));
}

std::string canonical_type(const std::string &type) {
  if (type == "otlp_grpc")
    return "otlp";
  if (type == "otlp_http")
    return "otlphttp";
  if (type == "file_log")
    return "filelog";
  return type;
}

std::optional<std::string> check_component_type(const Settings &settings, const std::string &kind,
                                                const std::string &type) {
  const auto rules = settings.components.find(kind);
  if (rules == settings.components.end())
    return std::nullopt;
  const std::string canonical = canonical_type(type);
  for (const std::string &deny : rules->second.deny) {
    if (canonical_type(deny) == canonical)
      return "components." + kind + ".deny: " + deny;
  }
  if (rules->second.allow.empty())
    return std::nullopt;
  for (const std::string &allow : rules->second.allow) {
    if (canonical_type(allow) == canonical)
      return std::nullopt;
  }
  return "components." + kind + ".allow";
}

}  // namespace opsup::config_policy
