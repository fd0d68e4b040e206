// Typed, strict reading of one YAML mapping: every key read is recorded, every other key
// is reported as unknown, and every bad value is reported with its dotted path and line.
// Nothing throws; readers leave the default in place when a value is absent or bad.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/duration.hpp"
#include "config/internal/diagnostic_sink.hpp"

namespace opsup::config::internal {

// The value of `key` in `map`, or an undefined node. Unlike operator[] on a const node, it
// never yields an invalid node that throws when inspected.
YAML::Node child(const YAML::Node &map, std::string_view key);

// "path[index]".
std::string index_path(std::string_view path, std::size_t index);

// Absent, null, or a plain value that expanded to nothing / "null" / "~".
bool is_null_value(const YAML::Node &node);

// "a mapping", "a list", "a scalar" or "null", for messages.
std::string node_kind(const YAML::Node &node);

struct Entry {
  std::string key;
  std::string path;  // dotted path of the value
  YAML::Node key_node;
  YAML::Node value;
  int key_line = 0;
  int value_line = 0;  // the value's own line (scalars, list items); key_line when null
};

enum class DurationRule { kPositive, kNonNegative };

class MapReader {
 public:
  // `node` is the mapping (null or absent reads as empty); `path` its dotted path ("" for
  // the file root); `line` the line of its key, used for problems with the whole section.
  MapReader(YAML::Node node, std::string path, int line, DiagnosticSink &sink);

  bool is_mapping() const { return is_mapping_; }
  const std::string &path() const { return path_; }
  int line() const { return line_; }
  DiagnosticSink &sink() const { return sink_; }
  std::string key_path(std::string_view key) const;

  // The entry for `key` when written with a non-null value; records the key as known.
  std::optional<Entry> take(std::string_view key);
  // A known key whose value is accepted as written.
  void accept(std::string_view key) { known_.insert(std::string(key)); }
  bool has(std::string_view key) const;
  // Line of `key` when written, else of this section.
  int line_of_key(std::string_view key) const;
  // Every written entry, in file order (for maps keyed by user names).
  const std::vector<Entry> &entries() const { return entries_; }

  // Each returns true when the key was written and its value was valid (then `out` is set).
  bool read_bool(std::string_view key, bool &out);
  bool read_string(std::string_view key, std::string &out);
  bool read_path(std::string_view key, std::filesystem::path &out);
  bool read_int(std::string_view key, int64_t min, int64_t max, int64_t &out);
  bool read_int(std::string_view key, int64_t min, int64_t max, int &out);
  bool read_duration(std::string_view key, DurationRule rule, Duration &out);
  bool read_string_list(std::string_view key, std::vector<std::string> &out);
  bool read_string_map(std::string_view key, std::map<std::string, std::string> &out);
  // A nested mapping; an absent or null one reads as empty.
  MapReader section(std::string_view key);

  void error(std::string_view key, std::string message);  // at the key's line
  void section_error(std::string message);                // at this section's line

  // Reports every written key that no reader asked for.
  void finish();

 private:
  YAML::Node node_;
  std::string path_;
  int line_;
  DiagnosticSink &sink_;
  bool is_mapping_ = true;
  std::vector<Entry> entries_;
  std::set<std::string> known_;
};

// Scalar conversions for values outside a MapReader (list items, map values). Each
// reports its own error at `path` and returns nullopt when the value is not valid.
std::optional<std::string> read_scalar_string(YAML::Node node, const std::string &path, int line,
                                              DiagnosticSink &sink);
std::optional<bool> read_scalar_bool(const YAML::Node &node, const std::string &path, int line,
                                     DiagnosticSink &sink);
std::optional<int64_t> read_scalar_int(const YAML::Node &node, const std::string &path, int line,
                                       DiagnosticSink &sink);
std::optional<std::vector<std::string>> read_scalar_list(const YAML::Node &node,
                                                         const std::string &path, int line,
                                                         DiagnosticSink &sink);

}  // namespace opsup::config::internal
