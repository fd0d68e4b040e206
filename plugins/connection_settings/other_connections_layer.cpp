#include "other_connections_layer.hpp"

#include "pem_check.hpp"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cstdint>

namespace opsup::connection_settings {
namespace {

// Longest escaped name in a PEM file name (the whole name stays under 255 bytes).
constexpr size_t kMaxEscapedName = 160;

// The cipher suites the Collector accepts (Go's crypto/tls CipherSuites(): the secure ones);
// any other name stops the Collector at start ("invalid TLS cipher suite"), which its
// `validate` does not catch.
constexpr std::string_view kCipherSuites[] = {
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
};

// True for an http:// or https:// URL with a host (what the Collector's proxy_url needs at
// start; its `validate` does not parse it).
bool proxy_url_ok(std::string_view url) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (url.size() <= scheme.size())
      continue;
    bool same = true;
    for (size_t i = 0; i < scheme.size(); ++i)
      same = same && std::tolower(static_cast<unsigned char>(url[i])) == scheme[i];
    if (!same)
      continue;
    const std::string_view rest = url.substr(scheme.size());
    const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
    const size_t at = authority.rfind('@');
    const std::string_view host =
        at == std::string_view::npos ? authority : authority.substr(at + 1);
    return !host.empty() && host.front() != ':' && url.find(' ') == std::string_view::npos;
  }
  return false;
}

// 64-bit FNV-1a of `bytes` as 16 hex digits (a file name part, not a security measure).
std::string fnv1a_hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t hash = 0xcbf29ce484222325ull;
  for (char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ull;
  }
  std::string text;
  for (int shift = 60; shift >= 0; shift -= 4)
    text.push_back(kHex[(hash >> shift) & 0xF]);
  return text;
}

// An HTTP header name (RFC 9110 token).
bool header_name_ok(std::string_view name) {
  if (name.empty())
    return false;
  for (char c : name) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) != 0)
      continue;
    if (std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos)
      return false;
  }
  return true;
}

// No control characters but tab (a header value, an endpoint, a name).
bool printable(std::string_view text, bool allow_tab) {
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && !(allow_tab && c == '\t')) || byte == 0x7f)
      return false;
  }
  return true;
}

// The exporter's type: the part of its name before '/'.
std::string_view exporter_type(std::string_view name) {
  return name.substr(0, name.find('/'));
}

// Why `connection` cannot be applied to the exporter `name`, or "" when it can.
std::string refusal(const std::string &name, const OtherConnection &connection,
                    bool storage_known) {
  if (name.size() > kMaxNameBytes)
    return "the name is longer than " + std::to_string(kMaxNameBytes) + " bytes";
  if (!printable(name, false))
    return "the name holds control characters";
  if (connection.endpoint.size() > kMaxEndpointBytes)
    return "destination_endpoint is longer than " + std::to_string(kMaxEndpointBytes) + " bytes";
  if (!printable(connection.endpoint, false) || connection.endpoint.find(' ') != std::string::npos)
    return "destination_endpoint holds spaces or control characters";
  if (connection.headers.size() > kMaxHeaders)
    return "more than " + std::to_string(kMaxHeaders) + " headers";
  for (const auto &[key, value] : connection.headers) {
    if (!header_name_ok(key))
      return "headers: \"" + (printable(key, false) ? key : std::string("?")) +
             "\" is not a header name";
    if (key.size() + value.size() > kMaxHeaderBytes)
      return "headers: " + key + " is longer than " + std::to_string(kMaxHeaderBytes) + " bytes";
    if (!printable(value, true))
      return "headers: the value of " + key + " holds control characters";
  }
  for (const std::string *pem : {&connection.cert_pem, &connection.key_pem, &connection.ca_pem}) {
    if (pem->size() > kMaxPemBytes)
      return "a certificate or key is larger than " + std::to_string(kMaxPemBytes) + " bytes";
  }
  if (connection.cert_pem.empty() != connection.key_pem.empty())
    return "certificate: cert and private_key must be given together";
  if (!connection.cert_pem.empty()) {
    if (std::string problem = key_pair_problem(connection.cert_pem, connection.key_pem);
        !problem.empty())
      return problem;
  }
  if (!connection.ca_pem.empty()) {
    if (std::string problem = certificates_problem(connection.ca_pem); !problem.empty())
      return "the CA (tls.ca_pem_contents, certificate.ca_cert) " + problem;
  }
  if (connection.insecure_skip_verify)
    return "tls.insecure_skip_verify is refused: an offer never turns verification off (the "
           "exporter's own config may set it)";
  const bool material = !connection.cert_pem.empty() || !connection.ca_pem.empty();
  if (material && !storage_known)
    return "the storage directory for the certificate files is not known";
  if (!connection.proxy_url.empty() &&
      (!printable(connection.proxy_url, false) || connection.proxy_url.size() > kMaxEndpointBytes ||
       !proxy_url_ok(connection.proxy_url)))
    return "proxy.url is not an http:// or https:// URL with a host";
  for (const std::string &suite : connection.cipher_suites) {
    bool known = false;
    for (std::string_view name : kCipherSuites)
      known = known || suite == name;
    if (!known)
      return "tls.cipher_suites: \"" + (printable(suite, false) ? suite : std::string("?")) +
             "\" is not a cipher suite the Collector accepts";
  }
  return {};
}

