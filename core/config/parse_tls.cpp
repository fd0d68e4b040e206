// configtls client and server settings, checked like configtls Validate() plus the
// certificate/key pairing that configtls only finds when loading.
#include <array>
#include <tuple>

#include "config/internal/sections.hpp"

namespace opsup::config::internal {
namespace {

constexpr std::array<std::string_view, 4> kTlsVersions{"1.0", "1.1", "1.2", "1.3"};

int version_rank(std::string_view version) {
  for (std::size_t i = 0; i < kTlsVersions.size(); ++i) {
    if (kTlsVersions[i] == version)
      return static_cast<int>(i);
  }
  return -1;
}

template <typename Tls>
void read_common_tls(MapReader &section, Tls &tls) {
  section.read_string("ca_file", tls.ca_file);
  section.read_string("ca_pem", tls.ca_pem);
  section.read_bool("include_system_ca_certs_pool", tls.include_system_ca_certs_pool);
  section.read_string("cert_file", tls.cert_file);
  section.read_string("cert_pem", tls.cert_pem);
  section.read_string("key_file", tls.key_file);
  section.read_string("key_pem", tls.key_pem);
  section.read_string_list("cipher_suites", tls.cipher_suites);
  section.read_string_list("curve_preferences", tls.curve_preferences);
  section.read_duration("reload_interval", DurationRule::kNonNegative, tls.reload_interval);

  const bool min_ok = section.read_string("min_version", tls.min_version);
  const bool max_ok = section.read_string("max_version", tls.max_version);
  for (auto [key, value, read] : {std::tuple{"min_version", &tls.min_version, min_ok},
                                  std::tuple{"max_version", &tls.max_version, max_ok}}) {
    if (read && !value->empty() && version_rank(*value) < 0) {
      section.error(key,
                    "must be one of \"1.0\", \"1.1\", \"1.2\", \"1.3\", got \"" + *value + "\"");
      value->clear();
    }
  }
  if (!tls.min_version.empty() && !tls.max_version.empty() &&
      version_rank(tls.min_version) > version_rank(tls.max_version)) {
    section.error("max_version", "min_version " + tls.min_version +
                                     " cannot be greater than max_version " + tls.max_version);
  }

  if (!tls.ca_file.empty() && !tls.ca_pem.empty()) {
    section.error("ca_pem", "provide either ca_file or ca_pem, not both");
  }
  if (!tls.cert_file.empty() && !tls.cert_pem.empty()) {
    section.error("cert_pem", "provide either cert_file or cert_pem, not both");
  }
  if (!tls.key_file.empty() && !tls.key_pem.empty()) {
    section.error("key_pem", "provide either key_file or key_pem, not both");
  }
  const bool has_cert = !tls.cert_file.empty() || !tls.cert_pem.empty();
  const bool has_key = !tls.key_file.empty() || !tls.key_pem.empty();
  if (has_cert != has_key) {
    // Name the key that was written, so the line points at it.
    const char *written = has_cert ? (tls.cert_file.empty() ? "cert_pem" : "cert_file")
                                   : (tls.key_file.empty() ? "key_pem" : "key_file");
    section.error(written,
                  "provide both a certificate (cert_file or cert_pem) and a key (key_file or "
                  "key_pem), or neither");
  }
}

}  // namespace

void parse_client_tls(MapReader section, TlsClientConfig &tls) {
  read_common_tls(section, tls);
  section.read_bool("insecure", tls.insecure);
  section.read_bool("insecure_skip_verify", tls.insecure_skip_verify);
  section.read_string("server_name_override", tls.server_name_override);
  section.finish();
}

void parse_server_tls(MapReader section, TlsServerConfig &tls) {
  if (!section.is_mapping())
    return;  // already reported; one error is enough
  read_common_tls(section, tls);
  section.read_string("client_ca_file", tls.client_ca_file);
  section.read_bool("client_ca_file_reload", tls.client_ca_file_reload);
  if (tls.cert_file.empty() && tls.cert_pem.empty()) {
    section.section_error(
        "a server certificate is required: set cert_file or cert_pem "
        "(and key_file or key_pem)");
  }
  section.finish();
}

}  // namespace opsup::config::internal
