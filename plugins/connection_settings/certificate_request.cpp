#include "certificate_request.hpp"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

namespace opsup::connection_settings {
namespace {

template <typename T, void (*Free)(T *)>
struct Deleter {
  void operator()(T *pointer) const { Free(pointer); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using CertPtr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using RequestPtr = std::unique_ptr<X509_REQ, Deleter<X509_REQ, X509_REQ_free>>;
using NamePtr = std::unique_ptr<X509_NAME, Deleter<X509_NAME, X509_NAME_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

[[noreturn]] void fail(const std::string &what) {
  const unsigned long code = ERR_get_error();
  char text[256] = "unknown error";
  if (code != 0)
    ERR_error_string_n(code, text, sizeof text);
  ERR_clear_error();
  throw CertificateError(what + ": " + text);
}

BioPtr read_bio(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio)
    fail("allocating a memory BIO");
  return bio;
}

std::string bio_text(BIO *bio) {
  char *data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(size));
}

KeyPtr read_private_key(std::string_view pem) {
  BioPtr bio = read_bio(pem);
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key)
    fail("reading the client certificate's private key");
  return key;
}

CertPtr read_certificate(std::string_view pem) {
  BioPtr bio = read_bio(pem);
  CertPtr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert)
    fail("reading a PEM certificate");
  return cert;
}

void add_name_entry(X509_NAME *name, const char *field, std::string_view value) {
  const std::string text(value);
  if (X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char *>(text.c_str()), -1, -1,
                                 0) != 1) {
    fail(std::string("setting the request's ") + field);
  }
}

}  // namespace

std::string generate_private_key_pem() {
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key)
    fail("generating an EC P-256 key");
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    fail("writing the private key as PEM");
  }
  return bio_text(bio.get());
}

std::string make_certificate_request(std::string_view private_key_pem, std::string_view common_name,
                                     std::string_view organization) {
  KeyPtr key = read_private_key(private_key_pem);
  RequestPtr request(X509_REQ_new());
  NamePtr name(X509_NAME_new());
  if (!request || !name)
    fail("allocating a certificate request");
  add_name_entry(name.get(), "CN", common_name);
  if (!organization.empty())
    add_name_entry(name.get(), "O", organization);
  if (X509_REQ_set_version(request.get(), 0) != 1 ||
      X509_REQ_set_subject_name(request.get(), name.get()) != 1 ||
      X509_REQ_set_pubkey(request.get(), key.get()) != 1) {
    fail("filling in the certificate request");
  }
  if (X509_REQ_sign(request.get(), key.get(), EVP_sha256()) <= 0)
    fail("signing the certificate request");
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509_REQ(bio.get(), request.get()) != 1)
    fail("writing the certificate request as PEM");
  return bio_text(bio.get());
}

bool certificate_matches_key(std::string_view cert_pem, std::string_view private_key_pem) {
  try {
    CertPtr cert = read_certificate(cert_pem);
    KeyPtr key = read_private_key(private_key_pem);
    const bool matches = X509_check_private_key(cert.get(), key.get()) == 1;
    ERR_clear_error();
    return matches;
  } catch (const CertificateError &) {
    return false;
  }
}

std::string describe_certificate(std::string_view cert_pem) {
  CertPtr cert;
  try {
    cert = read_certificate(cert_pem);
  } catch (const CertificateError &error) {
    return std::string("a certificate that does not parse (") + error.what() + ")";
  }
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio)
    return "a certificate";
  BIO_puts(bio.get(), "subject ");
  X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert.get()), 0, XN_FLAG_RFC2253);
  BIO_puts(bio.get(), ", serial ");
  if (BIGNUM *serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert.get()), nullptr)) {
    if (char *hex = BN_bn2hex(serial)) {
      BIO_puts(bio.get(), hex);
      OPENSSL_free(hex);
    }
    BN_free(serial);
  }
  BIO_puts(bio.get(), ", valid until ");
  ASN1_TIME_print(bio.get(), X509_get0_notAfter(cert.get()));
  return bio_text(bio.get());
}

}  // namespace opsup::connection_settings
