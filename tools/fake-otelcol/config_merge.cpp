#include "config_merge.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "config_error.hpp"

namespace opsup::fakeotelcol {
namespace {

const std::string kResolvePrefix = "failed to get config: cannot resolve the configuration: ";

std::string expand_env(const std::string &value) {
  std::string out;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '$' || i + 1 >= value.size()) {
      out.push_back(value[i]);
      continue;
    }
    if (value[i + 1] == '$') {  // "$$" escapes a dollar
      out.push_back('$');
      ++i;
      continue;
    }
    if (value[i + 1] != '{') {
      out.push_back(value[i]);
      continue;
    }
    size_t close = value.find('}', i + 2);
    if (close == std::string::npos) {
      out.append(value, i, std::string::npos);
      break;
    }
    std::string reference = value.substr(i + 2, close - i - 2);
    if (reference.rfind("env:", 0) == 0)
      reference.erase(0, 4);
    std::string fallback;
    if (auto dash = reference.find(":-"); dash != std::string::npos) {
      fallback = reference.substr(dash + 2);
      reference.erase(dash);
    }
    const char *env = std::getenv(reference.c_str());
    out += env != nullptr ? std::string(env) : fallback;
    i = close;
  }
  return out;
}

void expand_all(YAML::Node node) {
  if (node.IsScalar()) {
    const std::string &text = node.Scalar();
    if (text.find('$') != std::string::npos)
      node = expand_env(text);
  } else if (node.IsMap()) {
    for (auto entry : node)
      expand_all(entry.second);
  } else if (node.IsSequence()) {
    for (auto item : node)
      expand_all(item);
  }
}

// {parts[i]: {parts[i+1]: ... value}}. Nodes are built, never re-assigned: assigning one
// yaml-cpp Node to another writes through the reference.
YAML::Node nest(const std::vector<std::string> &parts, size_t i, const YAML::Node &value) {
  YAML::Node map(YAML::NodeType::Map);
  if (i + 1 == parts.size()) {
    map[parts[i]] = value;
  } else {
    map[parts[i]] = nest(parts, i + 1, value);
  }
  return map;
}

std::vector<std::string> split_key(const std::string &key) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t pos; (pos = key.find("::", start)) != std::string::npos; start = pos + 2) {
    parts.push_back(key.substr(start, pos - start));
  }
  parts.push_back(key.substr(start));
  return parts;
}

// "a::b::c" keys become nested maps (the confmap key delimiter).
YAML::Node split_delimited_keys(const YAML::Node &node) {
  if (!node.IsMap())
    return YAML::Clone(node);
  YAML::Node result(YAML::NodeType::Map);
  for (const auto &entry : node) {
    merge_into(result, nest(split_key(entry.first.as<std::string>()), 0,
                            split_delimited_keys(entry.second)));
  }
  return result;
}

YAML::Node parse_source(const std::string &uri) {
  std::string text;
  std::string where;
  if (uri.rfind("yaml:", 0) == 0) {
    text = uri.substr(5);
    where = "yaml provider";
  } else if (uri.rfind("env:", 0) == 0) {
    const char *value = std::getenv(uri.substr(4).c_str());
    text = value != nullptr ? value : "";
    where = "environment variable " + uri.substr(4);
  } else {
    std::string path = uri.rfind("file:", 0) == 0 ? uri.substr(5) : uri;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      throw ConfigError(kResolvePrefix +
                        "cannot retrieve the configuration: unable to read the file " + path +
                        ": open " + path + ": " + std::strerror(errno));
    }
    std::ostringstream content;
    content << in.rdbuf();
    text = content.str();
    where = "file " + path;
  }
  YAML::Node node;
  try {
    node = YAML::Load(text);
  } catch (const YAML::Exception &e) {
    // v0.149 takes text that is not YAML as a string value; the detail after "yaml:" is
    // yaml-cpp's, not go-yaml's.
    throw ConfigError(kResolvePrefix +
                      "retrieved value (type=string) cannot be used as a Conf: assuming string "
                      "type since contents are not valid YAML: yaml: line " +
                      std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (node.IsNull())
    return YAML::Node(YAML::NodeType::Map);
  if (!node.IsMap()) {
    throw ConfigError(kResolvePrefix +
                      "retrieved value (type=" + (node.IsSequence() ? "[]interface {}" : "string") +
                      ") cannot be used as a Conf");
  }
  return split_delimited_keys(node);
}

YAML::Node sorted_copy(const YAML::Node &node) {
  if (node.IsMap()) {
    // Sort the keys only: sorting Nodes would assign them, which writes through references.
    std::vector<std::string> keys;
    for (const auto &entry : node)
      keys.push_back(entry.first.as<std::string>());
    std::sort(keys.begin(), keys.end());
    YAML::Node result(YAML::NodeType::Map);
    for (const auto &key : keys)
      result[key] = sorted_copy(node[key]);
    return result;
  }
  if (node.IsSequence()) {
    YAML::Node result(YAML::NodeType::Sequence);
    for (const auto &item : node)
      result.push_back(sorted_copy(item));
    return result;
  }
  return YAML::Clone(node);
}

}  // namespace

void merge_into(YAML::Node &base, const YAML::Node &overlay) {
  if (!base.IsMap() || !overlay.IsMap()) {
    base = YAML::Clone(overlay);
    return;
  }
  for (const auto &entry : overlay) {
    std::string key = entry.first.as<std::string>();
    if (base[key] && base[key].IsMap() && entry.second.IsMap()) {
      YAML::Node child = base[key];
      merge_into(child, entry.second);
    } else {
      base[key] = YAML::Clone(entry.second);
    }
  }
}

YAML::Node load_config(const std::vector<std::string> &uris,
                       const std::vector<std::string> &set_overrides) {
  YAML::Node merged(YAML::NodeType::Map);
  for (const auto &uri : uris)
    merge_into(merged, parse_source(uri));
  for (const auto &assignment : set_overrides) {
    auto eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw ConfigError(kResolvePrefix + "missing equal sign for set value: \"" + assignment +
                        "\"");
    }
    YAML::Node value;
    try {
      value = YAML::Load(assignment.substr(eq + 1));
    } catch (const YAML::Exception &) {
      value = YAML::Node(assignment.substr(eq + 1));
    }
    YAML::Node single(YAML::NodeType::Map);
    single[assignment.substr(0, eq)] = value;
    merge_into(merged, split_delimited_keys(single));
  }
  expand_all(merged);
  return merged;
}

std::string to_sorted_yaml(const YAML::Node &node) {
  YAML::Emitter out;
  out << sorted_copy(node);
  return std::string(out.c_str()) + "\n";
}

}  // namespace opsup::fakeotelcol
