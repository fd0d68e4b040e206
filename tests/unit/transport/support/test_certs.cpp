#include "test_certs.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <memory>
#include <stdexcept>

namespace opsup::testing {

namespace {

template <class T, void (*Free)(T *)>
struct Deleter {
  void operator()(T *pointer) const { Free(pointer); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using CertPtr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

void check(bool ok, const char *what) {
  if (!ok)
    throw std::runtime_error(std::string("test certificate generation failed: ") + what);
}

KeyPtr new_key() {
  KeyPtr key(EVP_EC_gen("P-256"));
  check(key != nullptr, "EVP_EC_gen");
  return key;
}

std::string bio_text(BIO *bio) {
  char *data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(length));
}

std::string cert_to_pem(X509 *cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_X509(bio.get(), cert) == 1, "PEM_write_bio_X509");
  return bio_text(bio.get());
}

std::string key_to_pem(EVP_PKEY *key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
        "PEM_write_bio_PrivateKey");
  return bio_text(bio.get());
}

CertPtr cert_from_pem(const std::string &pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  CertPtr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  check(cert != nullptr, "PEM_read_bio_X509");
  return cert;
}

KeyPtr key_from_pem(const std::string &pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  check(key != nullptr, "PEM_read_bio_PrivateKey");
  return key;
}

void add_extension(X509 *cert, X509V3_CTX *context, int nid, const std::string &value) {
  X509_EXTENSION *extension = X509V3_EXT_conf_nid(nullptr, context, nid, value.c_str());
  check(extension != nullptr, "X509V3_EXT_conf_nid");
  X509_add_ext(cert, extension, -1);
  X509_EXTENSION_free(extension);
}

// Builds and signs a certificate. `issuer`/`issuer_key` null means self-signed.
CertAndKey build(const std::string &common_name, bool is_ca, const CertRequest *leaf, X509 *issuer,
                 EVP_PKEY *issuer_key, int valid_days) {
  KeyPtr key = new_key();
  CertPtr cert(X509_new());
  check(cert != nullptr, "X509_new");
  X509_set_version(cert.get(), 2);
  unsigned char serial_bytes[16];
  RAND_bytes(serial_bytes, sizeof(serial_bytes));
  serial_bytes[0] &= 0x7f;
  BIGNUM *serial = BN_bin2bn(serial_bytes, sizeof(serial_bytes), nullptr);
  BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert.get()));
  BN_free(serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(valid_days) * 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME *name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char *>(common_name.c_str()), -1, -1,
                             0);
  X509 *issuer_cert = issuer != nullptr ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer_cert));

  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer_cert, cert.get(), nullptr, nullptr, 0);
  add_extension(cert.get(), &context, NID_subject_key_identifier, "hash");
  add_extension(cert.get(), &context, NID_authority_key_identifier, "keyid:always");
  if (is_ca) {
    add_extension(cert.get(), &context, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(cert.get(), &context, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_extension(cert.get(), &context, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(cert.get(), &context, NID_key_usage, "critical,digitalSignature");
    std::string usages;
    if (leaf->server_auth)
      usages = "serverAuth";
    if (leaf->client_auth)
      usages += usages.empty() ? "clientAuth" : ",clientAuth";
    if (!usages.empty())
      add_extension(cert.get(), &context, NID_ext_key_usage, usages);
    std::string names;
    for (const auto &dns : leaf->dns_names)
      names += (names.empty() ? "DNS:" : ",DNS:") + dns;
    for (const auto &ip : leaf->ip_addresses)
      names += (names.empty() ? "IP:" : ",IP:") + ip;
    if (!names.empty())
      add_extension(cert.get(), &context, NID_subject_alt_name, names);
  }
  EVP_PKEY *signing_key = issuer_key != nullptr ? issuer_key : key.get();
  check(X509_sign(cert.get(), signing_key, EVP_sha256()) > 0, "X509_sign");
  return CertAndKey{cert_to_pem(cert.get()), key_to_pem(key.get())};
}

}  // namespace

CertAndKey make_ca(const std::string &common_name) {
  return build(common_name, true, nullptr, nullptr, nullptr, 365);
}

CertAndKey issue_cert(const CertAndKey &ca, const CertRequest &request) {
  CertPtr ca_cert = cert_from_pem(ca.cert_pem);
  KeyPtr ca_key = key_from_pem(ca.key_pem);
  return build(request.common_name, false, &request, ca_cert.get(), ca_key.get(),
               request.valid_days);
}

CertAndKey make_self_signed(const CertRequest &request) {
  return build(request.common_name, false, &request, nullptr, nullptr, request.valid_days);
}

TestPki make_test_pki() {
  TestPki pki;
  pki.ca = make_ca();
  CertRequest server;
  server.common_name = "localhost";
  server.dns_names = {"localhost"};
  server.ip_addresses = {"127.0.0.1", "::1"};
  pki.server = issue_cert(pki.ca, server);
  CertRequest client;
  client.common_name = "opsup-test-client";
  client.server_auth = false;
  client.client_auth = true;
  pki.client = issue_cert(pki.ca, client);
  return pki;
}

std::string write_file(const std::filesystem::path &path, const std::string &contents) {
  if (path.has_parent_path())
    std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
  if (!out)
    throw std::runtime_error("cannot write " + path.string());
  return path.string();
}

}  // namespace opsup::testing
