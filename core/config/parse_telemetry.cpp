// `telemetry:` (the supervisor's own logs, metrics, traces, resource) and `healthcheck:`.
// The OpenTelemetry configuration-schema subtrees are kept as YAML and checked for shape.
#include <algorithm>
#include <array>
#include <cctype>

#include "config/internal/sections.hpp"

namespace opsup::config::internal {
namespace {

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// processors / readers: a list of mappings, each naming one kind ("batch: {...}").
void read_list_of_mappings(MapReader &section, std::string_view key, YamlValue &out) {
  auto entry = section.take(key);
  if (!entry)
    return;
  if (!entry->value.IsSequence()) {
    section.error(key, "must be a list, got " + node_kind(entry->value));
    return;
  }
  bool valid = true;
  for (std::size_t i = 0; i < entry->value.size(); ++i) {
    const YAML::Node item = entry->value[i];
    if (!item.IsMap()) {
      const int line = line_of_node(item) > 0 ? line_of_node(item) : entry->key_line;
      section.sink().error(line, index_path(entry->path, i),
                           "must be a mapping, got " + node_kind(item));
      valid = false;
    }
  }
  if (valid)
    out = entry->value;
}

// configtelemetry.Level text.
void read_metrics_level(MapReader &section, std::string &level) {
  std::string text;
  if (!section.read_string("level", text))
    return;
  const std::string value = lowercase(text);
  if (value != "none" && value != "basic" && value != "normal" && value != "detailed") {
    section.error("level", "unknown level " + quote_for_message(text) +
                               "; use none, basic, normal or detailed");
    return;
  }
  level = value;
}

void read_logs(MapReader section, LogsConfig &logs) {
  std::string level;
  if (section.read_string("level", level)) {
    // zapcore.Level.UnmarshalText: all lowercase or all uppercase; "" means info.
    static constexpr std::array<std::string_view, 7> kLevels{"debug",  "info",  "warn", "error",
                                                             "dpanic", "panic", "fatal"};
    const std::string lower = lowercase(level);
    std::string upper = level;
    for (char &c : upper)
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    const bool known = std::find(kLevels.begin(), kLevels.end(), lower) != kLevels.end();
    if (level.empty()) {
      logs.level = "info";
    } else if (known && (level == lower || level == upper)) {
      logs.level = lower;
    } else {
      section.error("level", "unrecognized level " + quote_for_message(level) +
                                 "; use debug, info, warn, error, dpanic, panic or fatal");
    }
  }
  std::string encoding;
  if (section.read_string("encoding", encoding) && !encoding.empty()) {
    if (encoding != "json" && encoding != "console") {
      section.error("encoding",
                    "must be \"json\" or \"console\", got " + quote_for_message(encoding));
    } else {
      logs.encoding = encoding;
    }
  }
  section.read_string_list("output_paths", logs.output_paths);
  section.read_string_list("error_output_paths", logs.error_output_paths);
  read_list_of_mappings(section, "processors", logs.processors);
  MapReader rotation = section.section("rotation");
  rotation.read_int("max_megabytes", 0, 1024 * 1024, logs.rotation.max_megabytes);
  rotation.read_int("max_backups", 0, 1000, logs.rotation.max_backups);
  rotation.finish();
  section.finish();
}

void read_metrics(MapReader section, MetricsConfig &metrics) {
  read_metrics_level(section, metrics.level);
  read_list_of_mappings(section, "readers", metrics.readers);
  section.finish();
}

void read_traces(MapReader section, TracesConfig &traces) {
  read_metrics_level(section, traces.level);
  section.read_string_list("propagators", traces.propagators);
  read_list_of_mappings(section, "processors", traces.processors);
  section.finish();
}

// otelconftelemetry ResourceConfig: `attributes` (list of {name, value, type}),
// `attributes_list`, `schema_url`, `detection/development`, and legacy inline
// name: value pairs.
void read_resource(MapReader &telemetry, YamlValue &out) {
  auto entry = telemetry.take("resource");
  if (!entry)
    return;
  MapReader resource(entry->value, entry->path, entry->key_line, telemetry.sink());
  if (!resource.is_mapping())
    return;
  bool valid = true;
  for (const auto &item : resource.entries()) {
    resource.accept(item.key);
    if (is_null_value(item.value))
      continue;
    if (item.key == "attributes") {
      if (!item.value.IsSequence()) {
        telemetry.sink().error(
            item.key_line, item.path,
            "must be a list of {name, value} mappings, got " + node_kind(item.value));
        valid = false;
        continue;
      }
      for (std::size_t i = 0; i < item.value.size(); ++i) {
        const YAML::Node attribute = item.value[i];
        const std::string path = index_path(item.path, i);
        const int line = line_of_node(attribute) > 0 ? line_of_node(attribute) : item.key_line;
        if (!attribute.IsMap() || !child(attribute, "name").IsScalar()) {
          telemetry.sink().error(line, path, "must be a mapping with a name and a value");
          valid = false;
        }
      }
    } else if (item.key == "detection/development") {
      if (!item.value.IsMap()) {
        telemetry.sink().error(item.key_line, item.path,
                               "must be a mapping, got " + node_kind(item.value));
        valid = false;
      }
    } else if (!item.value.IsScalar()) {  // attributes_list, schema_url, legacy inline pairs
      telemetry.sink().error(item.key_line, item.path,
                             "must be a single value, got " + node_kind(item.value));
      valid = false;
    }
  }
  if (valid)
    out = entry->value;
}

}  // namespace

void parse_telemetry(MapReader section, TelemetryConfig &telemetry) {
  read_logs(section.section("logs"), telemetry.logs);
  read_metrics(section.section("metrics"), telemetry.metrics);
  read_traces(section.section("traces"), telemetry.traces);
  read_resource(section, telemetry.resource);
  section.finish();
}

void parse_healthcheck(MapReader section, HealthCheckConfig &healthcheck) {
  if (section.read_string("endpoint", healthcheck.endpoint)) {
    const auto port = endpoint_port(healthcheck.endpoint);
    if (port && (*port < 0 || *port > 65535)) {
      section.error("endpoint", "must contain a valid port number (0..65535), got " +
                                    quote_for_message(healthcheck.endpoint));
    }
  }
  section.read_string("transport", healthcheck.transport);
  if (section.has("tls")) {
    healthcheck.tls.emplace();
    parse_server_tls(section.section("tls"), *healthcheck.tls);
  } else {
    section.accept("tls");
  }
  // confighttp.ServerConfig keys the supervisor accepts but does not use (upstream forces
  // the timeouts to 0 and keep-alives off).
  for (std::string_view key :
       {"cors", "auth", "max_request_body_size", "include_metadata", "response_headers",
        "compression_algorithms", "read_timeout", "read_header_timeout", "write_timeout",
        "idle_timeout", "keep_alives_enabled"}) {
    section.accept(key);
  }
  section.finish();
}

}  // namespace opsup::config::internal
