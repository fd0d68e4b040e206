#include "session/outgoing_state.hpp"

#include <set>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <spdlog/spdlog.h>

namespace opsup::session {
namespace {

enum Field : uint32_t {
  kInstanceUid = 1,
  kSequenceNum = 2,
  kAgentDescription = 3,
  kCapabilities = 4,
  kHealth = 5,
  kEffectiveConfig = 6,
  kRemoteConfigStatus = 7,
  kPackageStatuses = 8,
  kAgentDisconnect = 9,
  kFlags = 10,
  kConnectionSettingsRequest = 11,
  kCustomCapabilities = 12,
  kCustomMessage = 13,
  kAvailableComponents = 14,
  kConnectionSettingsStatus = 15,
};

// Fields that describe state: sent when changed and in every full report.
constexpr uint32_t kStatusFields[] = {kAgentDescription,          kHealth,
                                      kEffectiveConfig,           kRemoteConfigStatus,
                                      kPackageStatuses,           kFlags,
                                      kConnectionSettingsRequest, kCustomCapabilities,
                                      kAvailableComponents,       kConnectionSettingsStatus};

// Copies status field `field` from `from` to `to` (clearing it when absent in `from`).
// Returns false for a field number that is not a status field.
bool copy_status_field(uint32_t field, const proto::AgentToServer &from, proto::AgentToServer &to) {
  switch (field) {
    case kAgentDescription:
      if (from.has_agent_description()) {
        to.mutable_agent_description()->CopyFrom(from.agent_description());
      } else {
        to.clear_agent_description();
      }
      return true;
    case kHealth:
      if (from.has_health()) {
        to.mutable_health()->CopyFrom(from.health());
      } else {
        to.clear_health();
      }
      return true;
    case kEffectiveConfig:
      if (from.has_effective_config()) {
        to.mutable_effective_config()->CopyFrom(from.effective_config());
      } else {
        to.clear_effective_config();
      }
      return true;
    case kRemoteConfigStatus:
      if (from.has_remote_config_status()) {
        to.mutable_remote_config_status()->CopyFrom(from.remote_config_status());
      } else {
        to.clear_remote_config_status();
      }
      return true;
    case kPackageStatuses:
      if (from.has_package_statuses()) {
        to.mutable_package_statuses()->CopyFrom(from.package_statuses());
      } else {
        to.clear_package_statuses();
      }
      return true;
    case kFlags:
      to.set_flags(from.flags());
      return true;
    case kConnectionSettingsRequest:
      if (from.has_connection_settings_request()) {
        to.mutable_connection_settings_request()->CopyFrom(from.connection_settings_request());
      } else {
        to.clear_connection_settings_request();
      }
      return true;
    case kCustomCapabilities:
      if (from.has_custom_capabilities()) {
        to.mutable_custom_capabilities()->CopyFrom(from.custom_capabilities());
      } else {
        to.clear_custom_capabilities();
      }
      return true;
    case kAvailableComponents:
      if (from.has_available_components()) {
        to.mutable_available_components()->CopyFrom(from.available_components());
      } else {
        to.clear_available_components();
      }
      return true;
    case kConnectionSettingsStatus:
      if (from.has_connection_settings_status()) {
        to.mutable_connection_settings_status()->CopyFrom(from.connection_settings_status());
      } else {
        to.clear_connection_settings_status();
      }
      return true;
    default:
      return false;
  }
}

// The bytes of one status field of `message` (empty when absent).
std::string field_bytes(uint32_t field, const proto::AgentToServer &message) {
  proto::AgentToServer only;
  copy_status_field(field, message, only);
  return serialize_deterministic(only);
}

uint32_t bit(uint32_t field) {
  return 1u << field;
}

}  // namespace

std::string serialize_deterministic(const google::protobuf::MessageLite &message) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return bytes;
}

OutgoingState::OutgoingState(uint64_t capabilities) : capabilities_(capabilities) {}

void OutgoingState::set_instance_uid(const InstanceUid &uid) {
  instance_uid_ = uid;
}

