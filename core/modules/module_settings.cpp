#include "modules/module_settings.hpp"

#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include <limits>

#include "common/yaml_emit.hpp"
#include "config/duration.hpp"

namespace opsup::modules {

std::map<std::string, std::string> module_settings_sections(
    std::string_view supervisor_config_yaml) {
  std::map<std::string, std::string> sections;
  try {
    const YAML::Node root = YAML::Load(std::string(supervisor_config_yaml));
    if (!root.IsMap())
      return sections;
    // Iterate instead of root["plugins"]: a module id contains dots, and lookups by
    // operator[] on a non-const node would add keys.
    for (auto top = root.begin(); top != root.end(); ++top) {
      if (!top->first.IsScalar() || top->first.Scalar() != "plugins" || !top->second.IsMap())
        continue;
      for (auto entry = top->second.begin(); entry != top->second.end(); ++entry) {
        if (!entry->first.IsScalar())
          continue;
        const std::string &id = entry->first.Scalar();
        if (id == "directory" || id == "disable" || common::is_yaml_null(entry->second))
          continue;
        sections[id] = common::emit_yaml(entry->second);
      }
    }
  } catch (const std::exception &error) {
    // The host emitted this text itself, so this is a bug; modules then see no section.
    spdlog::error("cannot read plugins sections from the supervisor config: {}", error.what());
    sections.clear();
  }
  return sections;
}

namespace {

std::string describe(const YAML::Node &node) {
  if (node.IsMap())
    return "a map";
  if (node.IsSequence())
    return "a list";
  return "\"" + node.Scalar() + "\"";
}

SettingResult wrong(std::string problem) {
  SettingResult result;
  result.status = SettingResult::Status::kWrongType;
  result.problem = std::move(problem);
  return result;
}

}  // namespace

SettingResult read_setting(std::string_view section_yaml, std::string_view dotted_key,
                           SettingType type) {
  YAML::Node node;
  try {
    node = YAML::Load(std::string(section_yaml));
  } catch (const std::exception &error) {
    return wrong(std::string("the section does not parse: ") + error.what());
  }
  std::string_view rest = dotted_key;
  if (rest.empty())
    return wrong("the key is empty");
  if (rest.front() == '.' || rest.back() == '.' || rest.find("..") != std::string_view::npos)
    return wrong("the key has an empty part");
  while (true) {
    const size_t dot = rest.find('.');
    const std::string part(rest.substr(0, dot));
    if (part.empty())
      return wrong("the key has an empty part");
    if (common::is_yaml_null(node))
      return {};
    if (!node.IsMap())
      return wrong("cannot look up " + part + " in " + describe(node));
    YAML::Node next;  // iterate: operator[] on a non-const node would add the key
    bool found = false;
    for (auto entry = node.begin(); entry != node.end(); ++entry) {
      if (entry->first.IsScalar() && entry->first.Scalar() == part) {
        next.reset(entry->second);
        found = true;
        break;
      }
    }
    if (!found)
      return {};
    node.reset(next);
    if (dot == std::string_view::npos)
      break;
    rest.remove_prefix(dot + 1);
  }
  if (common::is_yaml_null(node))
    return {};

  SettingResult result;
  result.status = SettingResult::Status::kOk;
  if (type == SettingType::kList) {
    if (!node.IsSequence())
      return wrong("must be a list, not " + describe(node));
    for (const auto &item : node) {
      if (!item.IsScalar())
        return wrong("must be a list of scalars, but an item is " + describe(item));
      result.list.push_back(item.Scalar());
    }
    return result;
  }
  if (!node.IsScalar())
    return wrong("must be a single value, not " + describe(node));
  const std::string &text = node.Scalar();
  switch (type) {
    case SettingType::kString:
      result.text = text;
      return result;
    case SettingType::kInt: {
      size_t used = 0;
      try {
        result.integer = std::stoll(text, &used, 10);
      } catch (const std::exception &) {
        used = 0;
      }
      if (used == 0 || used != text.size())
        return wrong("must be an integer, not \"" + text + "\"");
      return result;
    }
    case SettingType::kBool:
      if (text == "true") {
        result.boolean = true;
      } else if (text == "false") {
        result.boolean = false;
      } else {
        return wrong("must be true or false, not \"" + text + "\"");
      }
      return result;
    case SettingType::kDurationMs: {
      const auto parsed = config::parse_go_duration(text);
      if (const auto *problem = std::get_if<std::string>(&parsed)) {
        return wrong("must be a duration such as 250ms or 1m30s, not \"" + text + "\" (" +
                     *problem + ")");
      }
      const auto duration = std::get<config::Duration>(parsed);
      if (duration.count() < 0)
        return wrong("must not be negative, not \"" + text + "\"");
      result.duration_ms = static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(duration).count());
      return result;
    }
    case SettingType::kList:
      break;
  }
  return result;
}

}  // namespace opsup::modules
