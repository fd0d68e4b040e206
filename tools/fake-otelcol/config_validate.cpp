#include "config_validate.hpp"

#include <algorithm>
#include <map>
#include <regex>
#include <set>

#include "components.hpp"
#include "config_error.hpp"
#include "feature_gates.hpp"
#include "map_decoder.hpp"

namespace opsup::fakeotelcol {
namespace {

const std::string kDecodePrefix =
    "failed to get config: cannot unmarshal the configuration: decoding failed due to the "
    "following error(s):\n\n";
const std::string kInvalidPrefix = "invalid configuration: ";

[[noreturn]] void decode_failure(const std::string &reason) {
  throw ConfigError(kDecodePrefix + reason);
}
[[noreturn]] void invalid(const std::string &reason) {
  throw ConfigError(kInvalidPrefix + reason);
}

std::string type_of(const std::string &id) {
  return id.substr(0, id.find('/'));
}

std::string join(const std::vector<std::string> &items, const std::string &separator) {
  std::string out;
  for (const auto &item : items)
    out += (out.empty() ? "" : separator) + item;
  return out;
}

void check_id(const std::string &section, const std::string &id) {
  static const std::regex type_pattern("^[a-zA-Z][0-9a-zA-Z_]{0,62}$");
  static const std::regex name_pattern("^[^ \\t\\n\\r/]{1,1024}$");
  auto slash = id.find('/');
  std::string type = id.substr(0, slash);
  if (!std::regex_match(type, type_pattern)) {
    decode_failure("'" + section + "' '' in \"" + id + "\" id: invalid character(s) in type \"" +
                   type + "\"");
  }
  if (slash != std::string::npos && !std::regex_match(id.substr(slash + 1), name_pattern)) {
    decode_failure("'" + section + "' '' in \"" + id.substr(slash + 1) +
                   "\" id: invalid character(s) in name \"" + id.substr(slash + 1) + "\"");
  }
}

// The ids of one component section, each checked against the known factories.
std::vector<std::string> decode_section(const YAML::Node &config, ComponentKind kind) {
  const std::string section = kind_section(kind);
  std::vector<std::string> ids;
  const YAML::Node node = config[section];
  if (!node || node.IsNull())
    return ids;
  if (!node.IsMap()) {
    decode_failure("'" + section + "' expected a map, got '" +
                   (node.IsSequence() ? "slice" : "string") + "'");
  }
  for (const auto &entry : node) {
    std::string id = entry.first.as<std::string>();
    check_id(section, id);
    if (!is_known_component(kind, type_of(id))) {
      decode_failure("'" + section + "' unknown type: \"" + type_of(id) + "\" for id: \"" + id +
                     "\" (valid values: [" + join(component_types(kind), " ") + "])");
    }
    ids.push_back(id);
  }
  return ids;
}

// The top-level keys of the components whose config the stand-in checks as strictly as the
// Collector does (v0.149.0, from each config struct's mapstructure tags); the others take any
// key.
struct StrictConfig {
  const char *struct_name;
  std::set<std::string> keys;
};
const StrictConfig *strict_config(ComponentKind kind, const std::string &type) {
  static const StrictConfig kDebug{"debugexporter.Config",
                                   {"verbosity", "sampling_initial", "sampling_thereafter",
                                    "use_internal_logger", "output_paths", "sending_queue"}};
  static const StrictConfig kBatch{"batchprocessor.Config",
                                   {"timeout", "send_batch_size", "send_batch_max_size",
                                    "metadata_keys", "metadata_cardinality_limit"}};
  static const StrictConfig kNop{"struct {}", {}};
  if (kind == ComponentKind::kExporter && type == "debug")
    return &kDebug;
  if (kind == ComponentKind::kProcessor && type == "batch")
    return &kBatch;
  if ((kind == ComponentKind::kExporter || kind == ComponentKind::kReceiver) && type == "nop")
    return &kNop;
  return nullptr;
}

void check_known_keys(const YAML::Node &settings, ComponentKind kind, const std::string &id) {
  const StrictConfig *strict = strict_config(kind, type_of(id));
  if (strict == nullptr || !settings.IsMap())
    return;
  std::vector<std::string> unknown;
  for (const auto &entry : settings) {
    if (strict->keys.count(entry.first.as<std::string>()) == 0)
      unknown.push_back(entry.first.as<std::string>());
  }
  if (unknown.empty())
    return;
  std::sort(unknown.begin(), unknown.end());
  // Appended piece by piece: GCC 12 warns falsely (-Wrestrict) on a long chain of `+`.
  std::string message = "'";
  message += kind_section(kind);
  message += "' error reading configuration for \"";
  message += id;
  message += "\": decoding failed due to the following error(s):\n\n'";
  message += strict->struct_name;
  message += "' has invalid keys: ";
  message += join(unknown, ", ");
  decode_failure(message);
}

std::vector<std::string> string_list(const YAML::Node &node, const std::string &path) {
  std::vector<std::string> items;
  if (!node || node.IsNull())
    return items;
  if (!node.IsSequence()) {
    decode_failure("'" + path + "' source data must be an array or slice, got " +
                   (node.IsMap() ? "map" : "string"));
  }
  for (const auto &item : node) {
    if (!item.IsScalar())
      decode_failure("'" + path + "' expected a list of component ids");
    items.push_back(item.Scalar());
  }
  return items;
}

LogSettings decode_logs(const YAML::Node &telemetry) {
  LogSettings logs;
  if (!telemetry || !telemetry.IsMap() || !telemetry["logs"] || !telemetry["logs"].IsMap()) {
    return logs;
  }
  const YAML::Node node = telemetry["logs"];
  if (node["level"] && node["level"].IsScalar()) {
    std::string level = node["level"].Scalar();
    std::transform(level.begin(), level.end(), level.begin(), ::tolower);
    static const std::map<std::string, LogLevel> levels = {{"debug", LogLevel::kDebug},
                                                           {"info", LogLevel::kInfo},
                                                           {"warn", LogLevel::kWarn},
                                                           {"error", LogLevel::kError}};
    auto found = levels.find(level);
    if (found == levels.end()) {
      decode_failure(
          "'service.telemetry.logs' decoding failed due to the following error(s):\n\n"
          "'level' unrecognized level: \"" +
          level + "\"");
    }
    logs.level = found->second;
  }
  if (node["encoding"] && node["encoding"].IsScalar()) {
    const std::string encoding = node["encoding"].Scalar();
    if (encoding != "json" && encoding != "console") {
      invalid("service::telemetry::logs: unsupported encoding \"" + encoding + "\"");
    }
    logs.json = encoding == "json";
  }
  return logs;
}

// Both shapes: `resource: {k: v}` and the declarative `resource: {attributes: [{name, value}]}`.
std::map<std::string, std::string> decode_resource(const YAML::Node &telemetry) {
  std::map<std::string, std::string> resource;
  if (!telemetry || !telemetry.IsMap() || !telemetry["resource"] ||
      !telemetry["resource"].IsMap()) {
    return resource;
  }
  // v0.149.0 reads the resource as a map of strings only (no `attributes` list).
  for (const auto &entry : telemetry["resource"]) {
    std::string key = entry.first.as<std::string>();
    if (entry.second.IsSequence() || entry.second.IsMap()) {
      std::string message = "'service.telemetry.resource[";
      message += key;
      message += "]' expected type 'string', got unconvertible type '";
      message += entry.second.IsSequence() ? "[]interface {}" : "map[string]interface {}";
      message += "'";
      decode_failure(message);
    }
    if (entry.second.IsScalar())
      resource[key] = entry.second.Scalar();
  }
  return resource;
}

HealthCheckSettings decode_health_check(const YAML::Node &node) {
  HealthCheckSettings settings;
  if (node && node.IsMap()) {
    if (node["endpoint"] && node["endpoint"].IsScalar())
      settings.endpoint = node["endpoint"].Scalar();
    if (node["path"] && node["path"].IsScalar())
      settings.path = node["path"].Scalar();
  }
  return settings;
}

}  // namespace

ServiceModel validate_config(const YAML::Node &config, const FeatureGates &gates) {
  ServiceModel model;
  model.config = config;

  // Decoding: top-level keys, component ids and types, the service section.
  static const std::set<std::string> top_keys = {"receivers",  "processors", "exporters",
                                                 "extensions", "connectors", "service"};
  std::vector<std::string> unknown;
  for (const auto &entry : config) {
    if (top_keys.count(entry.first.as<std::string>()) == 0) {
      unknown.push_back(entry.first.as<std::string>());
    }
  }
  if (!unknown.empty())
    decode_failure("'otelcol.configSettings' has invalid keys: " + join(unknown, ", "));

  std::map<ComponentKind, std::set<std::string>> configured;
  for (ComponentKind kind :
       {ComponentKind::kReceiver, ComponentKind::kProcessor, ComponentKind::kExporter,
        ComponentKind::kConnector, ComponentKind::kExtension}) {
    for (const auto &id : decode_section(config, kind)) {
      check_known_keys(config[kind_section(kind)][id], kind, id);
      configured[kind].insert(id);
    }
  }

  const YAML::Node service = config["service"];
  if (service && !service.IsNull() && !service.IsMap()) {
    decode_failure("'service' expected a map, got '" +
                   std::string(service.IsSequence() ? "slice" : "string") + "'");
  }
  if (service && service.IsMap()) {
    std::vector<std::string> bad_keys;
    for (const auto &entry : service) {
      std::string key = entry.first.as<std::string>();
      if (key != "extensions" && key != "pipelines" && key != "telemetry")
        bad_keys.push_back(key);
    }
    if (!bad_keys.empty())
      decode_failure("'service' has invalid keys: " + join(bad_keys, ", "));
    model.extensions = string_list(service["extensions"], "service.extensions");
    const YAML::Node pipelines = service["pipelines"];
    if (pipelines && !pipelines.IsNull() && !pipelines.IsMap()) {
      decode_failure("'service.pipelines' expected a map, got 'slice'");
    }
    if (pipelines && pipelines.IsMap()) {
      static const std::set<std::string> signals = {"traces", "metrics", "logs", "profiles"};
      for (const auto &entry : pipelines) {
        PipelineModel pipeline;
        pipeline.id = entry.first.as<std::string>();
        if (signals.count(type_of(pipeline.id)) == 0) {
          decode_failure("'service.pipelines' in \"" + pipeline.id +
                         "\" id: unknown pipeline signal: \"" + type_of(pipeline.id) + "\"");
        }
        const std::string path = "service.pipelines." + pipeline.id;
        if (entry.second && !entry.second.IsNull() && !entry.second.IsMap()) {
          decode_failure("'" + path + "' expected a map, got 'slice'");
        }
        if (entry.second.IsMap()) {
          for (const auto &key : entry.second) {
            std::string name = key.first.as<std::string>();
            if (name != "receivers" && name != "processors" && name != "exporters") {
              decode_failure("'" + path + "' has invalid keys: " + name);
            }
          }
          pipeline.receivers = string_list(entry.second["receivers"], path + ".receivers");
          pipeline.processors = string_list(entry.second["processors"], path + ".processors");
          pipeline.exporters = string_list(entry.second["exporters"], path + ".exporters");
        }
        model.pipelines.push_back(std::move(pipeline));
      }
    }
    model.logs = decode_logs(service["telemetry"]);
    model.resource = decode_resource(service["telemetry"]);
  }

  // The settings of the emulated extensions, for every configured instance.
  std::map<std::string, OpampSettings> opamp_settings;
  std::map<std::string, FaultSettings> fault_settings;
  for (const auto &id : configured[ComponentKind::kExtension]) {
    const YAML::Node node = config["extensions"][id];
    const std::string type = type_of(id);
    try {
      if (type == "opamp")
        opamp_settings[id] = decode_opamp_settings(node);
      if (type == "fault")
        fault_settings[id] = decode_fault_settings(node);
    } catch (const DecodeError &e) {
      decode_failure("'extensions' error reading configuration for \"" + id +
                     "\": decoding failed due to the following error(s):\n\n" + e.what());
    } catch (const InvalidError &e) {
      invalid("extensions::" + id + ": " + e.what());
    }
  }

  // Validation: component configs, then the service.
  for (const auto &[id, settings] : opamp_settings) {
    try {
      validate_opamp_settings(settings, gates);
    } catch (const InvalidError &e) {
      invalid("extensions::" + id + ": " + e.what());
    }
  }

  std::set<std::string> seen_extensions;
  for (const auto &id : model.extensions) {
    if (configured[ComponentKind::kExtension].count(id) == 0) {
      invalid("service::extensions: references extension \"" + id + "\" which is not configured");
    }
    if (!seen_extensions.insert(id).second) {
      invalid("service::extensions: references extension \"" + id + "\" multiple times");
    }
  }

  if (model.pipelines.empty() && !gates.enabled(kAllowNoPipelinesGate)) {
    invalid("service must have at least one pipeline");
  }

  std::set<std::string> connectors_as_receiver;
  std::set<std::string> connectors_as_exporter;
  for (const auto &pipeline : model.pipelines) {
    const std::string where = "service::pipelines::" + pipeline.id + ": ";
    if (type_of(pipeline.id) == "profiles" && !gates.enabled(kProfilesSupportGate)) {
      invalid(where + "profiling signal support is at alpha level, gated under the \"" +
              kProfilesSupportGate + "\" feature gate");
    }
    if (pipeline.receivers.empty())
      invalid(where + "must have at least one receiver");
    if (pipeline.exporters.empty())
      invalid(where + "must have at least one exporter");
    auto check_refs = [&](const std::vector<std::string> &refs, ComponentKind kind,
                          std::set<std::string> *connector_uses) {
      std::set<std::string> seen;
      for (const auto &ref : refs) {
        bool is_connector =
            connector_uses != nullptr && configured[ComponentKind::kConnector].count(ref) > 0;
        if (configured[kind].count(ref) == 0 && !is_connector) {
          invalid(where + "references " + kind_name(kind) + " \"" + ref +
                  "\" which is not configured");
        }
        if (!seen.insert(ref).second) {
          invalid(where + "references " + kind_name(kind) + " \"" + ref + "\" multiple times");
        }
        if (is_connector)
          connector_uses->insert(ref);
      }
    };
    check_refs(pipeline.receivers, ComponentKind::kReceiver, &connectors_as_receiver);
    check_refs(pipeline.processors, ComponentKind::kProcessor, nullptr);
    check_refs(pipeline.exporters, ComponentKind::kExporter, &connectors_as_exporter);
  }
  for (const auto &id : connectors_as_exporter) {
    if (connectors_as_receiver.count(id) == 0) {
      invalid("connectors::" + id +
              ": must be used as both receiver and exporter but is not used as receiver");
    }
    model.connectors.push_back(id);
  }
  for (const auto &id : connectors_as_receiver) {
    if (connectors_as_exporter.count(id) == 0) {
      invalid("connectors::" + id +
              ": must be used as both receiver and exporter but is not used as exporter");
    }
  }

  // Only extensions listed in service.extensions are started.
  for (const auto &id : model.extensions) {
    const std::string type = type_of(id);
    if (type == "opamp" && !model.opamp)
      model.opamp = opamp_settings[id];
    if (type == "fault" && !model.fault)
      model.fault = fault_settings[id];
    if (type == "health_check" && !model.health_check) {
      model.health_check = decode_health_check(config["extensions"][id]);
    }
  }
  return model;
}

}  // namespace opsup::fakeotelcol
