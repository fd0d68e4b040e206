#include "opamp_settings.hpp"

#include "config_error.hpp"
#include "feature_gates.hpp"
#include "map_decoder.hpp"
#include "uuid.hpp"

namespace opsup::fakeotelcol {
namespace {

void decode_tls(MapDecoder &parent, OpampSettings &settings, const std::string &key) {
  MapDecoder tls(parent.child(key), parent.child_path(key));
  settings.tls.ca_file = tls.string("ca_file");
  settings.tls.ca_pem = tls.string("ca_pem");
  settings.tls.include_system_ca_certs_pool = tls.boolean("include_system_ca_certs_pool", false);
  settings.tls.cert_file = tls.string("cert_file");
  settings.tls.cert_pem = tls.string("cert_pem");
  settings.tls.key_file = tls.string("key_file");
  settings.tls.key_pem = tls.string("key_pem");
  settings.tls.min_version = tls.string("min_version");
  settings.tls.max_version = tls.string("max_version");
  settings.tls.insecure_skip_verify = tls.boolean("insecure_skip_verify", false);
  settings.tls.server_name_override = tls.string("server_name_override");
  settings.tls_insecure = tls.boolean("insecure", false);
  // Accepted for compatibility, without effect here.
  tls.child("reload_interval");
  tls.child("cipher_suites");
  tls.child("curve_preferences");
  tls.reject_unknown_keys();
}

void decode_server_kind(MapDecoder &server, OpampSettings &settings, const std::string &kind) {
  MapDecoder section(server.child(kind), server.child_path(kind));
  settings.websocket = kind == "ws";
  settings.endpoint = section.string("endpoint");
  for (const auto &[name, value] : section.string_map("headers")) {
    settings.headers.push_back({name, value});
  }
  decode_tls(section, settings, "tls");
  section.child("auth");  // auth extensions are not emulated
  if (kind == "ws") {
    settings.unix_socket = section.string("unix_socket");
  } else {
    settings.polling_interval = section.duration("polling_interval", settings.polling_interval);
  }
  section.reject_unknown_keys();
}

}  // namespace

OpampSettings decode_opamp_settings(const YAML::Node &node) {
  OpampSettings settings;
  MapDecoder top(node, "", "opampextension.Config");
  MapDecoder server(top.child("server"), "server");
  bool has_ws = server.has("ws");
  bool has_http = server.has("http");
  if (has_ws && has_http)
    throw InvalidError("opamp server must have only ws or http set");
  if (!has_ws && !has_http)
    throw InvalidError("opamp server must have at least ws or http set");
  decode_server_kind(server, settings, has_ws ? "ws" : "http");
  server.reject_unknown_keys();

  settings.instance_uid = top.string("instance_uid");
  MapDecoder caps(top.child("capabilities"), "capabilities");
  settings.reports_effective_config = caps.boolean("reports_effective_config", true);
  settings.reports_health = caps.boolean("reports_health", true);
  settings.reports_available_components = caps.boolean("reports_available_components", true);
  settings.accepts_restart_command = caps.boolean("accepts_restart_command", false);
  caps.reject_unknown_keys();

  MapDecoder description(top.child("agent_description"), "agent_description");
  settings.non_identifying_attributes = description.string_map("non_identifying_attributes");
  settings.include_resource_attributes = description.boolean("include_resource_attributes", false);
  description.reject_unknown_keys();

  settings.ppid = top.integer("ppid", 0);
  settings.ppid_poll_interval = top.duration("ppid_poll_interval", settings.ppid_poll_interval);
  top.reject_unknown_keys();
  return settings;
}

void validate_opamp_settings(const OpampSettings &settings, const FeatureGates &gates) {
  if (settings.endpoint.empty())
    throw InvalidError("opamp server endpoint must be set");
  const std::string scheme = settings.endpoint.substr(0, settings.endpoint.find("://"));
  if (settings.websocket && scheme != "ws" && scheme != "wss") {
    throw InvalidError("opamp server ws endpoint must start with ws:// or wss://, got \"" +
                       settings.endpoint + "\"");
  }
  if (!settings.websocket && scheme != "http" && scheme != "https") {
    throw InvalidError("opamp server http endpoint must start with http:// or https://, got \"" +
                       settings.endpoint + "\"");
  }
  if (!settings.instance_uid.empty() && !parse_uid(settings.instance_uid)) {
    throw InvalidError("opamp instance_uid is invalid");
  }
  if (settings.polling_interval.count() <= 0) {
    throw InvalidError("polling_interval must be greater than zero");
  }
  if (settings.ppid_poll_interval.count() <= 0) {
    throw InvalidError("ppid_poll_interval must be greater than zero");
  }
  if (settings.accepts_restart_command && !gates.enabled(kRemoteRestartsGate)) {
    throw InvalidError(std::string("capabilities::accepts_restart_command requires the ") +
                       kRemoteRestartsGate + " feature gate");
  }
}

}  // namespace opsup::fakeotelcol
