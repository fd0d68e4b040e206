#include "telemetry/telemetry_settings.hpp"

#include <yaml-cpp/yaml.h>

#include <stdexcept>
#include <string_view>

#include "config/diagnostic.hpp"
#include "config/supervisor_config.hpp"

namespace opsup::telemetry {
namespace {

int line_of(const YAML::Node &node) {
  if (!node.IsDefined())
    return 0;
  const YAML::Mark mark = node.Mark();
  return mark.is_null() ? 0 : mark.line + 1;
}

// `node`, or its parent when `node` is absent (a missing key is reported on its parent's line).
YAML::Node or_parent(const YAML::Node &node, const YAML::Node &parent) {
  return node.IsDefined() ? node : parent;
}

// Errors name the file, the line and the dotted key, like the config loader's.
class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void fail(const YAML::Node &node, const std::string &key,
                         const std::string &message) const {
    throw std::invalid_argument(
        config::Diagnostic{source_, line_of(node), key, message}.to_string());
  }

  std::string text(const YAML::Node &node, const std::string &key) const {
    if (!node.IsScalar())
      fail(node, key, "must be a single value");
    return node.Scalar();
  }

  std::chrono::milliseconds millis(const YAML::Node &node, const std::string &key) const {
    long long value = 0;
    try {
      value = node.as<long long>();
    } catch (const YAML::Exception &) {
      fail(node, key, "must be a whole number of milliseconds, got \"" + text(node, key) + "\"");
    }
    if (value < 0)
      fail(node, key, "must not be negative");
    return std::chrono::milliseconds(value);
  }

  std::size_t size(const YAML::Node &node, const std::string &key) const {
    long long value = 0;
    try {
      value = node.as<long long>();
    } catch (const YAML::Exception &) {
      fail(node, key, "must be a whole number, got \"" + text(node, key) + "\"");
    }
    if (value <= 0)
      fail(node, key, "must be positive");
    return static_cast<std::size_t>(value);
  }

 private:
  std::string source_;
};

// "k1=v1,k2=v2" (otelconf headers_list).
void read_headers_list(const std::string &list, transport::HeaderList &headers) {
  std::string_view rest = list;
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    std::string_view pair = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    const std::size_t equals = pair.find('=');
    if (equals == std::string_view::npos || equals == 0)
      continue;
    auto trim = [](std::string_view text) {
      while (!text.empty() && text.front() == ' ')
        text.remove_prefix(1);
      while (!text.empty() && text.back() == ' ')
        text.remove_suffix(1);
      return std::string(text);
    };
    headers.push_back({trim(pair.substr(0, equals)), trim(pair.substr(equals + 1))});
  }
}

// otelconf's OTLP/HTTP endpoint: a URL whose path, when empty, becomes /v1/<signal>; an
// endpoint without a scheme is taken as http://.
std::string endpoint_url(const Reader &reader, const YAML::Node &node, const std::string &key,
                         std::string_view signal) {
  std::string endpoint = reader.text(node, key);
  if (endpoint.empty())
    reader.fail(node, key, "must be an http:// or https:// URL");
  if (endpoint.find("://") == std::string::npos)
    endpoint = "http://" + endpoint;
  if (!endpoint.starts_with("http://") && !endpoint.starts_with("https://"))
    reader.fail(node, key, "must be an http:// or https:// URL, got \"" + endpoint + "\"");
  const std::size_t authority = endpoint.find("://") + 3;
  const std::size_t path = endpoint.find('/', authority);
  if (path == authority || endpoint.size() == authority)
    reader.fail(node, key, "has no host: \"" + endpoint + "\"");
  if (path == std::string::npos)
    endpoint += "/v1/" + std::string(signal);
  return endpoint;
}

