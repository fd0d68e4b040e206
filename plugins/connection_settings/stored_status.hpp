// What the connection_settings module keeps in persistent_state.yaml
// (modules.connection_settings.last_connection_settings_status): the last
// ConnectionSettingsStatus it reported, so the server sees it again after a restart.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include "../shared/hex.hpp"

namespace opsup::connection_settings {

struct StoredStatus {
  int status = 0;    // ConnectionSettingsStatuses: APPLIED 1, APPLYING 2, FAILED 3
  std::string hash;  // raw bytes of the offers' hash
  std::string error_message;
};

// {status: <int>, last_connection_settings_hash: <hex>, error_message: <text>}, and back
// (nullopt when unusable).
std::string status_yaml(const StoredStatus &status);
std::optional<StoredStatus> parse_status_yaml(std::string_view yaml);

using plugin_support::from_hex;
using plugin_support::to_hex;

}  // namespace opsup::connection_settings
