// The connection_settings module's settings: which of its capabilities the supervisor config
// switches on (read from the `capabilities` section the host hands to create, already
// validated by the core), so it reports a status only when ReportsConnectionSettingsStatus is
// advertised.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace opsup::connection_settings {

struct Capabilities {
  bool reports_status = false;  // capabilities.reports_connection_settings_status
  bool accepts_other = false;   // capabilities.accepts_other_connection_settings
  // storage.directory made absolute ("" when the config has none): where other connections'
  // certificate files go.
  std::string storage_directory;
};

// Throws std::invalid_argument naming the key when the config does not parse.
Capabilities parse_capabilities(std::string_view supervisor_config_yaml);

}  // namespace opsup::connection_settings