OtlpTarget read_otlp(const Reader &reader, const YAML::Node &otlp, const std::string &key,
                     std::string_view signal) {
  if (!otlp.IsMap() && !otlp.IsNull())
    reader.fail(otlp, key, "must be a mapping");
  OtlpTarget target;
  const std::string protocol =
      otlp["protocol"] ? reader.text(otlp["protocol"], key + ".protocol") : "http/protobuf";
  if (protocol != "http/protobuf" && !protocol.empty()) {
    reader.fail(otlp["protocol"], key + ".protocol",
                "\"" + protocol +
                    "\" is not supported for the supervisor's own telemetry; use "
                    "http/protobuf (OTLP/HTTP with protobuf bodies)");
  }
  if (!otlp["endpoint"])
    reader.fail(otlp, key + ".endpoint", "is required");
  target.url = endpoint_url(reader, otlp["endpoint"], key + ".endpoint", signal);
  if (const YAML::Node headers = otlp["headers"]; headers && !headers.IsNull()) {
    if (!headers.IsSequence())
      reader.fail(headers, key + ".headers", "must be a list of {name, value} mappings");
    for (std::size_t i = 0; i < headers.size(); ++i) {
      const std::string item_key = key + ".headers[" + std::to_string(i) + "]";
      const YAML::Node header = headers[i];
      if (!header.IsMap() || !header["name"] || !header["value"])
        reader.fail(header, item_key, "must be a mapping with a name and a value");
      target.headers.push_back({reader.text(header["name"], item_key + ".name"),
                                reader.text(header["value"], item_key + ".value")});
    }
  }
  if (const YAML::Node list = otlp["headers_list"]; list && !list.IsNull())
    read_headers_list(reader.text(list, key + ".headers_list"), target.headers);
  if (const YAML::Node timeout = otlp["timeout"]; timeout && !timeout.IsNull())
    target.timeout = reader.millis(timeout, key + ".timeout");
  if (target.timeout.count() == 0)
    target.timeout = std::chrono::milliseconds(10000);
  if (const YAML::Node compression = otlp["compression"]; compression && !compression.IsNull()) {
    const std::string value = reader.text(compression, key + ".compression");
    if (value == "gzip") {
      target.gzip = true;
    } else if (!value.empty() && value != "none") {
      reader.fail(compression, key + ".compression", "must be gzip or none, got \"" + value + "\"");
    }
  }
  if (const YAML::Node ca = otlp["certificate"]; ca && !ca.IsNull())
    target.tls.ca_file = reader.text(ca, key + ".certificate");
  if (const YAML::Node cert = otlp["client_certificate"]; cert && !cert.IsNull())
    target.tls.cert_file = reader.text(cert, key + ".client_certificate");
  if (const YAML::Node client_key = otlp["client_key"]; client_key && !client_key.IsNull())
    target.tls.key_file = reader.text(client_key, key + ".client_key");
  return target;
}

// The one OTLP exporter of `exporter:`; nullopt (with a note) for another kind.
// `exporter:` of a processor or reader (`owner`).
std::optional<OtlpTarget> read_exporter(const Reader &reader, const YAML::Node &owner,
                                        const std::string &key, std::string_view signal,
                                        std::vector<std::string> &notes) {
  const YAML::Node exporter = owner["exporter"];
  if (!exporter || !exporter.IsMap())
    reader.fail(or_parent(exporter, owner), key, "must be a mapping naming one exporter (otlp)");
  std::optional<OtlpTarget> target;
  for (const auto &entry : exporter) {
    const std::string kind = entry.first.Scalar();
    if (kind == "otlp") {
      target = read_otlp(reader, entry.second, key + ".otlp", signal);
    } else {
      notes.push_back(key + "." + kind +
                      ": only OTLP/HTTP exporters are supported for the supervisor's own "
                      "telemetry; this exporter is ignored");
    }
  }
  return target;
}

void keep_first(const Reader &reader, const YAML::Node &node, const std::string &key,
                bool already) {
  if (already)
    reader.fail(node, key, "a second OTLP exporter for the same signal is not supported");
}

