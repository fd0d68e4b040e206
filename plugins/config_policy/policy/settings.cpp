#include "settings.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <initializer_list>

namespace opsup::config_policy {
namespace {

constexpr std::string_view kPrefix = "plugins.config_policy.";

[[noreturn]] void fail(const std::string &key, const std::string &what) {
  throw SettingsError(std::string(kPrefix) + key + ": " + what);
}

void only_keys(const YAML::Node &map, const std::string &where,
               std::initializer_list<std::string_view> known) {
  if (!map.IsMap())
    fail(where.empty() ? std::string("(section)") : where, "must be a mapping");
  for (const auto &entry : map) {
    const std::string key = entry.first.as<std::string>();
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      std::string allowed;
      for (std::string_view k : known)
        allowed += (allowed.empty() ? "" : ", ") + std::string(k);
      fail(where.empty() ? key : where + "." + key, "unknown key (known: " + allowed + ")");
    }
  }
}

std::vector<std::string> string_list(const YAML::Node &node, const std::string &key,
                                     bool absolute_paths) {
  if (!node.IsSequence())
    fail(key, "must be a list of strings");
  if (node.size() > kMaxListItems)
    fail(key, "more than " + std::to_string(kMaxListItems) + " items");
  std::vector<std::string> out;
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string item_key = key + "[" + std::to_string(i) + "]";
    if (!node[i].IsScalar())
      fail(item_key, "must be a string");
    std::string value = node[i].as<std::string>();
    if (value.empty())
      fail(item_key, "must not be empty");
    if (absolute_paths && value.front() != '/')
      fail(item_key, "must be an absolute path, got '" + value + "'");
    out.push_back(std::move(value));
  }
  return out;
}

AllowDeny allow_deny(const YAML::Node &node, const std::string &key, bool paths) {
  only_keys(node, key, {"allow", "deny"});
  AllowDeny out;
  if (node["allow"])
    out.allow = string_list(node["allow"], key + ".allow", paths);
  if (node["deny"])
    out.deny = string_list(node["deny"], key + ".deny", paths);
  return out;
}

}  // namespace

Settings parse_settings(std::string_view yaml) {
  if (yaml.size() > kMaxSettingsBytes)
    fail("(section)", "longer than " + std::to_string(kMaxSettingsBytes) + " bytes");
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception &e) {
    fail("(section)", std::string("is not valid YAML: ") + e.what());
  }
  Settings settings;
  if (!root || root.IsNull())
    return settings;
  only_keys(root, "", {"mode", "access_dirs", "components", "endpoints", "redaction"});
  try {
    if (const YAML::Node mode = root["mode"]) {
      const std::string text = mode.IsScalar() ? mode.as<std::string>() : "";
      if (text == "refuse")
        settings.mode = Mode::refuse;
      else if (text == "sanitise" || text == "sanitize")
        settings.mode = Mode::sanitise;
      else
        fail("mode", "must be 'refuse' or 'sanitise', got '" + text + "'");
    }
    if (const YAML::Node dirs = root["access_dirs"]) {
      only_keys(dirs, "access_dirs", {"read", "write"});
      if (dirs["read"])
        settings.read_dirs = allow_deny(dirs["read"], "access_dirs.read", true);
      if (dirs["write"])
        settings.write_dirs = allow_deny(dirs["write"], "access_dirs.write", true);
    }
    if (const YAML::Node components = root["components"]) {
      only_keys(components, "components",
                {"receivers", "processors", "exporters", "extensions", "connectors"});
      for (const auto &entry : components) {
        const std::string kind = entry.first.as<std::string>();
        settings.components[kind] = allow_deny(entry.second, "components." + kind, false);
      }
    }
    if (const YAML::Node endpoints = root["endpoints"]) {
      only_keys(endpoints, "endpoints", {"allowed_hosts"});
      if (endpoints["allowed_hosts"])
        settings.allowed_hosts =
            string_list(endpoints["allowed_hosts"], "endpoints.allowed_hosts", false);
    }
    if (const YAML::Node redaction = root["redaction"]) {
      only_keys(redaction, "redaction", {"enabled", "key_patterns"});
      if (const YAML::Node enabled = redaction["enabled"]) {
        const std::string text = enabled.IsScalar() ? enabled.as<std::string>() : "";
        if (text == "true")
          settings.redact = true;
        else if (text == "false")
          settings.redact = false;
        else
          fail("redaction.enabled", "must be true or false, got '" + text + "'");
      }
      if (redaction["key_patterns"])
        settings.secret_key_patterns =
            string_list(redaction["key_patterns"], "redaction.key_patterns", false);
    }
  } catch (const YAML::Exception &e) {
    fail("(section)", std::string("unreadable: ") + e.what());
  }
  return settings;
}

}  // namespace opsup::config_policy
