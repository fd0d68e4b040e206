#include "collector_probe.hpp"

#include <algorithm>
#include <regex>
#include <set>
#include <sstream>

namespace opsup::testing {
namespace {

std::string joined(const std::vector<std::string> &items, const char *separator = ",") {
  std::string text;
  for (const auto &item : items) {
    if (!text.empty())
      text += separator;
    text += item;
  }
  return text;
}

std::string joined(const std::set<std::string> &items) {
  return joined(std::vector<std::string>(items.begin(), items.end()));
}

std::vector<std::string> map_keys(const YAML::Node &map) {
  std::vector<std::string> keys;
  if (map.IsMap()) {
    for (const auto &entry : map)
      keys.push_back(entry.first.as<std::string>());
  }
  return keys;
}

const char *node_type(const YAML::Node &node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence:
      return "sequence";
    case YAML::NodeType::Map:
      return "map";
    case YAML::NodeType::Scalar:
      return "scalar";
    case YAML::NodeType::Null:
      return "null";
    default:
      return "undefined";
  }
}

// What the keys of a component's `stability` map are, as a class: signal names for
// receivers, processors and exporters, "extension" for extensions, "<from>-to-<to>" for
// connectors.
std::string stability_key_class(const std::string &key) {
  static const std::set<std::string> kSignals = {"logs", "metrics", "traces", "profiles"};
  if (kSignals.count(key) != 0)
    return "signal";
  if (key == "extension")
    return "extension";
  static const std::regex kConnectorPair(
      "^(logs|metrics|traces|profiles)-to-"
      "(logs|metrics|traces|profiles)$");
  if (std::regex_match(key, kConnectorPair))
    return "signal-to-signal";
  return "unexpected key " + key;
}

bool is_stability_level(const std::string &level) {
  static const std::set<std::string> kLevels = {
      "Undefined", "Unmaintained", "Deprecated", "Development", "Alpha", "Beta", "Stable"};
  return kLevels.count(level) != 0;
}

}  // namespace

CommandResult run_collector(CollectorKind kind, const std::vector<std::string> &args) {
  ChildProcess child({collector_executable(kind), args, {}, {}});
  CommandResult result;
  result.exit_code = child.wait_exit(kProbeDeadline).value_or(-1);
  child.wait_output_closed(kProbeDeadline);
  result.lines = child.lines();
  return result;
}

void add_opamp_extension(YAML::Node &config, const std::string &ws_url) {
  YAML::Node opamp;
  opamp["instance_uid"] = kProbeInstanceUid;
  opamp["server"]["ws"]["endpoint"] = ws_url;
  opamp["server"]["ws"]["tls"]["insecure"] = true;
  config["extensions"]["opamp"] = opamp;
  config["service"]["extensions"].push_back("opamp");
}

std::string write_config(const TempDir &dir, const YAML::Node &config, const std::string &name) {
  return dir.write_file(name, YAML::Dump(config)).string();
}

Shape components_shape(const CommandResult &result) {
  Shape shape;
  shape["exit_code"] = std::to_string(result.exit_code);
  YAML::Node doc;
  try {
    doc = YAML::Load(joined(result.lines, "\n"));
  } catch (const YAML::Exception &error) {
    shape["yaml"] = std::string("unparsable: ") + error.what();
    return shape;
  }
  shape["top_level_keys"] = joined(map_keys(doc));
  shape["buildinfo.keys"] = joined(map_keys(doc["buildinfo"]));
  for (const char *kind : {"receivers", "processors", "exporters", "connectors", "extensions",
                           "providers", "converters"}) {
    const YAML::Node list = doc[kind];
    const std::string prefix = kind;
    shape[prefix + ".type"] = node_type(list);
    if (!list.IsSequence() || list.size() == 0) {
      shape[prefix + ".entries"] = "none";
      continue;
    }
    shape[prefix + ".entries"] = "some";
    std::set<std::string> fields, key_classes, bad_levels;
    for (const auto &entry : list) {
      for (const auto &field : map_keys(entry))
        fields.insert(field);
      for (const auto &stability : entry["stability"]) {
        key_classes.insert(stability_key_class(stability.first.as<std::string>()));
        const auto level = stability.second.as<std::string>();
        if (!is_stability_level(level))
          bad_levels.insert(level);
      }
      const auto module = entry["module"].as<std::string>("");
      if (!std::regex_match(module, std::regex(R"(^\S+ v\d+\.\d+\.\d+\S*$)")))
        bad_levels.insert("module '" + module + "' is not '<path> v<semver>'");
    }
    shape[prefix + ".entry_fields"] = joined(fields);
    shape[prefix + ".stability_keys"] = joined(key_classes);
    shape[prefix + ".bad_values"] = joined(bad_levels);
  }
  return shape;
}

