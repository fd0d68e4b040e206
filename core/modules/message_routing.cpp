#include "modules/message_routing.hpp"

#include <algorithm>
#include <array>
#include <set>
#include <utility>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>

#include "modules/wire_scan.hpp"
#include "opsup/opamp_constants.h"

namespace opsup::modules {
namespace {

using google::protobuf::internal::WireFormatLite;

constexpr std::array<std::pair<uint32_t, uint64_t>, 5> kOfferPartCapability{{
    {OPSUP_OFFERS_OPAMP, OPSUP_CAP_ACCEPTS_OPAMP_CONNECTION_SETTINGS},
    {OPSUP_OFFERS_OWN_METRICS, OPSUP_CAP_REPORTS_OWN_METRICS},
    {OPSUP_OFFERS_OWN_TRACES, OPSUP_CAP_REPORTS_OWN_TRACES},
    {OPSUP_OFFERS_OWN_LOGS, OPSUP_CAP_REPORTS_OWN_LOGS},
    {OPSUP_OFFERS_OTHER_CONNECTIONS, OPSUP_CAP_ACCEPTS_OTHER_CONNECTION_SETTINGS},
}};

// The capability bit a ConnectionSettingsOffers part belongs to; 0 for the hash and for
// parts newer than this host.
uint64_t offer_part_capability(uint32_t part) {
  for (const auto &[number, bit] : kOfferPartCapability) {
    if (part == number)
      return bit;
  }
  return 0;
}

// The capability bit a top-level ServerToAgent field needs advertised; 0 when none.
uint64_t gated_field_capability(uint32_t field) {
  switch (field) {
    case OPSUP_S2A_REMOTE_CONFIG:
      return OPSUP_CAP_ACCEPTS_REMOTE_CONFIG;
    case OPSUP_S2A_PACKAGES_AVAILABLE:
      return OPSUP_CAP_ACCEPTS_PACKAGES;
    case OPSUP_S2A_COMMAND:
      return OPSUP_CAP_ACCEPTS_RESTART_COMMAND;
    default:
      return 0;
  }
}

// What a ServerToAgent holds, as far as routing cares.
struct ServerMessageSummary {
  std::set<uint32_t> fields;
  uint64_t offered_part_capabilities = 0;  // capability bits of ConnectionSettingsOffers parts
  std::set<std::string, std::less<>> custom_message_capabilities;
};

bool wants(const RoutingTarget &target, uint32_t field) {
  return target.wanted_fields != nullptr &&
         std::find(target.wanted_fields->begin(), target.wanted_fields->end(), field) !=
             target.wanted_fields->end();
}

bool declares_custom_capabilities(const RoutingTarget &target) {
  return target.custom_capabilities != nullptr && !target.custom_capabilities->empty();
}

std::optional<ServerMessageSummary> summarize(std::string_view server_to_agent) {
  const auto fields = scan_wire_fields(server_to_agent);
  if (!fields)
    return std::nullopt;
  ServerMessageSummary summary;
  for (const WireField &field : *fields) {
    summary.fields.insert(field.number);
    if (field.number == OPSUP_S2A_CONNECTION_SETTINGS && field.length_delimited) {
      const auto parts = scan_wire_fields(field.bytes);
      if (!parts)
        return std::nullopt;
      for (const WireField &part : *parts)
        summary.offered_part_capabilities |= offer_part_capability(part.number);
    } else if (field.number == OPSUP_S2A_CUSTOM_MESSAGE && field.length_delimited) {
      const auto parts = scan_wire_fields(field.bytes);
      if (!parts)
        return std::nullopt;
      for (const WireField &part : *parts) {
        if (part.number == OPSUP_CUSTOM_MESSAGE_CAPABILITY && part.length_delimited) {
          summary.custom_message_capabilities.emplace(part.bytes);
        }
      }
    }
  }
  // A command carries only command, instance_uid and capabilities; the rest is ignored.
  if (summary.fields.count(OPSUP_S2A_COMMAND)) {
    std::erase_if(summary.fields, [](uint32_t field) {
      return field != OPSUP_S2A_COMMAND && field != OPSUP_S2A_INSTANCE_UID &&
             field != OPSUP_S2A_CAPABILITIES;
    });
  }
  return summary;
}

enum class Delivery { kDeliver, kNotForTarget, kNotAdvertised };

Delivery gated(bool advertised) {
  return advertised ? Delivery::kDeliver : Delivery::kNotAdvertised;
}

Delivery delivery(const ServerMessageSummary &summary, uint32_t field, uint64_t advertised,
                  const RoutingTarget &target) {
  if (const uint64_t bit = gated_field_capability(field))
    return gated(advertised & bit);
  switch (field) {
    case OPSUP_S2A_CONNECTION_SETTINGS: {
      const uint64_t for_target = summary.offered_part_capabilities & target.capabilities;
      if (for_target == 0)
        return Delivery::kNotForTarget;
      return gated(for_target & advertised);
    }
    case OPSUP_S2A_CUSTOM_CAPABILITIES:
      return declares_custom_capabilities(target) ? Delivery::kDeliver : Delivery::kNotForTarget;
    case OPSUP_S2A_CUSTOM_MESSAGE: {
      if (!declares_custom_capabilities(target))
        return Delivery::kNotForTarget;
      const bool declared =
          std::any_of(target.custom_capabilities->begin(), target.custom_capabilities->end(),
                      [&](const std::string &name) {
                        return summary.custom_message_capabilities.count(name) != 0;
                      });
      return declared ? Delivery::kDeliver : Delivery::kNotForTarget;
    }
    default:
      return Delivery::kDeliver;
  }
}

}  // namespace

std::optional<Routing> route_server_to_agent(std::string_view server_to_agent,
                                             uint64_t advertised_capabilities,
                                             const std::vector<RoutingTarget> &targets) {
  const auto summary = summarize(server_to_agent);
  if (!summary)
    return std::nullopt;
  Routing routing;
  for (size_t index = 0; index < targets.size(); ++index) {
    const RoutingTarget &target = targets[index];
    bool receives = false;
    for (uint32_t field : summary->fields) {
      if (!wants(target, field))
        continue;
      switch (delivery(*summary, field, advertised_capabilities, target)) {
        case Delivery::kDeliver:
          receives = true;
          break;
        case Delivery::kNotAdvertised:
          routing.withheld.emplace_back(index, field);
          break;
        case Delivery::kNotForTarget:
          break;
      }
    }
    if (receives)
      routing.recipients.push_back(index);
  }
  return routing;
}

namespace {

bool top_level_field_advertised(uint32_t field, uint64_t advertised) {
  const uint64_t bit = gated_field_capability(field);
  return bit == 0 || (advertised & bit) != 0;
}

bool offer_part_advertised(uint32_t part, uint64_t advertised) {
  const uint64_t bit = offer_part_capability(part);
  return bit == 0 || (advertised & bit) != 0;
}

void append_length_delimited(std::string &out, uint32_t field, std::string_view payload) {
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.WriteTag(
      WireFormatLite::MakeTag(static_cast<int>(field), WireFormatLite::WIRETYPE_LENGTH_DELIMITED));
  coded.WriteVarint32(static_cast<uint32_t>(payload.size()));
  coded.WriteRaw(payload.data(), static_cast<int>(payload.size()));
}

// The ConnectionSettingsOffers payload without unadvertised parts; "" when no part is left.
std::optional<std::string> advertised_offers(std::string_view offers, uint64_t advertised,
                                             bool &changed) {
  const auto parts = scan_wire_fields(offers);
  if (!parts)
    return std::nullopt;
  std::string kept;
  bool any_part = false;
  for (const WireField &part : *parts) {
    if (!offer_part_advertised(part.number, advertised)) {
      changed = true;
      continue;
    }
    any_part = any_part || part.number != OPSUP_OFFERS_HASH;
    kept.append(part.encoded);
  }
  return any_part ? kept : std::string();
}

}  // namespace

std::optional<std::string> without_unadvertised_fields(std::string_view server_to_agent,
                                                       uint64_t advertised_capabilities) {
  const auto fields = scan_wire_fields(server_to_agent);
  if (!fields)
    return std::nullopt;
  std::string kept;
  bool changed = false;
  for (const WireField &field : *fields) {
    if (!top_level_field_advertised(field.number, advertised_capabilities)) {
      changed = true;
      continue;
    }
    if (field.number == OPSUP_S2A_CONNECTION_SETTINGS && field.length_delimited) {
      bool offers_changed = false;
      const auto offers = advertised_offers(field.bytes, advertised_capabilities, offers_changed);
      if (!offers)
        return std::nullopt;
      if (offers_changed) {
        changed = true;
        if (!offers->empty())
          append_length_delimited(kept, field.number, *offers);
        continue;
      }
    }
    kept.append(field.encoded);
  }
  if (!changed)
    return std::nullopt;
  return kept;
}

std::optional<std::vector<size_t>> route_agent_to_server(
    std::string_view agent_to_server, const std::vector<RoutingTarget> &targets) {
  const auto fields = top_level_field_numbers(agent_to_server);
  if (!fields)
    return std::nullopt;
  std::vector<size_t> recipients;
  for (size_t index = 0; index < targets.size(); ++index) {
    for (uint32_t field : *fields) {
      if (wants(targets[index], field)) {
        recipients.push_back(index);
        break;
      }
    }
  }
  return recipients;
}

std::optional<DecodedCustomMessage> decoded_custom_message(std::string_view server_to_agent) {
  const auto fields = scan_wire_fields(server_to_agent);
  if (!fields)
    return std::nullopt;
  std::optional<std::string_view> custom;
  for (const WireField &field : *fields) {
    if (field.number == OPSUP_S2A_COMMAND)
      return std::nullopt;
    if (field.number == OPSUP_S2A_CUSTOM_MESSAGE && field.length_delimited)
      custom = field.bytes;
  }
  if (!custom)
    return std::nullopt;
  const auto parts = scan_wire_fields(*custom);
  if (!parts)
    return std::nullopt;
  DecodedCustomMessage decoded;
  for (const WireField &part : *parts) {
    if (!part.length_delimited)
      continue;
    switch (part.number) {
      case OPSUP_CUSTOM_MESSAGE_CAPABILITY:
        decoded.capability = part.bytes;
        break;
      case OPSUP_CUSTOM_MESSAGE_TYPE:
        decoded.type = part.bytes;
        break;
      case OPSUP_CUSTOM_MESSAGE_DATA:
        decoded.data = part.bytes;
        break;
      default:
        break;
    }
  }
  return decoded;
}

}  // namespace opsup::modules