class LayerWriter {
 public:
  LayerWriter(const std::string &storage_directory, OtherConnectionsLayer &layer)
      : storage_directory_(storage_directory), layer_(layer) {}

  // Writes the exporter's keys (the emitter is inside the exporter's map).
  void write(YAML::Emitter &out, const std::string &name, const OtherConnection &connection) {
    if (!connection.endpoint.empty())
      out << YAML::Key << "endpoint" << YAML::Value << YAML::DoubleQuoted << connection.endpoint;
    if (!connection.headers.empty()) {
      out << YAML::Key << "headers" << YAML::Value << YAML::BeginMap;
      for (const auto &[key, value] : connection.headers)
        out << YAML::Key << YAML::DoubleQuoted << key << YAML::Value << YAML::DoubleQuoted << value;
      out << YAML::EndMap;
    }
    if (!connection.proxy_url.empty()) {
      if (exporter_type(name) == "otlphttp") {
        out << YAML::Key << "proxy_url" << YAML::Value << YAML::DoubleQuoted
            << connection.proxy_url;
      } else {
        note(name, "proxy is not applied: only otlphttp exporters have proxy_url");
      }
    }
    if (connection.proxy_connect_headers)
      note(name, "proxy.connect_headers are not applied: exporters have no such setting");
    for (const std::string &key : connection.other_settings)
      note(name, "other_settings." + key + " is not applied");
    write_tls(out, name, connection);
  }

 private:
  void write_tls(YAML::Emitter &out, const std::string &name, const OtherConnection &connection) {
    const bool any = !connection.ca_pem.empty() || !connection.cert_pem.empty() ||
                     connection.include_system_ca_certs_pool || !connection.min_version.empty() ||
                     !connection.max_version.empty() || !connection.cipher_suites.empty();
    if (!any)
      return;
    out << YAML::Key << "tls" << YAML::Value << YAML::BeginMap;
    if (!connection.ca_pem.empty())
      out << YAML::Key << "ca_file" << YAML::Value << YAML::DoubleQuoted
          << file(name, "ca", connection.ca_pem);
    if (!connection.cert_pem.empty()) {
      out << YAML::Key << "cert_file" << YAML::Value << YAML::DoubleQuoted
          << file(name, "cert", connection.cert_pem);
      out << YAML::Key << "key_file" << YAML::Value << YAML::DoubleQuoted
          << file(name, "key", connection.key_pem);
    }
    if (connection.include_system_ca_certs_pool)
      out << YAML::Key << "include_system_ca_certs_pool" << YAML::Value << true;
    if (!connection.min_version.empty())
      out << YAML::Key << "min_version" << YAML::Value << YAML::DoubleQuoted
          << connection.min_version;
    if (!connection.max_version.empty())
      out << YAML::Key << "max_version" << YAML::Value << YAML::DoubleQuoted
          << connection.max_version;
    if (!connection.cipher_suites.empty()) {
      out << YAML::Key << "cipher_suites" << YAML::Value << YAML::BeginSeq;
      for (const std::string &suite : connection.cipher_suites)
        out << YAML::DoubleQuoted << suite;
      out << YAML::EndSeq;
    }
    out << YAML::EndMap;
  }

  // Records a PEM file; returns its absolute path.
  std::string file(const std::string &name, std::string_view kind, const std::string &pem) {
    std::string contents = pem;
    if (!contents.empty() && contents.back() != '\n')
      contents.push_back('\n');
    const std::string file_name = pem_file_name(name, kind, contents);
    layer_.files[file_name] = std::move(contents);
    std::string path = storage_directory_;
    if (path.back() != '/')
      path.push_back('/');
    return path + file_name;
  }

