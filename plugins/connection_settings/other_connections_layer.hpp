// AcceptsOtherConnectionSettings, the pure part: the Collector config layer that points the
// Collector's exporters at the server's other_connections offers (issue 11, item 4).
//
// Each named offer configures the exporter of the same name in the Collector's composed
// config (the spec: "for a Collector, the same-named exporter"); a name with no such exporter
// is reported, never invented. Per exporter the layer sets:
//
//   destination_endpoint                      -> exporters.<name>.endpoint ("" keeps it)
//   headers                                   -> exporters.<name>.headers (merged by name
//                                                into the configured ones; offered wins)
//   certificate.cert + private_key            -> tls.cert_file, tls.key_file (PEM files)
//   tls.ca_pem_contents + certificate.ca_cert -> tls.ca_file (one PEM file, joined)
//   tls.include_system_ca_certs_pool, min_version, max_version, cipher_suites
//                                             -> the same tls.* keys
//   proxy.url                                 -> proxy_url (otlphttp exporters only)
//
// Refused for a name (the offer is FAILED, the exporter untouched): tls.insecure_skip_verify
// (the exporter's own config may set it; an offer never turns verification off), a cert
// without its key or a key without its cert, a cert and key that are not PEM or not a pair,
// a CA that is not PEM certificates (pem_check.hpp), a proxy.url that is not an http(s) URL
// with a host, a cipher suite Go does not offer (the Collector's `validate` checks none of
// these, and the Collector would not start with them), and anything over the size limits
// below. Not
// applied and only noted: other_settings, proxy.connect_headers, a proxy for an exporter
// other than otlphttp. Pure functions: no host, no files; the module writes the files.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace opsup::connection_settings {

// One OtherConnectionSettings, read out of the protobuf message by the module.
struct OtherConnection {
  std::string endpoint;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string cert_pem;  // certificate.cert
  std::string key_pem;   // certificate.private_key
  std::string ca_pem;    // tls.ca_pem_contents and certificate.ca_cert, joined
  bool include_system_ca_certs_pool = false;
  bool insecure_skip_verify = false;
  std::string min_version;
  std::string max_version;
  std::vector<std::string> cipher_suites;
  std::string proxy_url;
  bool proxy_connect_headers = false;
  std::vector<std::string> other_settings;  // keys only (values are not applied)
};

// By name, as offered.
using OtherConnections = std::map<std::string, OtherConnection>;

// Bounds on what an offer may carry (a name over them is refused).
inline constexpr size_t kMaxConnections = 64;
inline constexpr size_t kMaxNameBytes = 256;
inline constexpr size_t kMaxEndpointBytes = 4096;
inline constexpr size_t kMaxHeaders = 64;
inline constexpr size_t kMaxHeaderBytes = 8192;  // name + value
inline constexpr size_t kMaxPemBytes = 64 * 1024;

struct OtherConnectionsLayer {
  std::string yaml;  // "" when no exporter is configured: the layer is removed
  // PEM files the layer names, by plain file name in the storage directory: contents.
  std::map<std::string, std::string> files;
  std::vector<std::string> applied;  // names whose exporter the layer configures
  std::vector<std::string> missing;  // names with no such exporter
  std::vector<std::string> refused;  // "<name>: <reason>", one per refused name
  std::vector<std::string> notes;    // "<name>: <what is not applied>"

  // What keeps the offer from being APPLIED, for ConnectionSettingsStatus.error_message
  // (names the missing exporters); "" when nothing does.
  std::string failure() const;
};

// The names under `exporters` in `composed_yaml`, the Collector's composed config. A name in
// `own_layer_names` (what this module's layer in force configures) counts only when a
// pipeline uses it: this module's layer alone must not make an exporter exist. nullopt
// when the text does not parse as YAML.
std::optional<std::set<std::string>> exporter_names(std::string_view composed_yaml,
                                                    const std::set<std::string> &own_layer_names);

// The layer for `connections`. `existing`: the Collector's exporter names; nullptr skips the
// check (restoring what was checked before). `storage_directory` (absolute; "" when not
// known, which refuses names with PEM material) is where the module writes `files`.
OtherConnectionsLayer render_other_connections_layer(const OtherConnections &connections,
                                                     const std::set<std::string> *existing,
                                                     const std::string &storage_directory);

// The storage file name of a name's PEM part `kind` ("ca", "cert", "key") holding
// `contents`: other_connection_<name, bytes outside [A-Za-z0-9.-] as _XX>_<kind>_<FNV-1a of
// the contents>.pem. Distinct names never share a file, and new contents get a new file, so
// the layer's text changes with them (the Collector restarts and reads them) and a refused
// change never touches the files in force.
std::string pem_file_name(std::string_view name, std::string_view kind, std::string_view contents);
inline constexpr std::string_view kPemFilePrefix = "other_connection_";
inline constexpr std::string_view kPemFileSuffix = ".pem";

}  // namespace opsup::connection_settings
