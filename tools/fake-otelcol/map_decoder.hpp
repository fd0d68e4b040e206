// Typed reads from one YAML map with mapstructure-like errors, and a final check that every
// key was known ("'server.ws' has invalid keys: foo").
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>

namespace opsup::fakeotelcol {

class MapDecoder {
 public:
  // `path` names the map in errors ("" for a component's top level, whose unknown keys are
  // reported under `struct_name`, e.g. "opampextension.Config", as the Collector names its
  // config struct). Throws DecodeError when `node` is neither a map nor null.
  MapDecoder(const YAML::Node &node, std::string path, std::string struct_name = "");

  bool has(const std::string &key);
  std::string string(const std::string &key, const std::string &fallback = "");
  bool boolean(const std::string &key, bool fallback);
  int64_t integer(const std::string &key, int64_t fallback);
  std::chrono::milliseconds duration(const std::string &key, std::chrono::milliseconds fallback);
  std::map<std::string, std::string> string_map(const std::string &key);
  YAML::Node child(const std::string &key);  // marks the key used; may be undefined
  std::string child_path(const std::string &key) const;
  // Throws DecodeError naming the keys never read.
  void reject_unknown_keys() const;

 private:
  YAML::Node scalar(const std::string &key, const char *expected);

  YAML::Node node_;
  std::string path_;
  std::string struct_name_;
  std::set<std::string> used_;
};

}  // namespace opsup::fakeotelcol
