#include "config/internal/map_reader.hpp"

#include "common/yaml_emit.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>

namespace opsup::config::internal {
namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string closest_key(std::string_view unknown, const std::set<std::string> &known) {
  std::string best;
  std::size_t best_distance = 3;  // suggest only near misses
  for (const auto &candidate : known) {
    const std::size_t distance = edit_distance(unknown, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  return best;
}

// The plain forms YAML and Go's ParseBool agree on.
std::optional<bool> parse_bool(std::string_view text) {
  if (text == "true" || text == "True" || text == "TRUE")
    return true;
  if (text == "false" || text == "False" || text == "FALSE")
    return false;
  return std::nullopt;
}

}  // namespace

std::string quote_for_message(std::string_view text) {
  constexpr std::size_t kMax = 80;
  std::string quoted = "\"";
  for (char c : text.substr(0, kMax)) {
    if (c == '"' || c == '\\') {
      quoted += '\\';
      quoted += c;
    } else if (c == '\n') {
      quoted += "\\n";
    } else {
      quoted += c;
    }
  }
  if (text.size() > kMax)
    quoted += "...";
  return quoted + "\"";
}

YAML::Node child(const YAML::Node &map, std::string_view key) {
  if (map.IsMap()) {
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (it->first.IsScalar() && it->first.Scalar() == key)
        return it->second;
    }
  }
  return YAML::Node();
}

std::string index_path(std::string_view path, std::size_t index) {
  std::string text(path);
  text.append("[").append(std::to_string(index)).append("]");
  return text;
}

bool is_null_value(const YAML::Node &node) {
  return common::is_yaml_null(node);
}

std::string node_kind(const YAML::Node &node) {
  if (is_null_value(node))
    return "null";
  if (node.IsMap())
    return "a mapping";
  if (node.IsSequence())
    return "a list";
  return "a scalar";
}

MapReader::MapReader(YAML::Node node, std::string path, int line, DiagnosticSink &sink)
    : node_(node), path_(std::move(path)), line_(line), sink_(sink) {
  if (is_null_value(node_))
    return;
  if (!node_.IsMap()) {
    is_mapping_ = false;
    sink_.error(line_of_node(node_) > 0 ? line_of_node(node_) : line_, path_,
                "must be a mapping, got " + node_kind(node_));
    return;
  }
  std::map<std::string, int> first_line;
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    const int key_line = line_of_node(it->first);
    if (!it->first.IsScalar()) {
      sink_.error(key_line, path_, "keys must be scalars, got " + node_kind(it->first));
      continue;
    }
    Entry entry;
    entry.key = it->first.Scalar();
    entry.path = key_path(entry.key);
    entry.key_node.reset(it->first);
    entry.value.reset(it->second);
    entry.key_line = key_line;
    const bool scalar_like = !is_null_value(entry.value) && entry.value.IsScalar();
    entry.value_line =
        scalar_like && line_of_node(entry.value) > 0 ? line_of_node(entry.value) : key_line;
    if (auto [it_first, inserted] = first_line.emplace(entry.key, key_line); !inserted) {
      sink_.error(key_line, entry.path,
                  "duplicate key (first written at line " + std::to_string(it_first->second) + ")");
      continue;
    }
    entries_.push_back(std::move(entry));
  }
}

