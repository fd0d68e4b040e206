// Decides which modules receive a message. A module receives the whole serialized
// message when it holds a field the module asked for; it reads its own part.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace opsup::modules {

// What routing needs to know about one module.
struct RoutingTarget {
  uint64_t capabilities = 0;
  const std::vector<uint32_t> *wanted_fields = nullptr;  // field numbers it asked for
  const std::vector<std::string> *custom_capabilities = nullptr;
};

struct Routing {
  // Indexes into the targets that receive the message, in order.
  std::vector<size_t> recipients;
  // (target index, field) pairs a target asked for but does not get because the
  // capability the field belongs to is not advertised.
  std::vector<std::pair<size_t, uint32_t>> withheld;
};

// Who receives `server_to_agent`, or nullopt when the bytes are malformed. Rules:
//   - remote_config (3) needs AcceptsRemoteConfig advertised, packages_available (5)
//     AcceptsPackages, command (9) AcceptsRestartCommand;
//   - connection_settings (4) goes to a module that owns an advertised bit whose part is
//     present: opamp → AcceptsOpAMPConnectionSettings, own_metrics/own_traces/own_logs →
//     ReportsOwnMetrics/Traces/Logs, other_connections → AcceptsOtherConnectionSettings;
//   - custom_capabilities (10) goes to modules that declare custom capabilities, and
//     custom_message (11) only to the module declaring that message's capability;
//   - a message holding command (9) is a command: its other fields are ignored (spec);
//   - other fields (instance_uid, error_response, flags, capabilities,
//     agent_identification) go to whoever asked.
std::optional<Routing> route_server_to_agent(std::string_view server_to_agent,
                                             uint64_t advertised_capabilities,
                                             const std::vector<RoutingTarget> &targets);

// `server_to_agent` without the fields whose capability is not advertised (remote_config,
// packages_available, command, and each ConnectionSettingsOffers part by its bit; offers
// left with no part go entirely), so no module reads what the agent did not ask for.
// nullopt when nothing had to go (use the original bytes) or the bytes are malformed.
std::optional<std::string> without_unadvertised_fields(std::string_view server_to_agent,
                                                       uint64_t advertised_capabilities);

// ServerToAgent.custom_message split into its parts (views into the scanned bytes).
struct DecodedCustomMessage {
  std::string_view capability;
  std::string_view type;
  std::string_view data;
};

// The custom_message of `server_to_agent` for the on_custom_message hook, or nullopt when
// there is none, the message carries a command (its other fields are ignored), or the
// bytes are malformed. Of repeated occurrences (or parts), the last counts.
std::optional<DecodedCustomMessage> decoded_custom_message(std::string_view server_to_agent);

// Indexes of the modules that asked for a field present in `agent_to_server` (from the
// local Collector), or nullopt when the bytes are malformed.
std::optional<std::vector<size_t>> route_agent_to_server(std::string_view agent_to_server,
                                                         const std::vector<RoutingTarget> &targets);

}  // namespace opsup::modules
