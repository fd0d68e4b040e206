// The module's settings (plugins.config_policy) and their parser. Every default changes
// nothing: empty allow lists allow everything, empty deny lists deny nothing.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace opsup::config_policy {

// A wrong setting; the message starts with "plugins.config_policy.<key>: ".
class SettingsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Mode { refuse, sanitise };

struct AllowDeny {
  std::vector<std::string> allow;  // empty: everything allowed
  std::vector<std::string> deny;
};

struct Settings {
  Mode mode = Mode::refuse;
  AllowDeny read_dirs;   // access_dirs.read
  AllowDeny write_dirs;  // access_dirs.write
  // components.<kind>.{allow,deny} for receivers, processors, exporters, extensions,
  // connectors: component types (the part of the ID before '/').
  std::map<std::string, AllowDeny> components;
  // endpoints.allowed_hosts: host names or "*.suffix"; empty: any host.
  std::vector<std::string> allowed_hosts;
  // redaction.enabled and redaction.key_patterns (case-insensitive substrings of keys).
  bool redact = true;
  std::vector<std::string> secret_key_patterns = {"password", "token",  "secret",
                                                  "api_key",  "apikey", "authorization"};
};

inline constexpr size_t kMaxSettingsBytes = 256 * 1024;
inline constexpr size_t kMaxListItems = 1024;

// Parses the plugins.config_policy section (YAML text; empty or null gives defaults).
// Throws SettingsError naming the key.
Settings parse_settings(std::string_view yaml);

}  // namespace opsup::config_policy
