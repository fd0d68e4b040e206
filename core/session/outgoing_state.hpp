// The agent's side of the OpAMP conversation: the current value of every AgentToServer
// status field, which of them changed since the last message, and the queue of custom
// messages. Builds each outgoing message with status compression (spec: "Status
// reporting, compression, sequence numbers"). Session-internal; uses protobuf.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "opamp.pb.h"
#include "session/session_options.hpp"

namespace opsup::session {

namespace proto = ::opamp::proto::v1;

class OutgoingState {
 public:
  static constexpr std::size_t kMaxQueuedCustomMessages = 64;

  explicit OutgoingState(uint64_t capabilities);

  void set_instance_uid(const InstanceUid &uid);
  void set_capabilities(uint64_t capabilities);
  uint64_t capabilities() const { return capabilities_; }

  // The core's own field. Returns true when the value changed.
  bool set_agent_description(const proto::AgentDescription &description);

  // A module's contribution (SupervisorContext::set_agent_fields): each field in `owned`
  // takes its value from `fields` or is cleared. custom_capabilities (12) is the union over
  // modules; custom_message (13) is queued. Fields the core owns (instance_uid,
  // sequence_num, agent_description, capabilities, agent_disconnect) are refused with a
  // warning naming the module. Returns true when something new is waiting to be sent.
  bool set_module_fields(std::string_view module_id, std::span<const uint32_t> owned,
                         const proto::AgentToServer &fields);

  // Whether a module has set remote_config_status (the session then leaves it alone).
  bool has_remote_config_status() const { return current_.has_remote_config_status(); }

  // The next message carries every known status field.
  void request_full_state() { full_state_pending_ = true; }
  bool full_state_pending() const { return full_state_pending_; }

  // Changed fields, a pending full report or queued custom messages.
  bool has_pending() const;

  // Builds the next message and advances the sequence number: instance_uid,
  // sequence_num and capabilities always; every known status field when a full report is
  // pending, otherwise only the changed ones; at most one queued custom message. With
  // nothing pending it is a heartbeat (instance_uid, sequence_num, capabilities only).
  proto::AgentToServer take_next_message();

  // The connection's last message: pending changes plus agent_disconnect.
  proto::AgentToServer take_disconnect_message();

  uint64_t next_sequence_num() const { return next_sequence_num_; }

 private:
  bool replace_field(uint32_t field, const proto::AgentToServer &from);
  bool recompute_custom_capabilities();

  proto::AgentToServer current_;  // status fields only
  InstanceUid instance_uid_{};
  uint64_t capabilities_;
  uint64_t next_sequence_num_ = 0;
  uint32_t changed_fields_ = 0;  // bit N: field N changed since the last message
  bool full_state_pending_ = true;
  std::map<std::string, std::vector<std::string>, std::less<>> custom_capabilities_by_module_;
  std::deque<proto::CustomMessage> custom_messages_;
};

// Serializes with deterministic map order, so equal messages give equal bytes.
std::string serialize_deterministic(const google::protobuf::MessageLite &message);

}  // namespace opsup::session