Shape featuregate_shape(const CommandResult &result) {
  Shape shape;
  shape["exit_code"] = std::to_string(result.exit_code);
  std::vector<std::string> rows;
  for (const auto &line : result.lines) {
    if (!line.empty())
      rows.push_back(line);
  }
  if (rows.empty()) {
    shape["header"] = "(no output)";
    return shape;
  }
  std::istringstream header(rows.front());
  std::vector<std::string> columns;
  for (std::string word; header >> word;)
    columns.push_back(word);
  shape["header"] = joined(columns, " ");
  static const std::regex kRow(R"(^\S+\s+(true|false)\s+(Alpha|Beta|Stable|Deprecated)\s+\S.*$)");
  std::string malformed;
  for (size_t i = 1; i < rows.size(); ++i) {
    if (!std::regex_match(rows[i], kRow)) {
      malformed = rows[i];
      break;
    }
  }
  shape["rows"] = rows.size() > 1 ? "well formed" : "none";
  if (!malformed.empty())
    shape["rows"] = "malformed: " + malformed;
  // Columns line up: every row's second column starts where the header's "Enabled" does.
  const auto enabled_at = rows.front().find("Enabled");
  bool aligned = enabled_at != std::string::npos;
  for (size_t i = 1; aligned && i < rows.size(); ++i) {
    aligned =
        rows[i].size() > enabled_at && rows[i][enabled_at - 1] == ' ' && rows[i][enabled_at] != ' ';
  }
  shape["aligned"] = aligned ? "yes" : "no";
  return shape;
}

Shape validate_shape(const CommandResult &result) {
  // go-yaml and yaml-cpp word syntax errors differently, and the lists of valid component
  // types differ by design: those parts are left out of the comparison.
  static const std::regex kYamlDetail(R"(yaml: line \d+: .*$)");
  static const std::regex kValidValues(R"( \(valid values: \[.*\]\))");
  std::vector<std::string> lines;
  for (const auto &line : result.lines) {
    if (!line.empty())
      lines.push_back(std::regex_replace(std::regex_replace(line, kYamlDetail, "yaml: <detail>"),
                                         kValidValues, " (valid values: <list>)"));
  }
  Shape shape;
  shape["exit_code"] = std::to_string(result.exit_code);
  shape["line_count"] = std::to_string(lines.size());
  shape["first_line"] = lines.size() > 0 ? lines[0] : "";
  shape["reason_line"] = lines.size() > 1 ? lines[1] : "";
  shape["detail_line"] = lines.size() > 2 ? lines[2] : "";
  return shape;
}

std::string shape_differences(const Shape &real, const Shape &stand_in) {
  std::string differences;
  std::set<std::string> aspects;
  for (const auto &[aspect, value] : real)
    aspects.insert(aspect);
  for (const auto &[aspect, value] : stand_in)
    aspects.insert(aspect);
  for (const auto &aspect : aspects) {
    const auto r = real.find(aspect);
    const auto s = stand_in.find(aspect);
    const std::string real_value = r == real.end() ? "(absent)" : r->second;
    const std::string stand_in_value = s == stand_in.end() ? "(absent)" : s->second;
    if (real_value != stand_in_value) {
      differences += aspect + ": real '" + real_value + "' vs stand-in '" + stand_in_value + "'\n";
    }
  }
  return differences;
}

}  // namespace opsup::testing
