#include "protocol_names.hpp"

#include <cstdio>
#include <utility>

#include "opamp.pb.h"

namespace opsup::opamp_server {

namespace proto = opamp::proto::v1;

namespace {
using BitName = std::pair<uint64_t, const char *>;

template <std::size_t N>
std::vector<std::string> bit_names(uint64_t bits, const BitName (&table)[N]) {
  std::vector<std::string> names;
  for (const auto &[bit, name] : table) {
    if (bits & bit) {
      names.emplace_back(name);
      bits &= ~bit;
    }
  }
  for (int i = 0; i < 64; ++i) {
    uint64_t bit = uint64_t{1} << i;
    if (bits & bit) {
      char text[24];
      std::snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(bit));
      names.emplace_back(text);
    }
  }
  return names;
}

constexpr BitName kAgentCapabilities[] = {
    {proto::AgentCapabilities_ReportsStatus, "ReportsStatus"},
    {proto::AgentCapabilities_AcceptsRemoteConfig, "AcceptsRemoteConfig"},
    {proto::AgentCapabilities_ReportsEffectiveConfig, "ReportsEffectiveConfig"},
    {proto::AgentCapabilities_AcceptsPackages, "AcceptsPackages"},
    {proto::AgentCapabilities_ReportsPackageStatuses, "ReportsPackageStatuses"},
    {proto::AgentCapabilities_ReportsOwnTraces, "ReportsOwnTraces"},
    {proto::AgentCapabilities_ReportsOwnMetrics, "ReportsOwnMetrics"},
    {proto::AgentCapabilities_ReportsOwnLogs, "ReportsOwnLogs"},
    {proto::AgentCapabilities_AcceptsOpAMPConnectionSettings, "AcceptsOpAMPConnectionSettings"},
    {proto::AgentCapabilities_AcceptsOtherConnectionSettings, "AcceptsOtherConnectionSettings"},
    {proto::AgentCapabilities_AcceptsRestartCommand, "AcceptsRestartCommand"},
    {proto::AgentCapabilities_ReportsHealth, "ReportsHealth"},
    {proto::AgentCapabilities_ReportsRemoteConfig, "ReportsRemoteConfig"},
    {proto::AgentCapabilities_ReportsHeartbeat, "ReportsHeartbeat"},
    {proto::AgentCapabilities_ReportsAvailableComponents, "ReportsAvailableComponents"},
    {proto::AgentCapabilities_ReportsConnectionSettingsStatus, "ReportsConnectionSettingsStatus"},
};

constexpr BitName kServerCapabilities[] = {
    {proto::ServerCapabilities_AcceptsStatus, "AcceptsStatus"},
    {proto::ServerCapabilities_OffersRemoteConfig, "OffersRemoteConfig"},
    {proto::ServerCapabilities_AcceptsEffectiveConfig, "AcceptsEffectiveConfig"},
    {proto::ServerCapabilities_OffersPackages, "OffersPackages"},
    {proto::ServerCapabilities_AcceptsPackagesStatus, "AcceptsPackagesStatus"},
    {proto::ServerCapabilities_OffersConnectionSettings, "OffersConnectionSettings"},
    {proto::ServerCapabilities_AcceptsConnectionSettingsRequest,
     "AcceptsConnectionSettingsRequest"},
};

constexpr BitName kAgentToServerFlags[] = {
    {proto::AgentToServerFlags_RequestInstanceUid, "RequestInstanceUid"},
};

constexpr BitName kServerToAgentFlags[] = {
    {proto::ServerToAgentFlags_ReportFullState, "ReportFullState"},
    {proto::ServerToAgentFlags_ReportAvailableComponents, "ReportAvailableComponents"},
};
}  // namespace

std::vector<std::string> agent_capability_names(uint64_t capabilities) {
  return bit_names(capabilities, kAgentCapabilities);
}

std::vector<std::string> server_capability_names(uint64_t capabilities) {
  return bit_names(capabilities, kServerCapabilities);
}

std::vector<std::string> agent_to_server_flag_names(uint64_t flags) {
  return bit_names(flags, kAgentToServerFlags);
}

std::vector<std::string> server_to_agent_flag_names(uint64_t flags) {
  return bit_names(flags, kServerToAgentFlags);
}

std::string apply_status_name(int status) {
  switch (status) {
    case 0:
      return "UNSET";
    case 1:
      return "APPLIED";
    case 2:
      return "APPLYING";
    case 3:
      return "FAILED";
    default:
      return "UNKNOWN(" + std::to_string(status) + ")";
  }
}

std::string package_status_name(int status) {
  switch (status) {
    case proto::PackageStatusEnum_Installed:
      return "Installed";
    case proto::PackageStatusEnum_InstallPending:
      return "InstallPending";
    case proto::PackageStatusEnum_Installing:
      return "Installing";
    case proto::PackageStatusEnum_InstallFailed:
      return "InstallFailed";
    case proto::PackageStatusEnum_Downloading:
      return "Downloading";
    default:
      return "UNKNOWN(" + std::to_string(status) + ")";
  }
}

std::string package_type_name(int type) {
  return type == proto::PackageType_Addon ? "Addon" : "TopLevel";
}

uint64_t server_capabilities() {
  return proto::ServerCapabilities_AcceptsStatus | proto::ServerCapabilities_OffersRemoteConfig |
         proto::ServerCapabilities_AcceptsEffectiveConfig |
         proto::ServerCapabilities_OffersPackages |
         proto::ServerCapabilities_AcceptsPackagesStatus |
         proto::ServerCapabilities_OffersConnectionSettings |
         proto::ServerCapabilities_AcceptsConnectionSettingsRequest;
}

}  // namespace opsup::opamp_server
