#include "config/config_to_yaml.hpp"

#include <yaml-cpp/yaml.h>

#include "common/yaml_emit.hpp"
#include "config/capabilities.hpp"
#include "config/internal/map_reader.hpp"

namespace opsup::config {
namespace {

YAML::Node text(std::string_view value) {
  return common::yaml_string(value);
}
YAML::Node duration(Duration value) {
  return common::yaml_string(format_go_duration(value));
}

YAML::Node string_list(const std::vector<std::string> &values) {
  YAML::Node list(YAML::NodeType::Sequence);
  for (const auto &value : values)
    list.push_back(text(value));
  return list;
}

YAML::Node string_map(const std::map<std::string, std::string> &values) {
  YAML::Node map(YAML::NodeType::Map);
  for (const auto &[name, value] : values)
    map[name] = text(value);
  return map;
}

YAML::Node pass_through(const YamlValue &value) {
  return value.has_value() ? YAML::Clone(value.node()) : YAML::Node(YAML::NodeType::Null);
}

template <typename Tls>
void common_tls(YAML::Node &node, const Tls &tls) {
  node["ca_file"] = text(tls.ca_file);
  node["ca_pem"] = text(tls.ca_pem);
  node["include_system_ca_certs_pool"] = tls.include_system_ca_certs_pool;
  node["cert_file"] = text(tls.cert_file);
  node["cert_pem"] = text(tls.cert_pem);
  node["key_file"] = text(tls.key_file);
  node["key_pem"] = text(tls.key_pem);
  node["min_version"] = text(tls.min_version);
  node["max_version"] = text(tls.max_version);
  node["cipher_suites"] = string_list(tls.cipher_suites);
  node["curve_preferences"] = string_list(tls.curve_preferences);
  node["reload_interval"] = duration(tls.reload_interval);
}

YAML::Node client_tls(const TlsClientConfig &tls) {
  YAML::Node node(YAML::NodeType::Map);
  node["insecure"] = tls.insecure;
  node["insecure_skip_verify"] = tls.insecure_skip_verify;
  common_tls(node, tls);
  node["server_name_override"] = text(tls.server_name_override);
  return node;
}

YAML::Node server_tls(const TlsServerConfig &tls) {
  YAML::Node node(YAML::NodeType::Map);
  common_tls(node, tls);
  node["client_ca_file"] = text(tls.client_ca_file);
  node["client_ca_file_reload"] = tls.client_ca_file_reload;
  return node;
}

YAML::Node server_yaml(const ServerConfig &server) {
  YAML::Node node(YAML::NodeType::Map);
  node["endpoint"] = text(server.endpoint);
  YAML::Node headers(YAML::NodeType::Map);
  for (const auto &header : server.headers)
    headers[header.name].push_back(text(header.value));
  node["headers"] = headers;
  node["tls"] = client_tls(server.tls);
  node["proxy"]["url"] = text(server.proxy.url);
  YAML::Node connect_headers(YAML::NodeType::Map);
  for (const auto &header : server.proxy.connect_headers)
    connect_headers[header.name].push_back(text(header.value));
  node["proxy"]["connect_headers"] = connect_headers;
  node["auth"] = text(server.auth);
  node["max_message_size_bytes"] = server.max_message_size_bytes;
  node["connect_timeout"] = duration(server.connect_timeout);
  node["reconnect"]["initial_interval"] = duration(server.reconnect.initial_interval);
  node["reconnect"]["max_interval"] = duration(server.reconnect.max_interval);
  node["reconnect"]["max_server_delay"] = duration(server.reconnect.max_server_delay);
  node["shutdown_timeout"] = duration(server.shutdown_timeout);
  node["heartbeat_interval"] = duration(server.heartbeat_interval);
  return node;
}

YAML::Node agent_yaml(const AgentConfig &agent) {
  YAML::Node node(YAML::NodeType::Map);
  node["executable"] = text(agent.executable.string());
  node["instance_id"] = text(agent.instance_id);
  node["orphan_detection_interval"] = duration(agent.orphan_detection_interval);
  node["description"]["identifying_attributes"] =
      string_map(agent.description.identifying_attributes);
  node["description"]["non_identifying_attributes"] =
      string_map(agent.description.non_identifying_attributes);
  node["description"]["include_resource_attributes"] =
      agent.description.include_resource_attributes;
  node["config_apply_timeout"] = duration(agent.config_apply_timeout);
  node["bootstrap_timeout"] = duration(agent.bootstrap_timeout);
  node["opamp_server_port"] = agent.opamp_server_port;
  node["opamp_server_unix_socket"] = text(agent.opamp_server_unix_socket.string());
  node["opamp_server_unix_socket_mode"] = text(agent.opamp_server_unix_socket_mode);
  node["passthrough_logs"] = agent.passthrough_logs;
  node["collector_crash_log_snippet_kib"] = agent.collector_crash_log_snippet_kib;
  node["automatic_config_rollback"] = agent.automatic_config_rollback;
  node["use_hup_config_reload"] = agent.use_hup_config_reload;
  node["validate_config"] = agent.validate_config;
  node["config_files"] = string_list(agent.config_files);
  node["args"] = string_list(agent.args);
  node["env"] = agent.env ? string_map(*agent.env) : YAML::Node(YAML::NodeType::Null);
  YAML::Node fallbacks(YAML::NodeType::Sequence);
  for (const auto &path : agent.startup_fallback_configs)
    fallbacks.push_back(text(path.string()));
  node["startup_fallback_configs"] = fallbacks;
  if (agent.run_as) {  // no default: absent means "as the supervisor"
    node["run_as"]["user"] = text(agent.run_as->user);
    node["run_as"]["group"] = text(agent.run_as->group);
  }

  YAML::Node package(YAML::NodeType::Map);
  package["agent_binary"] = text(agent.package.agent_binary);
  package["archive"] = text(agent.package.archive);
  package["verifier"]["type"] = text(agent.package.verifier.type);
  const CosignConfig &cosign = agent.package.verifier.cosign;
  package["verifier"]["cosign"]["github_workflow_repository"] =
      text(cosign.github_workflow_repository);
  YAML::Node identities(YAML::NodeType::Sequence);
  for (const auto &identity : cosign.identities) {
    YAML::Node item(YAML::NodeType::Map);
    item["issuer"] = text(identity.issuer);
    item["subject"] = text(identity.subject);
    item["issuer_regex"] = text(identity.issuer_regex);
    item["subject_regex"] = text(identity.subject_regex);
    identities.push_back(item);
  }
  package["verifier"]["cosign"]["identities"] = identities;
  node["package"] = package;
  return node;
}

YAML::Node telemetry_yaml(const TelemetryConfig &telemetry) {
  YAML::Node node(YAML::NodeType::Map);
  node["logs"]["level"] = text(telemetry.logs.level);
  node["logs"]["encoding"] = text(telemetry.logs.encoding);
  node["logs"]["output_paths"] = string_list(telemetry.logs.output_paths);
  node["logs"]["error_output_paths"] = string_list(telemetry.logs.error_output_paths);
  node["logs"]["processors"] = pass_through(telemetry.logs.processors);
  node["logs"]["rotation"]["max_megabytes"] = telemetry.logs.rotation.max_megabytes;
  node["logs"]["rotation"]["max_backups"] = telemetry.logs.rotation.max_backups;
  node["metrics"]["level"] = text(telemetry.metrics.level);
  node["metrics"]["readers"] = pass_through(telemetry.metrics.readers);
  node["traces"]["level"] = text(telemetry.traces.level);
  node["traces"]["propagators"] = string_list(telemetry.traces.propagators);
  node["traces"]["processors"] = pass_through(telemetry.traces.processors);
  node["resource"] = pass_through(telemetry.resource);
  return node;
}

YAML::Node extension_yaml(const ExtensionConfig &extension) {
  YAML::Node node(YAML::NodeType::Map);
  if (const auto *bearer = std::get_if<BearerTokenAuthConfig>(&extension.settings)) {
    node["token"] = text(bearer->token);
    node["tokens"] = string_list(bearer->tokens);
    node["filename"] = text(bearer->filename);
    node["header"] = text(bearer->header);
    node["scheme"] = text(bearer->scheme);
  } else if (const auto *basic = std::get_if<BasicAuthConfig>(&extension.settings)) {
    node["client_auth"]["username"] = text(basic->username);
    node["client_auth"]["username_file"] = text(basic->username_file);
    node["client_auth"]["password"] = text(basic->password);
    node["client_auth"]["password_file"] = text(basic->password_file);
  } else if (const auto *oauth = std::get_if<OAuth2ClientConfig>(&extension.settings)) {
    node["client_id"] = text(oauth->client_id);
    node["client_id_file"] = text(oauth->client_id_file);
    node["client_secret"] = text(oauth->client_secret);
    node["client_secret_file"] = text(oauth->client_secret_file);
    node["token_url"] = text(oauth->token_url);
    node["scopes"] = string_list(oauth->scopes);
    YAML::Node params(YAML::NodeType::Map);
    for (const auto &[name, values] : oauth->endpoint_params)
      params[name] = string_list(values);
    node["endpoint_params"] = params;
    node["grant_type"] = text(oauth->grant_type);
    node["timeout"] = duration(oauth->timeout);
    node["expiry_buffer"] = duration(oauth->expiry_buffer);
    node["tls"] = client_tls(oauth->tls);
  }
  return node;
}

// Adds to `target` every key of `defaults` it lacks or holds as null, recursively.
void fill_missing(YAML::Node target, const YAML::Node &defaults) {
  if (!target.IsMap() || !defaults.IsMap())
    return;
  for (auto it = defaults.begin(); it != defaults.end(); ++it) {
    const std::string &key = it->first.Scalar();
    YAML::Node existing;
    bool found = false;
    for (auto own = target.begin(); own != target.end(); ++own) {
      if (own->first.IsScalar() && own->first.Scalar() == key) {
        existing.reset(own->second);
        found = true;
        break;
      }
    }
    if (!found) {
      target[key] = YAML::Clone(it->second);
    } else if (internal::is_null_value(existing)) {
      target[key] = YAML::Clone(it->second);  // rebinds the null value to the default
    } else if (existing.IsMap() && it->second.IsMap()) {
      fill_missing(existing, it->second);
    }
  }
}

}  // namespace

YAML::Node typed_config_yaml(const SupervisorConfig &config) {
  YAML::Node root(YAML::NodeType::Map);
  root["server"] = server_yaml(config.server);
  YAML::Node capabilities(YAML::NodeType::Map);
  for (const auto &key : capability_keys()) {
    capabilities[std::string(key.key)] = (config.capabilities.*key.member).enabled;
  }
  root["capabilities"] = capabilities;
  root["storage"]["directory"] = text(config.storage.directory.string());
  root["agent"] = agent_yaml(config.agent);
  root["telemetry"] = telemetry_yaml(config.telemetry);
  root["healthcheck"]["endpoint"] = text(config.healthcheck.endpoint);
  root["healthcheck"]["transport"] = text(config.healthcheck.transport);
  if (config.healthcheck.tls)
    root["healthcheck"]["tls"] = server_tls(*config.healthcheck.tls);
  YAML::Node extensions(YAML::NodeType::Map);
  for (const auto &extension : config.extensions)
    extensions[extension.id] = extension_yaml(extension);
  root["extensions"] = extensions;
  YAML::Node plugins(YAML::NodeType::Map);
  plugins["directory"] = text(config.plugins.directory.string());
  plugins["disable"] = string_list(config.plugins.disable);
  for (const auto &[id, section] : config.plugins.module_sections) {
    plugins[id] = pass_through(section);
  }
  root["plugins"] = plugins;
  return root;
}

YAML::Node effective_config_yaml(const SupervisorConfig &config) {
  YAML::Node tree = config.document.has_value() ? YAML::Clone(config.document.node())
                                                : YAML::Node(YAML::NodeType::Map);
  fill_missing(tree, typed_config_yaml(config));
  return tree;
}

}  // namespace opsup::config
