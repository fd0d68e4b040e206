#include "session/connection_offer.hpp"

#include <strings.h>
#include <algorithm>
#include <stdexcept>

#include "opamp.pb.h"

namespace opsup::session {
namespace {

namespace proto = ::opamp::proto::v1;

bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

transport::HeaderList merged_headers(const SessionOptions &configured,
                                     const proto::OpAMPConnectionSettings &offer,
                                     std::vector<std::string> &notes) {
  transport::HeaderList headers = configured.headers;
  const std::optional<std::string> auth = auth_header_name(configured.auth);
  std::vector<std::string> replaced;
  for (const auto &offered : offer.headers().headers()) {
    if (offered.key().empty())
      throw std::invalid_argument("headers: a header without a name");
    if (auth && same_name(offered.key(), *auth)) {
      notes.push_back("the offered " + offered.key() +
                      " header is dropped: the configured server.auth extension sets it");
      continue;
    }
    // Replace the configured header(s) of that name once; later offered ones of the same
    // name are added beside the first (repeated headers are allowed).
    if (std::none_of(replaced.begin(), replaced.end(),
                     [&](const std::string &name) { return same_name(name, offered.key()); })) {
      const auto before = headers.size();
      std::erase_if(headers, [&](const transport::Header &header) {
        return same_name(header.name, offered.key());
      });
      if (headers.size() != before)
        notes.push_back("the offered " + offered.key() + " header replaces the configured one");
      replaced.push_back(offered.key());
    }
    headers.push_back({offered.key(), offered.value()});
  }
  return headers;
}

transport::ClientTlsSettings merged_tls(const SessionOptions &configured,
                                        const proto::OpAMPConnectionSettings &offer,
                                        std::vector<std::string> &notes) {
  transport::ClientTlsSettings tls = configured.tls;
  if (offer.has_certificate()) {
    const auto &certificate = offer.certificate();
    if (certificate.cert().empty() != certificate.private_key().empty()) {
      throw std::invalid_argument(
          "certificate: cert and private_key must be given together (a certificate issued for "
          "a CSR needs the key this agent made for it)");
    }
    if (!certificate.cert().empty()) {
      tls.cert_file.clear();
      tls.key_file.clear();
      tls.cert_pem = certificate.cert();
      tls.key_pem = certificate.private_key();
    }
  }
  // The CAs that verify the server: tls.ca_pem_contents and certificate.ca_cert, joined (as
  // the own_telemetry module and the Go supervisor read them); none offered keeps the
  // configured ones.
  std::string offered_ca = offer.tls().ca_pem_contents();
  if (!offer.certificate().ca_cert().empty()) {
    if (!offered_ca.empty() && offered_ca.back() != '\n')
      offered_ca += '\n';
    offered_ca += offer.certificate().ca_cert();
  }
  if (!offered_ca.empty()) {
    tls.ca_file.clear();
    tls.ca_pem = offered_ca;
    tls.include_system_ca_certs_pool = offer.tls().include_system_ca_certs_pool();
  }
  if (offer.has_tls()) {
    const auto &offered = offer.tls();
    if (offered_ca.empty() && offered.include_system_ca_certs_pool())
      tls.include_system_ca_certs_pool = true;
    if (offered.insecure_skip_verify() && !configured.tls.insecure_skip_verify) {
      throw std::invalid_argument(
          "tls.insecure_skip_verify: refused; the server's certificate is always verified "
          "unless server.tls.insecure_skip_verify is configured");
    }
    if (!offered.min_version().empty())
      tls.min_version = offered.min_version();
    if (!offered.max_version().empty())
      tls.max_version = offered.max_version();
    if (offered.cipher_suites_size() > 0)
      notes.push_back(
          "tls.cipher_suites is ignored (OpenSSL's defaults for the TLS version apply)");
  }
  return tls;
}

}  // namespace

std::optional<std::string> auth_header_name(const AuthSettings &auth) {
  if (const auto *bearer = std::get_if<BearerTokenAuth>(&auth))
    return bearer->header.empty() ? std::string("Authorization") : bearer->header;
  if (std::holds_alternative<BasicAuth>(auth) ||
      std::holds_alternative<OAuth2ClientCredentialsAuth>(auth))
    return std::string("Authorization");
  return std::nullopt;
}

ConnectionOffer read_connection_offer(std::string_view serialized_offer,
                                      const SessionOptions &configured,
                                      std::string_view current_endpoint) {
  proto::OpAMPConnectionSettings offer;
  if (!offer.ParseFromArray(serialized_offer.data(), static_cast<int>(serialized_offer.size())))
    throw std::invalid_argument("the OpAMPConnectionSettings do not parse");
  ConnectionOffer result;
  result.settings.endpoint = offer.destination_endpoint().empty() ? std::string(current_endpoint)
                                                                  : offer.destination_endpoint();
  result.settings.headers = merged_headers(configured, offer, result.notes);
  result.settings.tls = merged_tls(configured, offer, result.notes);
  result.settings.proxy = configured.proxy;
  if (offer.has_proxy() && !offer.proxy().url().empty()) {
    result.settings.proxy = transport::ProxySettings{offer.proxy().url(), {}};
    for (const auto &header : offer.proxy().connect_headers().headers()) {
      if (header.key().empty())
        throw std::invalid_argument("proxy.connect_headers: a header without a name");
      result.settings.proxy.connect_headers.push_back({header.key(), header.value()});
    }
  }
  result.heartbeat_interval =
      std::chrono::seconds(static_cast<int64_t>(offer.heartbeat_interval_seconds()));
  return result;
}

}  // namespace opsup::session
