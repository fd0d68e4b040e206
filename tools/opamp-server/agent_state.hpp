// What one agent has reported about itself, merged over its AgentToServer messages
// (fields left out by status compression keep their last reported value).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "opamp.pb.h"

namespace opsup::opamp_server {

namespace proto = opamp::proto::v1;
using SystemTime = std::chrono::system_clock::time_point;

struct ReceivedCustomMessage {
  std::string capability;
  std::string type;
  std::string data;
  SystemTime time;
};

struct ReceivedCertificateRequest {
  std::string csr_pem;
  SystemTime time;
  bool signed_ok = false;
  std::string error;  // why the server refused to sign, when it did
};

struct AgentState {
  static constexpr std::size_t kMaxCustomMessages = 100;

  uint64_t capabilities = 0;
  std::optional<uint64_t> sequence_num;
  uint64_t flags = 0;  // of the latest message
  uint64_t message_count = 0;
  SystemTime first_seen;
  SystemTime last_seen;

  std::optional<proto::AgentDescription> description;
  std::optional<proto::ComponentHealth> health;
  std::optional<proto::EffectiveConfig> effective_config;
  std::optional<proto::RemoteConfigStatus> remote_config_status;
  std::optional<proto::PackageStatuses> package_statuses;
  std::optional<proto::ConnectionSettingsStatus> connection_settings_status;
  std::optional<std::vector<std::string>> custom_capabilities;
  std::optional<std::string> available_components_hash;  // latest reported hash
  // The latest full component map and the hash it came with.
  std::optional<proto::AvailableComponents> available_components;
  std::deque<ReceivedCustomMessage> custom_messages;  // newest last
  std::optional<ReceivedCertificateRequest> certificate_request;

  // Merges one message into the state.
  void apply(const proto::AgentToServer &message, SystemTime now);

  bool has_capability(uint64_t bit) const { return (capabilities & bit) != 0; }
  // The agent reported a components hash for which the server has no full map.
  bool lacks_full_available_components() const;
};

}  // namespace opsup::opamp_server
