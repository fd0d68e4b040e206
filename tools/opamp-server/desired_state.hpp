// What the server wants one agent to have (remote config, connection settings offers,
// packages) and what has already been delivered. Desired state is re-sent when the agent
// reports something different (per spec), so an agent that was offline gets it later.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>

#include "agent_state.hpp"
#include "opamp.pb.h"

namespace opsup::opamp_server {

namespace proto = opamp::proto::v1;

// SHA-256 over the files sorted by name: for each, name NUL content_type NUL
// decimal body length NUL body. Stable across runs and easy to recompute in a script.
std::string config_map_hash(const proto::AgentConfigMap &config);

// Protobuf serialization with sorted map entries, so equal messages give equal bytes.
std::string serialize_deterministically(const google::protobuf::MessageLite &message);

// Names of the parts of ConnectionSettingsOffers, each set by its own action.
inline constexpr const char *kOfferOpamp = "opamp";
inline constexpr const char *kOfferOwnMetrics = "own_metrics";
inline constexpr const char *kOfferOwnTraces = "own_traces";
inline constexpr const char *kOfferOwnLogs = "own_logs";
inline constexpr const char *kOfferOtherConnections = "other_connections";

class DesiredState {
 public:
  // Remote config.
  void set_remote_config(proto::AgentConfigMap config);
  const std::optional<proto::AgentRemoteConfig> &remote_config() const { return remote_config_; }
  // Whether the next message to the agent should carry the remote config. `incoming` is the
  // message being answered, if any.
  bool remote_config_due(const AgentState &agent, const proto::AgentToServer *incoming) const;
  void mark_remote_config_sent() { remote_config_sent_on_connection_ = true; }

  // Connection settings offers: each part replaces its previous value.
  void set_opamp_settings(proto::OpAMPConnectionSettings settings);
  void set_own_telemetry(const char *part, proto::TelemetryConnectionSettings settings);
  void set_other_connections(
      google::protobuf::Map<std::string, proto::OtherConnectionSettings> connections);
  const proto::ConnectionSettingsOffers &offers() const { return offers_; }  // hash included
  bool has_offers() const { return !offer_parts_.empty(); }
  // The parts the agent may receive (by its capabilities) and has not received yet, with
  // the overall hash; nullopt when there is nothing new. Marks them delivered.
  std::optional<proto::ConnectionSettingsOffers> take_due_offers(const AgentState &agent);
  std::optional<uint64_t> offered_heartbeat_interval_seconds() const;

  // Packages.
  void set_packages(proto::PackagesAvailable packages);
  const std::optional<proto::PackagesAvailable> &packages() const { return packages_; }
  std::optional<proto::PackagesAvailable> take_due_packages(const AgentState &agent);

  // A new connection: forget per-connection delivery, and re-deliver what the agent now
  // reports it does not have.
  void on_fresh_connection(const proto::AgentToServer &first_message);

 private:
  std::string offer_part_bytes(const std::string &part) const;
  void update_offers_hash();

  std::optional<proto::AgentRemoteConfig> remote_config_;
  bool remote_config_sent_on_connection_ = false;

  proto::ConnectionSettingsOffers offers_;
  std::set<std::string> offer_parts_;                         // parts ever set
  std::map<std::string, std::string> delivered_offer_parts_;  // part → bytes delivered

  std::optional<proto::PackagesAvailable> packages_;
  std::optional<std::string> delivered_packages_hash_;
};

}  // namespace opsup::opamp_server