std::string MapReader::key_path(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

std::optional<Entry> MapReader::take(std::string_view key) {
  known_.insert(std::string(key));
  for (const auto &entry : entries_) {
    if (entry.key == key) {
      if (is_null_value(entry.value))
        return std::nullopt;
      return entry;
    }
  }
  return std::nullopt;
}

bool MapReader::has(std::string_view key) const {
  return std::any_of(entries_.begin(), entries_.end(), [&](const Entry &entry) {
    return entry.key == key && !is_null_value(entry.value);
  });
}

int MapReader::line_of_key(std::string_view key) const {
  for (const auto &entry : entries_) {
    if (entry.key == key)
      return entry.key_line;
  }
  return line_;
}

bool MapReader::read_bool(std::string_view key, bool &out) {
  auto entry = take(key);
  if (!entry)
    return false;
  auto value = read_scalar_bool(entry->value, entry->path, entry->value_line, sink_);
  if (!value)
    return false;
  out = *value;
  return true;
}

bool MapReader::read_string(std::string_view key, std::string &out) {
  auto entry = take(key);
  if (!entry)
    return false;
  auto value = read_scalar_string(entry->value, entry->path, entry->value_line, sink_);
  if (!value)
    return false;
  out = std::move(*value);
  return true;
}

bool MapReader::read_path(std::string_view key, std::filesystem::path &out) {
  std::string text;
  if (!read_string(key, text))
    return false;
  out = text;
  return true;
}

bool MapReader::read_int(std::string_view key, int64_t min, int64_t max, int64_t &out) {
  auto entry = take(key);
  if (!entry)
    return false;
  auto value = read_scalar_int(entry->value, entry->path, entry->value_line, sink_);
  if (!value)
    return false;
  if (*value < min || *value > max) {
    sink_.error(entry->value_line, entry->path,
                "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                    ", got " + std::to_string(*value));
    return false;
  }
  out = *value;
  return true;
}

bool MapReader::read_int(std::string_view key, int64_t min, int64_t max, int &out) {
  int64_t value = 0;
  if (!read_int(key, min, max, value))
    return false;
  out = static_cast<int>(value);
  return true;
}

bool MapReader::read_duration(std::string_view key, DurationRule rule, Duration &out) {
  auto entry = take(key);
  if (!entry)
    return false;
  auto text = read_scalar_string(entry->value, entry->path, entry->value_line, sink_);
  if (!text)
    return false;
  auto parsed = parse_go_duration(*text);
  if (auto *message = std::get_if<std::string>(&parsed)) {
    sink_.error(entry->value_line, entry->path,
                "must be a duration like \"5s\", \"1m30s\" or \"250ms\", got " +
                    quote_for_message(*text) + " (" + *message + ")");
    return false;
  }
  const Duration duration = std::get<Duration>(parsed);
  if (rule == DurationRule::kPositive && duration <= Duration{0}) {
    sink_.error(entry->value_line, entry->path,
                "must be a positive duration, got " + quote_for_message(*text));
    return false;
  }
  if (rule == DurationRule::kNonNegative && duration < Duration{0}) {
    sink_.error(entry->value_line, entry->path,
                "must not be a negative duration, got " + quote_for_message(*text));
    return false;
  }
  out = duration;
  return true;
}

bool MapReader::read_string_list(std::string_view key, std::vector<std::string> &out) {
  auto entry = take(key);
  if (!entry)
    return false;
  auto values = read_scalar_list(entry->value, entry->path, entry->value_line, sink_);
  if (!values)
    return false;
  out = std::move(*values);
  return true;
}

bool MapReader::read_string_map(std::string_view key, std::map<std::string, std::string> &out) {
  auto entry = take(key);
  if (!entry)
    return false;
  if (!entry->value.IsMap()) {
    sink_.error(entry->key_line, entry->path,
                "must be a mapping of names to values, got " + node_kind(entry->value));
    return false;
  }
  MapReader map(entry->value, entry->path, entry->key_line, sink_);
  bool valid = true;
  std::map<std::string, std::string> values;
  for (const auto &item : map.entries()) {
    if (is_null_value(item.value)) {
      values[item.key] = "";
      continue;
    }
    auto text = read_scalar_string(item.value, item.path, item.value_line, sink_);
    if (!text) {
      valid = false;
      continue;
    }
    values[item.key] = std::move(*text);
  }
  if (!valid)
    return false;
  out = std::move(values);
  return true;
}

MapReader MapReader::section(std::string_view key) {
  known_.insert(std::string(key));
  for (const auto &entry : entries_) {
    if (entry.key == key)
      return MapReader(entry.value, entry.path, entry.key_line, sink_);
  }
  return MapReader(YAML::Node(), key_path(key), line_, sink_);
}

void MapReader::error(std::string_view key, std::string message) {
  int line = line_;
  for (const auto &entry : entries_) {
    if (entry.key == key)
      line = entry.value_line;
  }
  sink_.error(line, key_path(key), std::move(message));
}

void MapReader::section_error(std::string message) {
  sink_.error(line_, path_, std::move(message));
}

void MapReader::finish() {
  for (const auto &entry : entries_) {
    if (known_.contains(entry.key))
      continue;
    std::string message = "unknown key";
    if (auto suggestion = closest_key(entry.key, known_); !suggestion.empty()) {
      message += "; did you mean \"" + suggestion + "\"?";
    }
    sink_.error(entry.key_line, entry.path, message);
  }
}

std::optional<std::string> read_scalar_string(YAML::Node node, const std::string &path, int line,
                                              DiagnosticSink &sink) {
  if (!node.IsScalar()) {
    sink.error(line, path, "must be a single value, got " + node_kind(node));
    return std::nullopt;
  }
  // Record that this is a string, so re-emitted YAML quotes it ("0123" stays a string).
  if (node.Tag() == "?")
    node.SetTag("!");
  return node.Scalar();
}

std::optional<bool> read_scalar_bool(const YAML::Node &node, const std::string &path, int line,
                                     DiagnosticSink &sink) {
  if (node.IsScalar()) {
    if (auto value = parse_bool(node.Scalar()))
      return value;
    sink.error(line, path, "must be true or false, got " + quote_for_message(node.Scalar()));
  } else {
    sink.error(line, path, "must be true or false, got " + node_kind(node));
  }
  return std::nullopt;
}

std::optional<int64_t> read_scalar_int(const YAML::Node &node, const std::string &path, int line,
                                       DiagnosticSink &sink) {
  if (!node.IsScalar()) {
    sink.error(line, path, "must be an integer, got " + node_kind(node));
    return std::nullopt;
  }
  std::string_view text = node.Scalar();
  if (text.starts_with('+'))
    text.remove_prefix(1);
  int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
    sink.error(line, path, "must be an integer, got " + quote_for_message(node.Scalar()));
    return std::nullopt;
  }
  return value;
}

std::optional<std::vector<std::string>> read_scalar_list(const YAML::Node &node,
                                                         const std::string &path, int line,
                                                         DiagnosticSink &sink) {
  if (node.IsScalar()) {  // a single value stands for a one-element list, as upstream
    auto text = read_scalar_string(node, path, line, sink);
    if (!text)
      return std::nullopt;
    return std::vector<std::string>{*text};
  }
  if (!node.IsSequence()) {
    sink.error(line, path, "must be a list, got " + node_kind(node));
    return std::nullopt;
  }
  std::vector<std::string> values;
  bool valid = true;
  for (std::size_t i = 0; i < node.size(); ++i) {
    const YAML::Node item = node[i];
    const std::string item_path = index_path(path, i);
    const int item_line = line_of_node(item) > 0 ? line_of_node(item) : line;
    if (is_null_value(item)) {
      sink.error(item_line, item_path, "must not be empty");
      valid = false;
      continue;
    }
    auto text = read_scalar_string(item, item_path, item_line, sink);
    if (!text) {
      valid = false;
      continue;
    }
    values.push_back(std::move(*text));
  }
  if (!valid)
    return std::nullopt;
  return values;
}

}  // namespace opsup::config::internal
