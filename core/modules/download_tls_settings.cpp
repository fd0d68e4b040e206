#include "modules/download_tls_settings.hpp"

#include "modules/settings_files.hpp"

#include <yaml-cpp/yaml.h>

#include <set>
#include <stdexcept>
#include <string>

namespace opsup::modules {
namespace {

const std::string kPrefix = "plugins.packages.tls.";

std::string read_pem(const std::string &key, const std::string &path) {
  std::string text = read_settings_file(key, path);
  if (text.find("-----BEGIN ") == std::string::npos)
    throw std::runtime_error(key + ": " + path + " holds no PEM block");
  return text;
}

}  // namespace

transport::ClientTlsSettings download_tls_from(std::string_view own_settings_yaml) {
  transport::ClientTlsSettings tls;
  YAML::Node root;
  try {
    root = YAML::Load(std::string(own_settings_yaml));
  } catch (const YAML::Exception &error) {
    throw std::runtime_error("plugins.packages: " + std::string(error.what()));
  }
  if (!root || root.IsNull() || !root.IsMap())
    return tls;
  const YAML::Node section = root["tls"];
  if (!section || section.IsNull())
    return tls;
  if (!section.IsMap())
    throw std::runtime_error("plugins.packages.tls: expected a map");
  static const std::set<std::string> kKnown{
      "ca_file",  "include_system_ca_certs_pool", "cert_file",
      "key_file", "server_name_override",         "min_version"};
  for (const auto &entry : section) {
    const std::string name = entry.first.Scalar();
    if (!kKnown.contains(name)) {
      throw std::runtime_error(
          kPrefix + name + ": unknown key (known: ca_file, include_system_ca_certs_pool, " +
          "cert_file, key_file, server_name_override, min_version; verification cannot be " +
          "turned off)");
    }
  }
  if (const YAML::Node ca = section["ca_file"]; ca && !ca.IsNull())
    tls.ca_pem = read_pem(kPrefix + "ca_file", settings_scalar(ca, kPrefix + "ca_file"));
  if (const YAML::Node pool = section["include_system_ca_certs_pool"]; pool && !pool.IsNull()) {
    try {
      tls.include_system_ca_certs_pool = pool.as<bool>();
    } catch (const YAML::Exception &) {
      throw std::runtime_error(kPrefix + "include_system_ca_certs_pool: expected true or false");
    }
  }
  const YAML::Node cert = section["cert_file"];
  const YAML::Node key = section["key_file"];
  const bool has_cert = cert && !cert.IsNull();
  const bool has_key = key && !key.IsNull();
  if (has_cert != has_key) {
    throw std::runtime_error(kPrefix + (has_cert ? "cert_file" : "key_file") +
                             ": give both cert_file and key_file, or neither");
  }
  if (has_cert) {
    tls.cert_pem = read_pem(kPrefix + "cert_file", settings_scalar(cert, kPrefix + "cert_file"));
    tls.key_pem = read_pem(kPrefix + "key_file", settings_scalar(key, kPrefix + "key_file"));
  }
  if (const YAML::Node name = section["server_name_override"]; name && !name.IsNull())
    tls.server_name_override = settings_scalar(name, kPrefix + "server_name_override");
  if (const YAML::Node version = section["min_version"]; version && !version.IsNull()) {
    tls.min_version = settings_scalar(version, kPrefix + "min_version");
    if (tls.min_version != "1.2" && tls.min_version != "1.3") {
      throw std::runtime_error(kPrefix + "min_version: must be \"1.2\" or \"1.3\", got \"" +
                               tls.min_version + "\"");
    }
  }
  return tls;
}

}  // namespace opsup::modules
