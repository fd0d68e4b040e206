#include "modules/opamp_names.hpp"

#include <array>
#include <cstdio>
#include <utility>

#include "opsup/opamp_constants.h"

namespace opsup::modules {
namespace {

constexpr std::array<std::pair<uint64_t, std::string_view>, 16> kCapabilityNames{{
    {OPSUP_CAP_REPORTS_STATUS, "ReportsStatus"},
    {OPSUP_CAP_ACCEPTS_REMOTE_CONFIG, "AcceptsRemoteConfig"},
    {OPSUP_CAP_REPORTS_EFFECTIVE_CONFIG, "ReportsEffectiveConfig"},
    {OPSUP_CAP_ACCEPTS_PACKAGES, "AcceptsPackages"},
    {OPSUP_CAP_REPORTS_PACKAGE_STATUSES, "ReportsPackageStatuses"},
    {OPSUP_CAP_REPORTS_OWN_TRACES, "ReportsOwnTraces"},
    {OPSUP_CAP_REPORTS_OWN_METRICS, "ReportsOwnMetrics"},
    {OPSUP_CAP_REPORTS_OWN_LOGS, "ReportsOwnLogs"},
    {OPSUP_CAP_ACCEPTS_OPAMP_CONNECTION_SETTINGS, "AcceptsOpAMPConnectionSettings"},
    {OPSUP_CAP_ACCEPTS_OTHER_CONNECTION_SETTINGS, "AcceptsOtherConnectionSettings"},
    {OPSUP_CAP_ACCEPTS_RESTART_COMMAND, "AcceptsRestartCommand"},
    {OPSUP_CAP_REPORTS_HEALTH, "ReportsHealth"},
    {OPSUP_CAP_REPORTS_REMOTE_CONFIG, "ReportsRemoteConfig"},
    {OPSUP_CAP_REPORTS_HEARTBEAT, "ReportsHeartbeat"},
    {OPSUP_CAP_REPORTS_AVAILABLE_COMPONENTS, "ReportsAvailableComponents"},
    {OPSUP_CAP_REPORTS_CONNECTION_SETTINGS_STATUS, "ReportsConnectionSettingsStatus"},
}};

constexpr std::array<std::string_view, 16> kAgentToServerFields{
    "",
    "instance_uid",
    "sequence_num",
    "agent_description",
    "capabilities",
    "health",
    "effective_config",
    "remote_config_status",
    "package_statuses",
    "agent_disconnect",
    "flags",
    "connection_settings_request",
    "custom_capabilities",
    "custom_message",
    "available_components",
    "connection_settings_status",
};

constexpr std::array<std::string_view, 12> kServerToAgentFields{
    "",
    "instance_uid",
    "error_response",
    "remote_config",
    "connection_settings",
    "packages_available",
    "flags",
    "capabilities",
    "agent_identification",
    "command",
    "custom_capabilities",
    "custom_message",
};

template <size_t N>
std::string field_name(const std::array<std::string_view, N> &names, uint32_t number) {
  if (number > 0 && number < N)
    return std::string(names[number]);
  return "field " + std::to_string(number);
}

}  // namespace

std::string capability_name(uint64_t bit) {
  for (const auto &[value, name] : kCapabilityNames) {
    if (value == bit)
      return std::string(name);
  }
  char text[32];
  std::snprintf(text, sizeof text, "bit 0x%llx", static_cast<unsigned long long>(bit));
  return text;
}

std::string capability_names(uint64_t bits) {
  if (bits == 0)
    return "none";
  std::string names;
  for (int shift = 0; shift < 64; ++shift) {
    const uint64_t bit = uint64_t{1} << shift;
    if ((bits & bit) == 0)
      continue;
    if (!names.empty())
      names += '|';
    names += capability_name(bit);
  }
  return names;
}

std::string agent_to_server_field_name(uint32_t field_number) {
  return field_name(kAgentToServerFields, field_number);
}

std::string server_to_agent_field_name(uint32_t field_number) {
  return field_name(kServerToAgentFields, field_number);
}

}  // namespace opsup::modules