std::optional<SignalSettings> read_processors(const Reader &reader, const YAML::Node &processors,
                                              const std::string &key, std::string_view signal,
                                              std::chrono::milliseconds default_delay,
                                              std::vector<std::string> &notes) {
  std::optional<SignalSettings> result;
  if (!processors.IsDefined() || !processors.IsSequence())
    return result;
  for (std::size_t i = 0; i < processors.size(); ++i) {
    const YAML::Node processor = processors[i];
    const std::string item_key = key + "[" + std::to_string(i) + "]";
    for (const auto &entry : processor) {
      const std::string kind = entry.first.Scalar();
      const std::string kind_key = item_key + "." + kind;
      const YAML::Node body = entry.second;
      if (kind != "batch" && kind != "simple") {
        notes.push_back(kind_key + ": unknown processor kind; ignored");
        continue;
      }
      if (!body.IsMap())
        reader.fail(body, kind_key, "must be a mapping with an exporter");
      std::optional<OtlpTarget> target =
          read_exporter(reader, body, kind_key + ".exporter", signal, notes);
      if (!target)
        continue;
      keep_first(reader, body, kind_key, result.has_value());
      SignalSettings settings;
      settings.target = std::move(*target);
      settings.batch.schedule_delay = default_delay;
      if (kind == "simple") {
        // Each record leaves at once (still off the loop, through the same bounded queue).
        settings.batch.schedule_delay = std::chrono::milliseconds(0);
        settings.batch.max_export_batch_size = 1;
      } else {
        if (const YAML::Node delay = body["schedule_delay"]; delay && !delay.IsNull())
          settings.batch.schedule_delay = reader.millis(delay, kind_key + ".schedule_delay");
        if (const YAML::Node queue = body["max_queue_size"]; queue && !queue.IsNull())
          settings.batch.max_queue_size = reader.size(queue, kind_key + ".max_queue_size");
        if (const YAML::Node batch = body["max_export_batch_size"]; batch && !batch.IsNull()) {
          settings.batch.max_export_batch_size =
              reader.size(batch, kind_key + ".max_export_batch_size");
        }
        if (const YAML::Node timeout = body["export_timeout"]; timeout && !timeout.IsNull()) {
          const auto value = reader.millis(timeout, kind_key + ".export_timeout");
          if (value.count() > 0 && value < settings.target.timeout)
            settings.target.timeout = value;
        }
        if (settings.batch.max_export_batch_size > settings.batch.max_queue_size) {
          reader.fail(or_parent(body["max_export_batch_size"], body),
                      kind_key + ".max_export_batch_size", "must not exceed max_queue_size");
        }
      }
      result = std::move(settings);
    }
  }
  return result;
}

std::optional<MetricsSettings> read_readers(const Reader &reader, const YAML::Node &readers,
                                            std::vector<std::string> &notes) {
  std::optional<MetricsSettings> result;
  if (!readers.IsDefined() || !readers.IsSequence())
    return result;
  for (std::size_t i = 0; i < readers.size(); ++i) {
    const std::string item_key = "telemetry.metrics.readers[" + std::to_string(i) + "]";
    for (const auto &entry : readers[i]) {
      const std::string kind = entry.first.Scalar();
      const std::string kind_key = item_key + "." + kind;
      const YAML::Node body = entry.second;
      if (kind != "periodic") {
        notes.push_back(kind_key +
                        ": only periodic readers are supported for the supervisor's own "
                        "metrics; this reader is ignored");
        continue;
      }
      if (!body.IsMap())
        reader.fail(body, kind_key, "must be a mapping with an exporter");
      std::optional<OtlpTarget> target =
          read_exporter(reader, body, kind_key + ".exporter", "metrics", notes);
      if (!target)
        continue;
      keep_first(reader, body, kind_key, result.has_value());
      MetricsSettings settings;
      settings.target = std::move(*target);
      if (const YAML::Node interval = body["interval"]; interval && !interval.IsNull())
        settings.interval = reader.millis(interval, kind_key + ".interval");
      if (settings.interval.count() == 0)
        reader.fail(or_parent(body["interval"], body), kind_key + ".interval", "must be positive");
      if (const YAML::Node timeout = body["timeout"]; timeout && !timeout.IsNull()) {
        const auto value = reader.millis(timeout, kind_key + ".timeout");
        if (value.count() > 0 && value < settings.target.timeout)
          settings.target.timeout = value;
      }
      result = std::move(settings);
    }
  }
  return result;
}

