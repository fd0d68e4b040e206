#include "collector/config_composition.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "collector/config_merge.hpp"
#include "common/yaml_emit.hpp"

namespace opsup::collector {
namespace {

// Parses one layer; empty text and a null document are an empty layer.
YAML::Node parse_layer(const std::string &text, const std::string &what) {
  YAML::Node node;
  try {
    node = YAML::Load(text);
  } catch (const YAML::Exception &error) {
    throw CompositionError(what + ": line " + std::to_string(error.mark.line + 1) + ": " +
                           error.msg);
  }
  if (common::is_yaml_null(node))
    return YAML::Node(YAML::NodeType::Map);
  if (!node.IsMap())
    throw CompositionError(what + ": the top level is not a map");
  return node;
}

YAML::Node read_local_layer(const std::string &entry) {
  if (entry.rfind("env:", 0) == 0) {
    const std::string variable = entry.substr(4);
    const char *value = std::getenv(variable.c_str());
    if (value == nullptr)
      throw CompositionError(entry + ": the environment variable " + variable + " is not set");
    return parse_layer(value, entry);
  }
  const std::string path = entry.rfind("file:", 0) == 0 ? entry.substr(5) : entry;
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw CompositionError(path + ": cannot read the Collector config file");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad())
    throw CompositionError(path + ": cannot read the Collector config file");
  return parse_layer(text.str(), path);
}

void merge_remote_config(YAML::Node &config, std::vector<ConfigLayer> files) {
  std::sort(files.begin(), files.end(), [](const ConfigLayer &a, const ConfigLayer &b) {
    if (a.name.empty() != b.name.empty())
      return b.name.empty();  // "" goes last
    return a.name < b.name;
  });
  for (const auto &file : files) {
    const YAML::Node layer = parse_layer(file.yaml, "remote config file '" + file.name + "'");
    if (sets_resource_attributes(layer))
      clear_resource_attributes(config);
    merge_config(config, layer);
  }
}

void impose_supervisor_keys(YAML::Node &config, const CompositionInput &input) {
  if (!input.opamp_extension_yaml.empty()) {
    const YAML::Node owned = parse_layer(input.opamp_extension_yaml, kOpampExtensionToken);
    const YAML::Node owned_extensions = config_at(owned, {"extensions"});
    if (owned_extensions.IsMap()) {
      if (!config_at(config, {"extensions"}).IsMap())
        config["extensions"] = YAML::Node(YAML::NodeType::Map);
      for (const auto &extension : owned_extensions)
        config["extensions"][extension.first.as<std::string>()] = YAML::Clone(extension.second);
    }
    YAML::Node extensions_only(YAML::NodeType::Map);
    const YAML::Node owned_list = config_at(owned, {"service", "extensions"});
    if (owned_list.IsSequence())
      extensions_only["service"]["extensions"] = YAML::Clone(owned_list);
    merge_config(config, extensions_only);
  }
  if (!input.instance_uid.empty()) {
    const YAML::Node telemetry = config_at(config, {"service", "telemetry"});
    if (telemetry.IsMap() && telemetry["resource"] && !telemetry["resource"].IsMap())
      config["service"]["telemetry"].remove("resource");  // not a map: cannot hold the id
    // The id goes in the form the config already uses: the `attributes` list of the
    // declarative schema, or else the inline map, the only form the Collector v0.149.0
    // accepts (it refuses a list there).
    YAML::Node instance(YAML::NodeType::Map);
    if (config_at(config, {"service", "telemetry", "resource", "attributes"}).IsSequence()) {
      YAML::Node attribute(YAML::NodeType::Map);
      attribute["name"] = "service.instance.id";
      attribute["value"] = common::yaml_string(input.instance_uid);
      instance["service"]["telemetry"]["resource"]["attributes"].push_back(attribute);
    } else {
      instance["service"]["telemetry"]["resource"]["service.instance.id"] =
          common::yaml_string(input.instance_uid);
    }
    merge_config(config, instance);
  }
}

}  // namespace

std::vector<std::string> layer_order(const std::vector<std::string> &config_files) {
  std::vector<std::string> order = config_files;
  auto has = [&](const char *token) {
    return std::find(order.begin(), order.end(), token) != order.end();
  };
  if (!has(kOwnTelemetryToken))
    order.insert(order.begin(), kOwnTelemetryToken);
  if (!has(kOpampExtensionToken))
    order.push_back(kOpampExtensionToken);
  if (!has(kRemoteConfigToken))
    order.push_back(kRemoteConfigToken);
  return order;
}

std::string compose_collector_config(const CompositionInput &input) {
  YAML::Node config(YAML::NodeType::Map);
  if (!input.base_yaml.empty())
    merge_config(config, parse_layer(input.base_yaml, "the supervisor's base layer"));
  for (const auto &entry : layer_order(input.config_files)) {
    if (entry == kOwnTelemetryToken) {
      merge_config(config, parse_layer(input.own_telemetry_yaml, entry));
      for (const auto &layer : input.own_telemetry_layers)
        merge_config(config, parse_layer(layer.yaml, "module layer '" + layer.name + "'"));
    } else if (entry == kOpampExtensionToken) {
      merge_config(config, parse_layer(input.opamp_extension_yaml, entry));
    } else if (entry == kRemoteConfigToken) {
      merge_remote_config(config, input.remote_config);
      for (const auto &layer : input.module_layers)
        merge_config(config, parse_layer(layer.yaml, "module layer '" + layer.name + "'"));
    } else {
      merge_config(config, read_local_layer(entry));
    }
  }
  impose_supervisor_keys(config, input);
  return common::emit_yaml(config);
}

}  // namespace opsup::collector
