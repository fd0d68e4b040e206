// Each module's own section of the supervisor config (plugins.<module id>), cut out of
// the YAML text modules are created with, for the own_settings_yaml host service.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace opsup::modules {

// plugins.<id> of `supervisor_config_yaml` for every id written there, each re-emitted as
// YAML text that keeps scalar types. Ids are whole keys ("com.example.x" is one key, not
// a path); plugins.directory and plugins.disable are the host's and left out, and so are
// null sections. Empty when the text has no plugins mapping or does not parse.
std::map<std::string, std::string> module_settings_sections(
    std::string_view supervisor_config_yaml);

// The types the setting_* host services read.
enum class SettingType { kString, kInt, kBool, kDurationMs, kList };

struct SettingResult {
  enum class Status { kOk, kNotFound, kWrongType } status = Status::kNotFound;
  std::string text;               // kString
  int64_t integer = 0;            // kInt
  bool boolean = false;           // kBool
  uint64_t duration_ms = 0;       // kDurationMs
  std::vector<std::string> list;  // kList
  std::string problem;            // kWrongType: "must be ..., not ..." (no key prefix)
};

// Looks `dotted_key` up in `section_yaml` (one module's plugins.<id> section as YAML
// text): each '.'-separated part is a key of a nested map. Absent and null values are
// kNotFound; a value of another type, an empty key or part, and a section that is not a
// map are kWrongType with a problem text.
SettingResult read_setting(std::string_view section_yaml, std::string_view dotted_key,
                           SettingType type);

}  // namespace opsup::modules
