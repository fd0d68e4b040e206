// Small readers shared by the host's parsers of a module's own settings (the signature policy
// and the download TLS of plugins.<id>): errors name the key, and the file where there is one.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

namespace opsup::modules {

// The whole of the file at `path`, named by the setting `key`; throws std::runtime_error
// "<key>: cannot read <path>" when it cannot be read. Blocking: call it off the loop.
std::string read_settings_file(const std::string &key, const std::string &path);

// The text of a scalar setting; throws std::runtime_error "<key>: expected a string" otherwise.
std::string settings_scalar(const YAML::Node &node, const std::string &key);

}  // namespace opsup::modules