  void note(const std::string &name, const std::string &text) {
    layer_.notes.push_back(name + ": " + text);
  }

  const std::string &storage_directory_;
  OtherConnectionsLayer &layer_;
};

std::string quoted_list(const std::vector<std::string> &names) {
  std::string text;
  for (const std::string &name : names)
    text += (text.empty() ? "\"" : ", \"") + name + "\"";
  return text;
}

}  // namespace

std::string OtherConnectionsLayer::failure() const {
  std::string text;
  if (!missing.empty()) {
    text = std::string("no exporter named ") + quoted_list(missing) + " in the Collector's config";
  }
  for (const std::string &reason : refused)
    text += (text.empty() ? "" : "; ") + reason;
  if (text.empty())
    return text;
  text = "other_connections: " + text;
  if (!applied.empty())
    text += " (applied: " + quoted_list(applied) + ")";
  return text;
}

std::optional<std::set<std::string>> exporter_names(std::string_view composed_yaml,
                                                    const std::set<std::string> &own_layer_names) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(composed_yaml));
  } catch (const YAML::Exception &) {
    return std::nullopt;
  }
  std::set<std::string> names;
  if (!root.IsMap())
    return names;
  const YAML::Node exporters = root["exporters"];
  if (!exporters || !exporters.IsMap())
    return names;
  std::set<std::string> used;
  const YAML::Node service = root["service"];
  const YAML::Node pipelines =
      service && service.IsMap() ? service["pipelines"] : YAML::Node(YAML::NodeType::Undefined);
  if (pipelines && pipelines.IsMap()) {
    for (const auto &pipeline : pipelines) {
      if (!pipeline.second.IsMap())
        continue;
      const YAML::Node list = pipeline.second["exporters"];
      if (!list || !list.IsSequence())
        continue;
      for (const auto &item : list) {
        if (item.IsScalar())
          used.insert(item.Scalar());
      }
    }
  }
  for (const auto &exporter : exporters) {
    if (!exporter.first.IsScalar())
      continue;
    const std::string &name = exporter.first.Scalar();
    if (own_layer_names.count(name) == 0 || used.count(name) != 0)
      names.insert(name);
  }
  return names;
}

OtherConnectionsLayer render_other_connections_layer(const OtherConnections &connections,
                                                     const std::set<std::string> *existing,
                                                     const std::string &storage_directory) {
  OtherConnectionsLayer layer;
  if (connections.size() > kMaxConnections) {
    layer.refused.push_back("more than " + std::to_string(kMaxConnections) +
                            " connections are offered; none is applied");
    return layer;
  }
  YAML::Emitter out;
  LayerWriter writer(storage_directory, layer);
  bool open = false;
  for (const auto &[name, connection] : connections) {
    if (const std::string why = refusal(name, connection, !storage_directory.empty());
        !why.empty()) {
      layer.refused.push_back("\"" + (printable(name, false) ? name : std::string("?")) +
                              "\": " + why);
      continue;
    }
    if (existing != nullptr && existing->count(name) == 0) {
      layer.missing.push_back(name);
      continue;
    }
    if (!open) {
      out << YAML::BeginMap << YAML::Key << "exporters" << YAML::Value << YAML::BeginMap;
      open = true;
    }
    out << YAML::Key << YAML::DoubleQuoted << name << YAML::Value << YAML::BeginMap;
    writer.write(out, name, connection);
    out << YAML::EndMap;
    layer.applied.push_back(name);
  }
  if (open) {
    out << YAML::EndMap << YAML::EndMap;
    layer.yaml = std::string(out.c_str()) + "\n";
  }
  return layer;
}

std::string pem_file_name(std::string_view name, std::string_view kind, std::string_view contents) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string escaped;
  for (char c : name) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) != 0 || c == '.' || c == '-') {
      escaped.push_back(c);
    } else {
      escaped.push_back('_');
      escaped.push_back(kDigits[byte >> 4]);
      escaped.push_back(kDigits[byte & 0xF]);
    }
  }
  if (escaped.size() > kMaxEscapedName) {
    // Too long for a file name: a prefix and the hash of the whole name.
    escaped.resize(kMaxEscapedName - 17);
    escaped.push_back('-');
    escaped.append(fnv1a_hex(name));
  }
  std::string file(kPemFilePrefix);
  file += escaped;
  file.push_back('_');
  file.append(kind);
  file.push_back('_');
  file.append(fnv1a_hex(contents));
  file.append(kPemFileSuffix);
  return file;
}

}  // namespace opsup::connection_settings
