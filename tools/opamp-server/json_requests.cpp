#include "json_requests.hpp"

#include <boost/json/parse.hpp>

#include "encoding.hpp"

namespace opsup::opamp_server {

namespace json = boost::json;

boost::json::object parse_json_object(const std::string &body) {
  if (body.find_first_not_of(" \t\r\n") == std::string::npos)
    return {};
  boost::system::error_code error;
  json::value value = json::parse(body, error);
  if (error)
    throw RequestError("the body is not valid JSON: " + error.message());
  if (!value.is_object())
    throw RequestError("the body must be a JSON object");
  return value.as_object();
}

namespace {
std::string join(const std::string &where, const std::string &key) {
  return where.empty() ? key : where + "." + key;
}

const json::object &require_object(const json::value &value, const std::string &where) {
  if (!value.is_object())
    throw RequestError(where + ": expected an object");
  return value.as_object();
}

std::optional<std::string> optional_string(const json::object &object, const std::string &key,
                                           const std::string &where) {
  const json::value *value = object.if_contains(key);
  if (value == nullptr || value->is_null())
    return std::nullopt;
  if (!value->is_string())
    throw RequestError(join(where, key) + ": expected a string");
  return std::string(value->as_string());
}

std::string string_or_empty(const json::object &object, const std::string &key,
                            const std::string &where) {
  return optional_string(object, key, where).value_or("");
}

std::optional<std::string> optional_base64(const json::object &object, const std::string &key,
                                           const std::string &where) {
  auto text = optional_string(object, key, where);
  if (!text)
    return std::nullopt;
  auto bytes = base64_decode(*text);
  if (!bytes)
    throw RequestError(join(where, key) + ": not valid base64");
  return bytes;
}

bool bool_or_false(const json::object &object, const std::string &key, const std::string &where) {
  const json::value *value = object.if_contains(key);
  if (value == nullptr || value->is_null())
    return false;
  if (!value->is_bool())
    throw RequestError(join(where, key) + ": expected true or false");
  return value->as_bool();
}

uint64_t unsigned_or_zero(const json::object &object, const std::string &key,
                          const std::string &where) {
  const json::value *value = object.if_contains(key);
  if (value == nullptr || value->is_null())
    return 0;
  if (value->is_uint64())
    return value->as_uint64();
  if (value->is_int64() && value->as_int64() >= 0)
    return static_cast<uint64_t>(value->as_int64());
  throw RequestError(join(where, key) + ": expected a non-negative integer");
}

// {"name": "value"} or [{"key": "name", "value": "value"}] (the array allows repeats).
proto::Headers parse_headers(const json::object &object, const std::string &key,
                             const std::string &where) {
  proto::Headers headers;
  const json::value *value = object.if_contains(key);
  if (value == nullptr || value->is_null())
    return headers;
  std::string path = join(where, key);
  if (value->is_object()) {
    for (const auto &[name, header_value] : value->as_object()) {
      if (!header_value.is_string()) {
        throw RequestError(path + "." + std::string(name) + ": expected a string");
      }
      auto *header = headers.add_headers();
      header->set_key(std::string(name));
      header->set_value(std::string(header_value.as_string()));
    }
  } else if (value->is_array()) {
    std::size_t index = 0;
    for (const auto &item : value->as_array()) {
      std::string item_path = path + "[" + std::to_string(index++) + "]";
      const auto &entry = require_object(item, item_path);
      auto *header = headers.add_headers();
      header->set_key(string_or_empty(entry, "key", item_path));
      header->set_value(string_or_empty(entry, "value", item_path));
      if (header->key().empty())
        throw RequestError(item_path + ".key: must not be empty");
    }
  } else {
    throw RequestError(path + ": expected an object of strings or an array of {key, value}");
  }
  return headers;
}

std::optional<proto::TLSCertificate> parse_certificate(const json::object &object,
                                                       const std::string &where) {
  const json::value *value = object.if_contains("certificate");
  if (value == nullptr || value->is_null())
    return std::nullopt;
  std::string path = join(where, "certificate");
  const auto &entry = require_object(*value, path);
  proto::TLSCertificate certificate;
  certificate.set_cert(string_or_empty(entry, "cert", path));
  certificate.set_private_key(string_or_empty(entry, "private_key", path));
  certificate.set_ca_cert(string_or_empty(entry, "ca_cert", path));
  return certificate;
}

std::optional<proto::TLSConnectionSettings> parse_tls(const json::object &object,
                                                      const std::string &where) {
  const json::value *value = object.if_contains("tls");
  if (value == nullptr || value->is_null())
    return std::nullopt;
  std::string path = join(where, "tls");
  const auto &entry = require_object(*value, path);
  proto::TLSConnectionSettings tls;
  tls.set_ca_pem_contents(string_or_empty(entry, "ca_pem_contents", path));
  tls.set_include_system_ca_certs_pool(bool_or_false(entry, "include_system_ca_certs_pool", path));
  tls.set_insecure_skip_verify(bool_or_false(entry, "insecure_skip_verify", path));
  tls.set_min_version(string_or_empty(entry, "min_version", path));
  tls.set_max_version(string_or_empty(entry, "max_version", path));
  return tls;
}

// "proxy": {"url", "connect_headers"} (ProxyConnectionSettings).
std::optional<proto::ProxyConnectionSettings> parse_proxy(const json::object &object,
                                                          const std::string &where) {
  const json::value *value = object.if_contains("proxy");
  if (value == nullptr || value->is_null())
    return std::nullopt;
  std::string path = join(where, "proxy");
  const auto &entry = require_object(*value, path);
  proto::ProxyConnectionSettings proxy;
  proxy.set_url(string_or_empty(entry, "url", path));
  *proxy.mutable_connect_headers() = parse_headers(entry, "connect_headers", path);
  return proxy;
}

proto::TelemetryConnectionSettings parse_telemetry(const json::object &object,
                                                   const std::string &where) {
  proto::TelemetryConnectionSettings settings;
  settings.set_destination_endpoint(string_or_empty(object, "destination_endpoint", where));
  *settings.mutable_headers() = parse_headers(object, "headers", where);
  if (auto certificate = parse_certificate(object, where)) {
    *settings.mutable_certificate() = std::move(*certificate);
  }
  if (auto tls = parse_tls(object, where))
    *settings.mutable_tls() = std::move(*tls);
  return settings;
}

// "merge": true | false (default false).
bool parse_merge(const json::object &body) {
  const json::value *merge = body.if_contains("merge");
  if (merge == nullptr)
    return false;
  if (!merge->is_bool())
    throw RequestError("merge: expected true or false");
  return merge->as_bool();
}

// "remove": ["name", ...], allowed only with merge.
std::vector<std::string> parse_remove(const json::object &body, bool merge) {
  std::vector<std::string> names;
  const json::value *remove = body.if_contains("remove");
  if (remove == nullptr)
    return names;
  if (!merge)
    throw RequestError("remove: only with \"merge\": true");
  if (!remove->is_array())
    throw RequestError("remove: expected an array of names");
  for (const auto &name : remove->as_array()) {
    if (!name.is_string())
      throw RequestError("remove: expected an array of names");
    names.emplace_back(name.as_string());
  }
  return names;
}
}  // namespace

proto::AgentConfigMap parse_remote_config(const json::object &body) {
  proto::AgentConfigMap config;
  if (auto single = optional_string(body, "config", "")) {
    auto &file = (*config.mutable_config_map())[""];
    file.set_body(*single);
    file.set_content_type(string_or_empty(body, "content_type", "").empty()
                              ? "text/yaml"
                              : string_or_empty(body, "content_type", ""));
    return config;
  }
  const json::value *files = body.if_contains("files");
  if (files == nullptr)
    throw RequestError("files: required (or config for a single file)");
  for (const auto &[name_view, value] : require_object(*files, "files")) {
    std::string name(name_view);
    std::string path = "files." + name;
    auto &file = (*config.mutable_config_map())[name];
    if (value.is_string()) {
      file.set_body(std::string(value.as_string()));
      file.set_content_type("text/yaml");
    } else if (value.is_object()) {
      const auto &entry = value.as_object();
      if (auto base64_body = optional_base64(entry, "body_base64", path)) {
        file.set_body(*base64_body);
      } else {
        file.set_body(string_or_empty(entry, "body", path));
      }
      file.set_content_type(optional_string(entry, "content_type", path).value_or("text/yaml"));
    } else {
      throw RequestError(path + ": expected a string or an object {body, content_type}");
    }
  }
  return config;
}

proto::OpAMPConnectionSettings parse_opamp_settings(const json::object &body) {
  proto::OpAMPConnectionSettings settings;
  settings.set_destination_endpoint(string_or_empty(body, "destination_endpoint", ""));
  *settings.mutable_headers() = parse_headers(body, "headers", "");
  settings.set_heartbeat_interval_seconds(unsigned_or_zero(body, "heartbeat_interval_seconds", ""));
  if (auto certificate = parse_certificate(body, "")) {
    *settings.mutable_certificate() = std::move(*certificate);
  }
  if (auto tls = parse_tls(body, ""))
    *settings.mutable_tls() = std::move(*tls);
  if (auto proxy = parse_proxy(body, ""))
    *settings.mutable_proxy() = std::move(*proxy);
  return settings;
}

std::map<std::string, proto::TelemetryConnectionSettings> parse_own_telemetry(
    const json::object &body) {
  std::map<std::string, proto::TelemetryConnectionSettings> parts;
  for (const auto &[key, value] : body) {
    std::string signal(key);
    if (signal != "metrics" && signal != "traces" && signal != "logs") {
      throw RequestError(signal + ": unknown signal (expected metrics, traces or logs)");
    }
    if (value.is_null())
      continue;
    parts["own_" + signal] = parse_telemetry(require_object(value, signal), signal);
  }
  if (parts.empty())
    throw RequestError("give at least one of metrics, traces, logs");
  return parts;
}

OtherConnectionsChange parse_other_connections(const json::object &body) {
  OtherConnectionsChange change;
  change.merge = parse_merge(body);
  change.remove = parse_remove(body, change.merge);
  auto &connections = change.connections;
  const json::value *value = body.if_contains("connections");
  if (value == nullptr && !change.merge)
    throw RequestError("connections: required (an object, may be empty)");
  if (value == nullptr)
    return change;
  for (const auto &[name_view, entry_value] : require_object(*value, "connections")) {
    std::string name(name_view);
    std::string path = "connections." + name;
    const auto &entry = require_object(entry_value, path);
    proto::OtherConnectionSettings settings;
    settings.set_destination_endpoint(string_or_empty(entry, "destination_endpoint", path));
    *settings.mutable_headers() = parse_headers(entry, "headers", path);
    if (auto certificate = parse_certificate(entry, path)) {
      *settings.mutable_certificate() = std::move(*certificate);
    }
    if (auto tls = parse_tls(entry, path))
      *settings.mutable_tls() = std::move(*tls);
    if (auto proxy = parse_proxy(entry, path))
      *settings.mutable_proxy() = std::move(*proxy);
    if (const json::value *others = entry.if_contains("other_settings")) {
      for (const auto &[key, setting] : require_object(*others, path + ".other_settings")) {
        if (!setting.is_string()) {
          throw RequestError(path + ".other_settings." + std::string(key) + ": expected a string");
        }
        (*settings.mutable_other_settings())[std::string(key)] = std::string(setting.as_string());
      }
    }
    connections[name] = std::move(settings);
  }
  return change;
}

proto::CustomMessage parse_custom_message(const json::object &body) {
  proto::CustomMessage message;
  message.set_capability(string_or_empty(body, "capability", ""));
  message.set_type(string_or_empty(body, "type", ""));
  if (message.capability().empty())
    throw RequestError("capability: required");
  if (message.type().empty())
    throw RequestError("type: required");
  if (auto data = optional_base64(body, "data_base64", "")) {
    message.set_data(*data);
  } else {
    message.set_data(string_or_empty(body, "data", ""));
  }
  return message;
}

PackageRequest parse_package(const json::value &value, const std::string &where,
                             const std::string &name_if_keyed) {
  const auto &entry = require_object(value, where);
  PackageRequest request;
  request.name = optional_string(entry, "name", where).value_or(name_if_keyed);
  if (request.name.empty())
    throw RequestError(join(where, "name") + ": required");
  request.version = string_or_empty(entry, "version", where);
  std::string type = string_or_empty(entry, "type", where);
  if (type == "Addon" || type == "addon") {
    request.type = proto::PackageType_Addon;
  } else if (!type.empty() && type != "TopLevel" && type != "top_level") {
    throw RequestError(join(where, "type") + ": expected TopLevel or Addon");
  }
  if (auto content = optional_base64(entry, "content_base64", where)) {
    request.content = std::move(content);
  } else if (auto text = optional_string(entry, "content", where)) {
    request.content = std::move(text);
  }
  request.file_path = optional_string(entry, "file_path", where);
  if (request.content && request.file_path) {
    throw RequestError(where + ": give content_base64 or file_path, not both");
  }
  request.signature = optional_base64(entry, "signature_base64", where);
  request.download_headers = parse_headers(entry, "headers", where);
  return request;
}

PackagesChange parse_package_offer(const json::object &body) {
  PackagesChange change;
  change.merge = parse_merge(body);
  change.remove = parse_remove(body, change.merge);
  auto &requests = change.packages;
  const json::value *packages = body.if_contains("packages");
  if (packages == nullptr && !change.merge)
    throw RequestError("packages: required (an object, may be empty)");
  if (packages == nullptr)
    return change;
  if (packages->is_object()) {
    for (const auto &[name, value] : packages->as_object()) {
      requests.push_back(parse_package(value, "packages." + std::string(name), std::string(name)));
    }
  } else if (packages->is_array()) {
    std::size_t index = 0;
    for (const auto &value : packages->as_array()) {
      requests.push_back(parse_package(value, "packages[" + std::to_string(index++) + "]", ""));
    }
  } else {
    throw RequestError("packages: expected an object keyed by name or an array");
  }
  return change;
}

}  // namespace opsup::opamp_server
