#include "map_decoder.hpp"

#include "config_error.hpp"
#include "duration.hpp"

namespace opsup::fakeotelcol {

MapDecoder::MapDecoder(const YAML::Node &node, std::string path, std::string struct_name)
    : node_(node), path_(std::move(path)), struct_name_(std::move(struct_name)) {
  if (node_ && !node_.IsNull() && !node_.IsMap()) {
    throw DecodeError("'" + path_ + "' expected a map, got '" +
                      (node_.IsSequence() ? "slice" : "string") + "'");
  }
}

bool MapDecoder::has(const std::string &key) {
  const YAML::Node &map = node_;
  return map.IsMap() && map[key] && !map[key].IsNull();
}

std::string MapDecoder::child_path(const std::string &key) const {
  return path_.empty() ? key : path_ + "." + key;
}

YAML::Node MapDecoder::child(const std::string &key) {
  used_.insert(key);
  const YAML::Node &map = node_;
  if (!map.IsMap() || !map[key])
    return YAML::Node();
  return map[key];
}

YAML::Node MapDecoder::scalar(const std::string &key, const char *expected) {
  YAML::Node value = child(key);
  if (value && !value.IsNull() && !value.IsScalar()) {
    throw DecodeError("'" + child_path(key) + "' expected type '" + expected +
                      "', got unconvertible type '" + (value.IsMap() ? "map" : "slice") + "'");
  }
  return value;
}

std::string MapDecoder::string(const std::string &key, const std::string &fallback) {
  YAML::Node value = scalar(key, "string");
  if (!value || value.IsNull())
    return fallback;
  return value.Scalar();
}

bool MapDecoder::boolean(const std::string &key, bool fallback) {
  YAML::Node value = scalar(key, "bool");
  if (!value || value.IsNull())
    return fallback;
  const std::string &text = value.Scalar();
  if (text == "true" || text == "True" || text == "TRUE")
    return true;
  if (text == "false" || text == "False" || text == "FALSE")
    return false;
  throw DecodeError("'" + child_path(key) +
                    "' expected type 'bool', got unconvertible type 'string', value: '" + text +
                    "'");
}

int64_t MapDecoder::integer(const std::string &key, int64_t fallback) {
  YAML::Node value = scalar(key, "int");
  if (!value || value.IsNull())
    return fallback;
  try {
    size_t used = 0;
    int64_t result = std::stoll(value.Scalar(), &used);
    if (used == value.Scalar().size())
      return result;
  } catch (const std::exception &) {
  }
  throw DecodeError("'" + child_path(key) + "' cannot parse value as 'int': \"" + value.Scalar() +
                    "\"");
}

std::chrono::milliseconds MapDecoder::duration(const std::string &key,
                                               std::chrono::milliseconds fallback) {
  YAML::Node value = scalar(key, "time.Duration");
  if (!value || value.IsNull())
    return fallback;
  auto parsed = parse_duration(value.Scalar());
  if (!parsed) {
    throw DecodeError("'" + child_path(key) + "' time: invalid duration \"" + value.Scalar() +
                      "\"");
  }
  return *parsed;
}

std::map<std::string, std::string> MapDecoder::string_map(const std::string &key) {
  YAML::Node value = child(key);
  std::map<std::string, std::string> result;
  if (!value || value.IsNull())
    return result;
  if (!value.IsMap()) {
    throw DecodeError("'" + child_path(key) + "' expected a map, got '" +
                      (value.IsSequence() ? "slice" : "string") + "'");
  }
  for (const auto &entry : value) {
    if (!entry.second.IsScalar() && !entry.second.IsNull()) {
      throw DecodeError("'" + child_path(key) + "[" + entry.first.as<std::string>() +
                        "]' expected type 'string'");
    }
    result[entry.first.as<std::string>()] = entry.second.IsNull() ? "" : entry.second.Scalar();
  }
  return result;
}

void MapDecoder::reject_unknown_keys() const {
  if (!node_.IsMap())
    return;
  std::string unknown;
  for (const auto &entry : node_) {
    std::string key = entry.first.as<std::string>();
    if (used_.count(key) == 0)
      unknown += (unknown.empty() ? "" : ", ") + key;
  }
  if (!unknown.empty())
    throw DecodeError("'" + (path_.empty() ? struct_name_ : path_) +
                      "' has invalid keys: " + unknown);
}

}  // namespace opsup::fakeotelcol