void OutgoingState::set_capabilities(uint64_t capabilities) {
  if (capabilities == capabilities_)
    return;
  capabilities_ = capabilities;
  changed_fields_ |= bit(kCapabilities);  // not a status field, but worth a message
}

bool OutgoingState::set_agent_description(const proto::AgentDescription &description) {
  proto::AgentToServer from;
  from.mutable_agent_description()->CopyFrom(description);
  return replace_field(kAgentDescription, from);
}

bool OutgoingState::replace_field(uint32_t field, const proto::AgentToServer &from) {
  const std::string before = field_bytes(field, current_);
  copy_status_field(field, from, current_);
  if (field_bytes(field, current_) == before)
    return false;
  changed_fields_ |= bit(field);
  return true;
}

bool OutgoingState::recompute_custom_capabilities() {
  std::set<std::string> all;
  for (const auto &[module, capabilities] : custom_capabilities_by_module_) {
    all.insert(capabilities.begin(), capabilities.end());
  }
  proto::AgentToServer from;
  if (!custom_capabilities_by_module_.empty()) {
    auto *list = from.mutable_custom_capabilities();
    for (const std::string &capability : all)
      list->add_capabilities(capability);
  }
  return replace_field(kCustomCapabilities, from);
}

bool OutgoingState::set_module_fields(std::string_view module_id, std::span<const uint32_t> owned,
                                      const proto::AgentToServer &fields) {
  bool pending = false;
  for (uint32_t field : owned) {
    switch (field) {
      case kCustomCapabilities:
        if (fields.has_custom_capabilities()) {
          const auto &list = fields.custom_capabilities().capabilities();
          custom_capabilities_by_module_[std::string(module_id)].assign(list.begin(), list.end());
        } else if (auto it = custom_capabilities_by_module_.find(module_id);
                   it != custom_capabilities_by_module_.end()) {
          custom_capabilities_by_module_.erase(it);
        }
        pending |= recompute_custom_capabilities();
        break;
      case kCustomMessage:
        if (!fields.has_custom_message())
          break;
        if (custom_messages_.size() >= kMaxQueuedCustomMessages) {
          spdlog::warn(
              "Custom message queue full ({} messages); dropping the message from module {} "
              "(capability \"{}\", type \"{}\")",
              kMaxQueuedCustomMessages, module_id, fields.custom_message().capability(),
              fields.custom_message().type());
          break;
        }
        custom_messages_.push_back(fields.custom_message());
        pending = true;
        break;
      case kInstanceUid:
      case kSequenceNum:
      case kAgentDescription:
      case kCapabilities:
      case kAgentDisconnect:
        spdlog::warn("Module {} tried to set AgentToServer field {}, which the core owns; ignored",
                     module_id, field);
        break;
      default:
        if (field == kFlags || field == kHealth || field == kEffectiveConfig ||
            field == kRemoteConfigStatus || field == kPackageStatuses ||
            field == kConnectionSettingsRequest || field == kAvailableComponents ||
            field == kConnectionSettingsStatus) {
          pending |= replace_field(field, fields);
        } else {
          spdlog::warn("Module {} set unknown AgentToServer field {}; ignored", module_id, field);
        }
        break;
    }
  }
  return pending;
}

bool OutgoingState::has_pending() const {
  return full_state_pending_ || changed_fields_ != 0 || !custom_messages_.empty();
}

proto::AgentToServer OutgoingState::take_next_message() {
  proto::AgentToServer message;
  message.set_instance_uid(instance_uid_.data(), instance_uid_.size());
  message.set_sequence_num(next_sequence_num_++);
  message.set_capabilities(capabilities_);
  for (uint32_t field : kStatusFields) {
    if (full_state_pending_ || (changed_fields_ & bit(field)) != 0) {
      copy_status_field(field, current_, message);
    }
  }
  if (!custom_messages_.empty()) {
    *message.mutable_custom_message() = std::move(custom_messages_.front());
    custom_messages_.pop_front();
  }
  full_state_pending_ = false;
  changed_fields_ = 0;
  return message;
}

proto::AgentToServer OutgoingState::take_disconnect_message() {
  proto::AgentToServer message = take_next_message();
  message.mutable_agent_disconnect();
  return message;
}

}  // namespace opsup::session
