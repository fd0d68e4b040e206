// Parses the JSON bodies of the API's actions into OpAMP messages. Every error names the
// offending key ("files.collector.yaml: expected a string or an object").
#pragma once

#include <boost/json/value.hpp>

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "opamp.pb.h"

namespace opsup::opamp_server {

namespace proto = opamp::proto::v1;

class RequestError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses `body` as a JSON object; an empty body is an empty object.
boost::json::object parse_json_object(const std::string &body);

// {"files": {"name": "yaml" | {"body": "...", "content_type": "text/yaml"}}} or
// {"config": "yaml"} (a single file named "").
proto::AgentConfigMap parse_remote_config(const boost::json::object &body);

// {"destination_endpoint", "headers", "heartbeat_interval_seconds", "certificate": {"cert",
// "private_key", "ca_cert"}, "tls": {...}}
proto::OpAMPConnectionSettings parse_opamp_settings(const boost::json::object &body);

// {"metrics"|"traces"|"logs": {"destination_endpoint", "headers", "certificate", "tls"}}:
// keyed by offer part ("own_metrics", ...).
std::map<std::string, proto::TelemetryConnectionSettings> parse_own_telemetry(
    const boost::json::object &body);

// A change of the other_connections offer part.
struct OtherConnectionsChange {
  google::protobuf::Map<std::string, proto::OtherConnectionSettings> connections;
  // false: `connections` replaces the whole map; true: it adds or replaces entries by name,
  // the others (with their certificates and TLS settings) stay.
  bool merge = false;
  std::vector<std::string> remove;  // names dropped (with merge)
};
// {"connections": {"name": {"destination_endpoint", "headers", "other_settings", "certificate",
//                          "tls", "proxy"}},
//  "merge": false, "remove": ["name"]}
OtherConnectionsChange parse_other_connections(const boost::json::object &body);

// {"capability", "type", "data" (text) | "data_base64"}
proto::CustomMessage parse_custom_message(const boost::json::object &body);

// A package to store, offer, or both.
struct PackageRequest {
  std::string name;
  std::string version;
  proto::PackageType type = proto::PackageType_TopLevel;
  std::optional<std::string> content;    // from content_base64 (or content as text)
  std::optional<std::string> file_path;  // a local file the server serves
  std::optional<std::string> signature;  // from signature_base64
  proto::Headers download_headers;       // "headers": sent along in DownloadableFile
};
// {"name", "version", "type", "content_base64" | "content" | "file_path", "signature_base64",
// "headers"} — `where` prefixes error messages.
PackageRequest parse_package(const boost::json::value &value, const std::string &where,
                             const std::string &name_if_keyed);
// A change of the agent's offered package set.
struct PackagesChange {
  std::vector<PackageRequest> packages;
  // false: `packages` replaces the whole offer; true: they are added or replaced by name and
  // every other offered package stays exactly as it was offered (content hash, signature,
  // download headers and package hash).
  bool merge = false;
  std::vector<std::string> remove;  // names dropped (with merge), before `packages` are added
};
// {"packages": {"name": {...}} | [{"name": ...}], "merge": false, "remove": ["name"]}
// ("packages" may be left out with merge).
PackagesChange parse_package_offer(const boost::json::object &body);

}  // namespace opsup::opamp_server
