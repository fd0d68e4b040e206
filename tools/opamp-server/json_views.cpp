#include "json_views.hpp"

#include "common/redact.hpp"

#include <boost/json/value.hpp>

#include <ctime>

#include "encoding.hpp"
#include "protocol_names.hpp"

namespace opsup::opamp_server {

namespace json = boost::json;

std::string format_time(std::chrono::system_clock::time_point time) {
  using namespace std::chrono;
  auto since_epoch_ms = duration_cast<milliseconds>(time.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(since_epoch_ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  std::size_t length = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(text + length, sizeof text - length, ".%03dZ",
                static_cast<int>(since_epoch_ms % 1000));
  return text;
}

namespace {
int64_t unix_ms(std::chrono::system_clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
}

json::array string_array(const std::vector<std::string> &values) {
  json::array array;
  for (const auto &value : values)
    array.emplace_back(value);
  return array;
}

// Text when it is valid UTF-8 (JSON strings must be), else base64 under `<key>_base64`.
void put_bytes(json::object &object, const std::string &key, const std::string &bytes) {
  if (is_valid_utf8(bytes)) {
    object[key] = bytes;
  } else {
    object[key] = nullptr;
    object[key + "_base64"] = base64_encode(bytes);
  }
}

// Strings of summaries are cut to this many bytes (whole UTF-8 characters) plus "…".
constexpr std::size_t kSummaryStringBytes = 256;
constexpr std::size_t kUnlimited = 0;

std::string clip(std::string text, std::size_t max_bytes) {
  return max_bytes == kUnlimited ? text : clip_utf8(std::move(text), max_bytes);
}

json::value any_value_json(const proto::AnyValue &value, std::size_t max_bytes);

json::object key_values_json(const google::protobuf::RepeatedPtrField<proto::KeyValue> &values,
                             std::size_t max_bytes = kUnlimited) {
  json::object object;
  for (const auto &entry : values)
    object[clip(entry.key(), max_bytes)] = any_value_json(entry.value(), max_bytes);
  return object;
}

// A string value as JSON, cut to `max_bytes` first when that is not kUnlimited: a summary
// never copies a large body.
json::value string_json(const std::string &text, bool base64, std::size_t max_bytes) {
  if (max_bytes != kUnlimited && text.size() > max_bytes) {
    std::string head = text.substr(0, max_bytes + 4);
    return base64 || !is_valid_utf8(clip(head, max_bytes))
               ? json::value(clip(base64_encode(head), max_bytes))
               : json::value(clip(head, max_bytes));
  }
  return base64 || !is_valid_utf8(text) ? json::value(base64_encode(text)) : json::value(text);
}

json::value any_value_json(const proto::AnyValue &value, std::size_t max_bytes) {
  switch (value.value_case()) {
    case proto::AnyValue::kStringValue:
      return string_json(value.string_value(), false, max_bytes);
    case proto::AnyValue::kBoolValue:
      return value.bool_value();
    case proto::AnyValue::kIntValue:
      return value.int_value();
    case proto::AnyValue::kDoubleValue:
      return value.double_value();
    case proto::AnyValue::kArrayValue: {
      json::array array;
      for (const auto &item : value.array_value().values())
        array.push_back(any_value_json(item, max_bytes));
      return array;
    }
    case proto::AnyValue::kKvlistValue:
      return key_values_json(value.kvlist_value().values(), max_bytes);
    case proto::AnyValue::kBytesValue:
      return string_json(value.bytes_value(), true, max_bytes);
    default:
      return nullptr;
  }
}

json::object capabilities_json(uint64_t bits, std::vector<std::string> names) {
  return {{"value", bits}, {"names", string_array(names)}};
}

json::object health_json(const proto::ComponentHealth &health, std::size_t max_bytes) {
  json::object object{{"healthy", health.healthy()},
                      {"start_time_unix_nano", health.start_time_unix_nano()},
                      {"last_error", clip(health.last_error(), max_bytes)},
                      {"status", clip(health.status(), max_bytes)},
                      {"status_time_unix_nano", health.status_time_unix_nano()},
                      {"attributes", key_values_json(health.attributes(), max_bytes)}};
  json::object components;
  for (const auto &[name, child] : health.component_health_map()) {
    components[clip(name, max_bytes)] = health_json(child, max_bytes);
  }
  object["components"] = std::move(components);
  return object;
}

json::object config_map_json(const proto::AgentConfigMap &config, bool with_bodies) {
  json::object files;
  for (const auto &[name, file] : config.config_map()) {
    json::object entry{{"content_type", file.content_type()}, {"size_bytes", file.body().size()}};
    if (with_bodies)
      put_bytes(entry, "body", file.body());
    files[name] = std::move(entry);
  }
  return files;
}

json::object remote_config_status_json(const proto::RemoteConfigStatus &status) {
  return {{"status", apply_status_name(status.status())},
          {"status_code", static_cast<int>(status.status())},
          {"last_remote_config_hash", to_hex(status.last_remote_config_hash())},
          {"error_message", status.error_message()}};
}

json::object connection_settings_status_json(const proto::ConnectionSettingsStatus &status) {
  return {{"status", apply_status_name(status.status())},
          {"status_code", static_cast<int>(status.status())},
          {"last_connection_settings_hash", to_hex(status.last_connection_settings_hash())},
          {"error_message", status.error_message()}};
}

json::object package_statuses_json(const proto::PackageStatuses &statuses) {
  json::object packages;
  for (const auto &[name, status] : statuses.packages()) {
    packages[name] = json::object{
        {"name", status.name()},
        {"agent_has_version", status.agent_has_version()},
        {"agent_has_hash", to_hex(status.agent_has_hash())},
        {"server_offered_version", status.server_offered_version()},
        {"server_offered_hash", to_hex(status.server_offered_hash())},
        {"status", package_status_name(status.status())},
        {"status_code", static_cast<int>(status.status())},
        {"error_message", status.error_message()},
        {"download_percent", status.download_details().download_percent()},
        {"download_bytes_per_second", status.download_details().download_bytes_per_second()}};
  }
  return {
      {"server_provided_all_packages_hash", to_hex(statuses.server_provided_all_packages_hash())},
      {"error_message", statuses.error_message()},
      {"packages", std::move(packages)}};
}

json::object component_details_json(const proto::ComponentDetails &details) {
  json::object sub_components;
  for (const auto &[name, child] : details.sub_component_map()) {
    sub_components[name] = component_details_json(child);
  }
  return {{"metadata", key_values_json(details.metadata())},
          {"sub_components", std::move(sub_components)}};
}

json::object available_components_json(const AgentState &state, bool detailed) {
  json::object object{{"hash", to_hex(state.available_components_hash.value_or(""))},
                      {"full_map_received", !state.lacks_full_available_components() &&
                                                state.available_components.has_value()}};
  if (detailed) {
    json::object components;
    if (state.available_components) {
      for (const auto &[name, details] : state.available_components->components()) {
        components[name] = component_details_json(details);
      }
    }
    object["components"] = std::move(components);
  }
  return object;
}

json::array headers_json(const proto::Headers &headers) {
  json::array array;
  for (const auto &header : headers.headers()) {
    array.push_back(json::object{{"key", header.key()}, {"value", header.value()}});
  }
  return array;
}

json::object tls_json(const proto::TLSConnectionSettings &tls) {
  return {{"ca_pem_contents", tls.ca_pem_contents()},
          {"include_system_ca_certs_pool", tls.include_system_ca_certs_pool()},
          {"insecure_skip_verify", tls.insecure_skip_verify()},
          {"min_version", tls.min_version()},
          {"max_version", tls.max_version()}};
}

json::object certificate_json(const proto::TLSCertificate &certificate) {
  // The private key stays out of the API: only whether one is offered.
  return {{"cert", certificate.cert()},
          {"ca_cert", certificate.ca_cert()},
          {"has_private_key", !certificate.private_key().empty()}};
}

json::object proxy_json(const proto::ProxyConnectionSettings &proxy) {
  // The url may carry credentials: shown without them, like the connect headers' values.
  json::array connect_headers;
  for (const auto &header : proxy.connect_headers().headers())
    connect_headers.push_back(json::object{{"key", header.key()}, {"value", "<redacted>"}});
  return {{"url", common::url_for_logs(proxy.url())},
          {"connect_headers", std::move(connect_headers)}};
}

json::object telemetry_settings_json(const proto::TelemetryConnectionSettings &settings) {
  json::object object{{"destination_endpoint", settings.destination_endpoint()},
                      {"headers", headers_json(settings.headers())}};
  if (settings.has_certificate())
    object["certificate"] = certificate_json(settings.certificate());
  if (settings.has_tls())
    object["tls"] = tls_json(settings.tls());
  return object;
}

json::object offers_json(const DesiredState &desired) {
  const auto &offers = desired.offers();
  json::object object{{"hash", to_hex(offers.hash())}};
  if (offers.has_opamp()) {
    const auto &opamp = offers.opamp();
    json::object part{{"destination_endpoint", opamp.destination_endpoint()},
                      {"headers", headers_json(opamp.headers())},
                      {"heartbeat_interval_seconds", opamp.heartbeat_interval_seconds()}};
    if (opamp.has_certificate())
      part["certificate"] = certificate_json(opamp.certificate());
    if (opamp.has_tls())
      part["tls"] = tls_json(opamp.tls());
    if (opamp.has_proxy())
      part["proxy"] = proxy_json(opamp.proxy());
    object["opamp"] = std::move(part);
  }
  if (offers.has_own_metrics())
    object["own_metrics"] = telemetry_settings_json(offers.own_metrics());
  if (offers.has_own_traces())
    object["own_traces"] = telemetry_settings_json(offers.own_traces());
  if (offers.has_own_logs())
    object["own_logs"] = telemetry_settings_json(offers.own_logs());
  if (!offers.other_connections().empty()) {
    json::object others;
    for (const auto &[name, settings] : offers.other_connections()) {
      json::object other_settings;
      for (const auto &[key, value] : settings.other_settings())
        other_settings[key] = value;
      json::object other{{"destination_endpoint", settings.destination_endpoint()},
                         {"headers", headers_json(settings.headers())},
                         {"other_settings", std::move(other_settings)}};
      if (settings.has_certificate())
        other["certificate"] = certificate_json(settings.certificate());
      if (settings.has_tls())
        other["tls"] = tls_json(settings.tls());
      if (settings.has_proxy())
        other["proxy"] = proxy_json(settings.proxy());
      others[name] = std::move(other);
    }
    object["other_connections"] = std::move(others);
  }
  return object;
}

json::object packages_offer_json(const proto::PackagesAvailable &packages) {
  json::object entries;
  for (const auto &[name, package] : packages.packages()) {
    entries[name] = json::object{{"type", package_type_name(package.type())},
                                 {"version", package.version()},
                                 {"hash", to_hex(package.hash())},
                                 {"download_url", package.file().download_url()},
                                 {"content_hash", to_hex(package.file().content_hash())},
                                 {"signature_base64", base64_encode(package.file().signature())}};
  }
  return {{"all_packages_hash", to_hex(packages.all_packages_hash())},
          {"packages", std::move(entries)}};
}

json::object connection_json(const AgentRecord &agent, const AgentRegistry &registry) {
  const AgentConnection &connection = agent.connection;
  json::object object{
      {"connected", registry.is_connected(agent)},
      {"transport", connection.websocket ? "ws" : "http"},
      {"peer", connection.peer},
      {"connection_count", connection.connection_count},
      {"connected_since", format_time(connection.connected_since)},
      {"disconnect_seen", connection.disconnect_seen},
      {"disconnect_count", connection.disconnect_count},
      {"client_certificate",
       connection.client_certificate
           ? json::value(json::object{{"subject", connection.client_certificate->subject},
                                      {"issuer", connection.client_certificate->issuer},
                                      {"serial", connection.client_certificate->serial},
                                      {"not_after", connection.client_certificate->not_after}})
           : json::value(nullptr)},
      {"disconnected_at", connection.disconnected_at
                              ? json::value(format_time(*connection.disconnected_at))
                              : json::value(nullptr)}};
  if (!connection.websocket) {
    object["http_poll_interval_seconds"] = registry.http_poll_interval(agent).count();
  }
  return object;
}
}  // namespace

json::object agent_json(const AgentRecord &agent, const AgentRegistry &registry, bool detailed) {
  const AgentState &state = agent.reported;
  const std::size_t max_bytes = detailed ? kUnlimited : kSummaryStringBytes;
  json::object object;
  object["instance_uid"] = agent.uid_key;
  object["connection"] = connection_json(agent, registry);
  object["first_seen"] = format_time(state.first_seen);
  object["last_seen"] = format_time(state.last_seen);
  object["last_seen_unix_ms"] = unix_ms(state.last_seen);
  object["sequence_num"] = state.sequence_num.value_or(0);
  object["message_count"] = state.message_count;
  object["flags"] = capabilities_json(state.flags, agent_to_server_flag_names(state.flags));
  object["capabilities"] =
      capabilities_json(state.capabilities, agent_capability_names(state.capabilities));

  if (state.description) {
    object["description"] =
        json::object{{"identifying_attributes",
                      key_values_json(state.description->identifying_attributes(), max_bytes)},
                     {"non_identifying_attributes",
                      key_values_json(state.description->non_identifying_attributes(), max_bytes)}};
  } else {
    object["description"] = nullptr;
  }
  object["health"] =
      state.health ? json::value(health_json(*state.health, max_bytes)) : json::value(nullptr);
  object["effective_config"] =
      state.effective_config
          ? json::value(json::object{
                {"files", config_map_json(state.effective_config->config_map(), detailed)}})
          : json::value(nullptr);
  object["remote_config_status"] =
      state.remote_config_status
          ? json::value(remote_config_status_json(*state.remote_config_status))
          : json::value(nullptr);
  object["package_statuses"] = state.package_statuses
                                   ? json::value(package_statuses_json(*state.package_statuses))
                                   : json::value(nullptr);
  object["connection_settings_status"] =
      state.connection_settings_status
          ? json::value(connection_settings_status_json(*state.connection_settings_status))
          : json::value(nullptr);
  object["custom_capabilities"] = nullptr;
  if (state.custom_capabilities) {
    json::array names;
    for (const auto &name : *state.custom_capabilities)
      names.emplace_back(clip(name, max_bytes));
    object["custom_capabilities"] = std::move(names);
  }
  object["available_components"] = state.available_components_hash
                                       ? json::value(available_components_json(state, detailed))
                                       : json::value(nullptr);
  object["custom_message_count"] = state.custom_messages.size();
  if (state.certificate_request) {
    object["certificate_request"] =
        json::object{{"time", format_time(state.certificate_request->time)},
                     {"signed", state.certificate_request->signed_ok},
                     {"error", state.certificate_request->error}};
  } else {
    object["certificate_request"] = nullptr;
  }

  const auto &remote_config = agent.desired.remote_config();
  if (remote_config) {
    object["remote_config"] =
        json::object{{"hash", to_hex(remote_config->config_hash())},
                     {"files", config_map_json(remote_config->config(), detailed)}};
  } else {
    object["remote_config"] = nullptr;
  }
  if (!detailed)
    return object;

  json::array custom_messages;
  for (const auto &message : state.custom_messages) {
    json::object entry{{"capability", message.capability},
                       {"type", message.type},
                       {"time", format_time(message.time)}};
    put_bytes(entry, "data", message.data);
    entry["data_base64"] = base64_encode(message.data);
    custom_messages.push_back(std::move(entry));
  }
  object["custom_messages"] = std::move(custom_messages);
  object["connection_settings_offers"] =
      agent.desired.has_offers() ? json::value(offers_json(agent.desired)) : json::value(nullptr);
  object["packages_offer"] = agent.desired.packages()
                                 ? json::value(packages_offer_json(*agent.desired.packages()))
                                 : json::value(nullptr);
  object["pending"] = json::object{{"report_full_state", agent.pending.report_full_state},
                                   {"restart", agent.pending.restart},
                                   {"custom_messages", agent.pending.custom_messages.size()}};
  return object;
}

namespace {
template <typename Entry, typename Render>
json::array newest(const BoundedLog<Entry> &log, std::size_t limit, Render render) {
  const auto &entries = log.entries();
  std::size_t skip = entries.size() > limit ? entries.size() - limit : 0;
  json::array array;
  for (std::size_t i = skip; i < entries.size(); ++i)
    array.push_back(render(entries[i]));
  return array;
}
}  // namespace

json::array received_messages_json(const AgentRecord &agent, std::size_t limit) {
  return newest(agent.received, limit, [](const ReceivedSummary &summary) {
    json::object object{{"time", format_time(summary.time)},
                        {"time_unix_ms", unix_ms(summary.time)},
                        {"sequence_num", summary.sequence_num},
                        {"fields", string_array(summary.fields)},
                        {"capabilities", summary.capabilities},
                        {"flags", summary.flags},
                        {"agent_disconnect", summary.agent_disconnect},
                        {"heartbeat", summary.heartbeat},
                        {"transport", summary.transport},
                        {"bytes", summary.bytes},
                        {"available_components_full", summary.available_components_full}};
    if (summary.remote_config_status) {
      object["remote_config_status"] = apply_status_name(*summary.remote_config_status);
      object["remote_config_hash"] = to_hex(summary.remote_config_status_hash.value_or(""));
    }
    if (summary.custom_message_capability) {
      object["custom_message"] = json::object{{"capability", *summary.custom_message_capability},
                                              {"type", *summary.custom_message_type}};
    }
    return object;
  });
}

json::array sent_messages_json(const AgentRecord &agent, std::size_t limit) {
  return newest(agent.sent, limit, [](const SentSummary &summary) {
    json::object object{{"time", format_time(summary.time)},
                        {"time_unix_ms", unix_ms(summary.time)},
                        {"fields", string_array(summary.fields)},
                        {"flags", summary.flags},
                        {"flag_names", string_array(server_to_agent_flag_names(summary.flags))},
                        {"capabilities", summary.capabilities},
                        {"reply", summary.reply},
                        {"transport", summary.transport},
                        {"bytes", summary.bytes}};
    if (summary.remote_config_hash)
      object["remote_config_hash"] = to_hex(*summary.remote_config_hash);
    if (summary.command)
      object["command"] = *summary.command;
    if (summary.error)
      object["error"] = *summary.error;
    return object;
  });
}

json::object package_json(const StoredPackage &package) {
  json::object headers;
  for (const auto &header : package.last_download_headers)
    headers[header.name] = header.value;
  return {{"name", package.name},
          {"download_path", PackageStore::download_path(package.name)},
          {"uploaded", package.uploaded},
          {"file", package.file.string()},
          {"content_hash", to_hex(package.content_hash)},
          {"size_bytes", package.size_bytes},
          {"signature_base64", base64_encode(package.signature)},
          {"server_signature_base64", base64_encode(package.server_signature)},
          {"added", format_time(package.added)},
          {"download_count", package.download_count},
          {"last_download_headers", std::move(headers)}};
}

}  // namespace opsup::opamp_server