AttributeValue typed_value(const Reader &reader, const YAML::Node &value, const std::string &type,
                           const std::string &key) {
  try {
    if (type == "bool")
      return value.as<bool>();
    if (type == "int")
      return static_cast<int64_t>(value.as<long long>());
    if (type == "double")
      return value.as<double>();
  } catch (const YAML::Exception &) {
    reader.fail(value, key, "is not a " + type + ": \"" + reader.text(value, key) + "\"");
  }
  if (type.empty() || type == "string")
    return reader.text(value, key);
  reader.fail(value, key,
              "unsupported attribute type \"" + type + "\"; use string, bool, int or double");
}

void set_attribute(Attributes &attributes, std::string key, AttributeValue value) {
  for (Attribute &attribute : attributes) {
    if (attribute.key == key) {
      attribute.value = std::move(value);
      return;
    }
  }
  attributes.push_back({std::move(key), std::move(value)});
}

void read_resource(const Reader &reader, const YAML::Node &resource, TelemetrySettings &settings) {
  if (!resource.IsDefined() || !resource.IsMap())
    return;
  for (const auto &entry : resource) {
    const std::string name = entry.first.Scalar();
    const YAML::Node value = entry.second;
    const std::string key = "telemetry.resource." + name;
    if (value.IsNull())
      continue;
    if (name == "attributes") {
      for (std::size_t i = 0; i < value.size(); ++i) {
        const YAML::Node attribute = value[i];
        const std::string item_key = key + "[" + std::to_string(i) + "]";
        if (!attribute["value"] || attribute["value"].IsNull())
          continue;
        const std::string type =
            attribute["type"] ? reader.text(attribute["type"], item_key + ".type") : "";
        set_attribute(settings.resource, reader.text(attribute["name"], item_key + ".name"),
                      typed_value(reader, attribute["value"], type, item_key + ".value"));
      }
    } else if (name == "attributes_list") {
      transport::HeaderList pairs;
      read_headers_list(reader.text(value, key), pairs);
      for (auto &pair : pairs)
        set_attribute(settings.resource, std::move(pair.name), std::move(pair.value));
    } else if (name == "schema_url") {
      settings.schema_url = reader.text(value, key);
    } else if (name == "detection/development") {
      settings.notes.push_back(key + ": resource detectors are not run by this supervisor");
    } else {
      set_attribute(settings.resource, name, reader.text(value, key));  // legacy inline pair
    }
  }
}

}  // namespace

TelemetrySettings read_telemetry_settings(const config::TelemetryConfig &config,
                                          const std::string &source_name) {
  const Reader reader(source_name);
  TelemetrySettings settings;
  settings.logs =
      read_processors(reader, config.logs.processors.node(), "telemetry.logs.processors", "logs",
                      std::chrono::milliseconds(1000), settings.notes);
  if (config.traces.level != "none") {
    settings.traces =
        read_processors(reader, config.traces.processors.node(), "telemetry.traces.processors",
                        "traces", std::chrono::milliseconds(5000), settings.notes);
  }
  if (config.metrics.level != "none")
    settings.metrics = read_readers(reader, config.metrics.readers.node(), settings.notes);
  read_resource(reader, config.resource.node(), settings);
  return settings;
}

}  // namespace opsup::telemetry
