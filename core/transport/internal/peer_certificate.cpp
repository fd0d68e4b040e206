#include "transport/internal/peer_certificate.hpp"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/x509.h>

#include <ctime>
#include <memory>
#include <string>

namespace opsup::transport::internal {
namespace {

std::string name_text(const X509_NAME *name) {
  std::unique_ptr<BIO, decltype(&BIO_free_all)> bio(BIO_new(BIO_s_mem()), BIO_free_all);
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0)
    return "";
  char *data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

std::string serial_text(const ASN1_INTEGER *serial) {
  std::unique_ptr<BIGNUM, decltype(&BN_free)> number(ASN1_INTEGER_to_BN(serial, nullptr), BN_free);
  if (!number)
    return "";
  char *hex = BN_bn2hex(number.get());
  if (hex == nullptr)
    return "";
  std::string text(hex);
  OPENSSL_free(hex);
  return text;
}

std::string time_text(const ASN1_TIME *time) {
  std::tm parts{};
  if (ASN1_TIME_to_tm(time, &parts) != 1)
    return "";
  char text[32];
  if (std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts) == 0)
    return "";
  return text;
}

}  // namespace

std::optional<PeerCertificate> read_peer_certificate(SSL *ssl) {
  const X509 *cert = ssl == nullptr ? nullptr : SSL_get0_peer_certificate(ssl);
  if (cert == nullptr)
    return std::nullopt;
  PeerCertificate facts;
  facts.subject = name_text(X509_get_subject_name(cert));
  facts.issuer = name_text(X509_get_issuer_name(cert));
  facts.serial = serial_text(X509_get0_serialNumber(cert));
  facts.not_after = time_text(X509_get0_notAfter(cert));
  return facts;
}

}  // namespace opsup::transport::internal
