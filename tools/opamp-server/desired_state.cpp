#include "desired_state.hpp"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <algorithm>
#include <vector>

#include "common/sha256.hpp"

namespace opsup::opamp_server {

namespace {
uint64_t capability_for_part(const std::string &part) {
  if (part == kOfferOpamp)
    return proto::AgentCapabilities_AcceptsOpAMPConnectionSettings;
  if (part == kOfferOwnMetrics)
    return proto::AgentCapabilities_ReportsOwnMetrics;
  if (part == kOfferOwnTraces)
    return proto::AgentCapabilities_ReportsOwnTraces;
  if (part == kOfferOwnLogs)
    return proto::AgentCapabilities_ReportsOwnLogs;
  return proto::AgentCapabilities_AcceptsOtherConnectionSettings;
}
}  // namespace

std::string config_map_hash(const proto::AgentConfigMap &config) {
  std::vector<std::string> names;
  for (const auto &[name, file] : config.config_map())
    names.push_back(name);
  std::sort(names.begin(), names.end());
  std::string canonical;
  for (const auto &name : names) {
    const auto &file = config.config_map().at(name);
    canonical += name;
    canonical.push_back('\0');
    canonical += file.content_type();
    canonical.push_back('\0');
    canonical += std::to_string(file.body().size());
    canonical.push_back('\0');
    canonical += file.body();
  }
  return common::sha256(canonical);
}

std::string serialize_deterministically(const google::protobuf::MessageLite &message) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return bytes;
}

void DesiredState::set_remote_config(proto::AgentConfigMap config) {
  proto::AgentRemoteConfig remote;
  remote.set_config_hash(config_map_hash(config));
  *remote.mutable_config() = std::move(config);
  remote_config_ = std::move(remote);
  remote_config_sent_on_connection_ = false;
}

bool DesiredState::remote_config_due(const AgentState &agent,
                                     const proto::AgentToServer *incoming) const {
  if (!remote_config_)
    return false;
  if (!agent.has_capability(proto::AgentCapabilities_AcceptsRemoteConfig))
    return false;
  if (agent.remote_config_status &&
      agent.remote_config_status->last_remote_config_hash() == remote_config_->config_hash()) {
    return false;
  }
  // Sent already on this connection: only a fresh report of a different hash asks again.
  if (remote_config_sent_on_connection_) {
    return incoming != nullptr && incoming->has_remote_config_status();
  }
  return true;
}

std::string DesiredState::offer_part_bytes(const std::string &part) const {
  if (part == kOfferOpamp)
    return serialize_deterministically(offers_.opamp());
  if (part == kOfferOwnMetrics)
    return serialize_deterministically(offers_.own_metrics());
  if (part == kOfferOwnTraces)
    return serialize_deterministically(offers_.own_traces());
  if (part == kOfferOwnLogs)
    return serialize_deterministically(offers_.own_logs());
  proto::ConnectionSettingsOffers only_other;
  *only_other.mutable_other_connections() = offers_.other_connections();
  return serialize_deterministically(only_other);
}

void DesiredState::update_offers_hash() {
  // The hash covers every part, including the ones a given message leaves out.
  std::string canonical;
  for (const auto &part : offer_parts_) {
    canonical += part;
    canonical.push_back('\0');
    std::string bytes = offer_part_bytes(part);
    canonical += std::to_string(bytes.size());
    canonical.push_back('\0');
    canonical += bytes;
  }
  offers_.set_hash(common::sha256(canonical));
}

void DesiredState::set_opamp_settings(proto::OpAMPConnectionSettings settings) {
  *offers_.mutable_opamp() = std::move(settings);
  offer_parts_.insert(kOfferOpamp);
  update_offers_hash();
}

void DesiredState::set_own_telemetry(const char *part,
                                     proto::TelemetryConnectionSettings settings) {
  std::string name = part;
  if (name == kOfferOwnMetrics) {
    *offers_.mutable_own_metrics() = std::move(settings);
  } else if (name == kOfferOwnTraces) {
    *offers_.mutable_own_traces() = std::move(settings);
  } else {
    *offers_.mutable_own_logs() = std::move(settings);
  }
  offer_parts_.insert(name);
  update_offers_hash();
}

void DesiredState::set_other_connections(
    google::protobuf::Map<std::string, proto::OtherConnectionSettings> connections) {
  *offers_.mutable_other_connections() = std::move(connections);
  offer_parts_.insert(kOfferOtherConnections);
  update_offers_hash();
}

std::optional<proto::ConnectionSettingsOffers> DesiredState::take_due_offers(
    const AgentState &agent) {
  proto::ConnectionSettingsOffers due;
  bool any = false;
  for (const auto &part : offer_parts_) {
    if (!agent.has_capability(capability_for_part(part)))
      continue;
    std::string bytes = offer_part_bytes(part);
    auto delivered = delivered_offer_parts_.find(part);
    if (delivered != delivered_offer_parts_.end() && delivered->second == bytes)
      continue;
    if (part == kOfferOpamp) {
      *due.mutable_opamp() = offers_.opamp();
    } else if (part == kOfferOwnMetrics) {
      *due.mutable_own_metrics() = offers_.own_metrics();
    } else if (part == kOfferOwnTraces) {
      *due.mutable_own_traces() = offers_.own_traces();
    } else if (part == kOfferOwnLogs) {
      *due.mutable_own_logs() = offers_.own_logs();
    } else {
      *due.mutable_other_connections() = offers_.other_connections();
    }
    delivered_offer_parts_[part] = std::move(bytes);
    any = true;
  }
  if (!any)
    return std::nullopt;
  due.set_hash(offers_.hash());
  return due;
}

std::optional<uint64_t> DesiredState::offered_heartbeat_interval_seconds() const {
  if (!offer_parts_.count(kOfferOpamp))
    return std::nullopt;
  return offers_.opamp().heartbeat_interval_seconds();
}

void DesiredState::set_packages(proto::PackagesAvailable packages) {
  packages_ = std::move(packages);
}

std::optional<proto::PackagesAvailable> DesiredState::take_due_packages(const AgentState &agent) {
  if (!packages_)
    return std::nullopt;
  if (!agent.has_capability(proto::AgentCapabilities_AcceptsPackages))
    return std::nullopt;
  if (delivered_packages_hash_ == packages_->all_packages_hash())
    return std::nullopt;
  delivered_packages_hash_ = packages_->all_packages_hash();
  return packages_;
}

void DesiredState::on_fresh_connection(const proto::AgentToServer &first_message) {
  remote_config_sent_on_connection_ = false;
  if (has_offers() && first_message.has_connection_settings_status() &&
      first_message.connection_settings_status().last_connection_settings_hash() !=
          offers_.hash()) {
    delivered_offer_parts_.clear();
  }
  if (packages_ && first_message.has_package_statuses() &&
      first_message.package_statuses().server_provided_all_packages_hash() !=
          packages_->all_packages_hash()) {
    delivered_packages_hash_.reset();
  }
}

}  // namespace opsup::opamp_server
