// Each module's own section of the supervisor config (plugins.<module id>), cut out of
// the YAML text modules are created with, for the own_settings_yaml host service.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace opsup::modules {

// plugins.<id> of `supervisor_config_yaml` for every id written there, each re-emitted as
// YAML text that keeps scalar types. Ids are whole keys ("com.example.x" is one key, not
// a path); plugins.directory and plugins.disable are the host's and left out, and so are
// null sections. Empty when the text has no plugins mapping or does not parse.
std::map<std::string, std::string> module_settings_sections(
    std::string_view supervisor_config_yaml);

}  // namespace opsup::modules
