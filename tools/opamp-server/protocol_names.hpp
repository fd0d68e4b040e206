// Human-readable names for OpAMP bits and enums, as shown in the JSON API and the web page.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace opsup::opamp_server {

// Names of the set AgentCapabilities bits ("ReportsStatus", ...); unknown bits as "0x10000".
std::vector<std::string> agent_capability_names(uint64_t capabilities);
std::vector<std::string> server_capability_names(uint64_t capabilities);
std::vector<std::string> agent_to_server_flag_names(uint64_t flags);
std::vector<std::string> server_to_agent_flag_names(uint64_t flags);

// "UNSET", "APPLIED", "APPLYING", "FAILED" (RemoteConfigStatuses and ConnectionSettingsStatuses).
std::string apply_status_name(int status);
// "Installed", "InstallPending", "Installing", "InstallFailed", "Downloading".
std::string package_status_name(int status);
std::string package_type_name(int type);  // "TopLevel", "Addon"

// The capabilities this server puts in every ServerToAgent.
uint64_t server_capabilities();

}  // namespace opsup::opamp_server
