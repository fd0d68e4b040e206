#include "tls_selfsigned.hpp"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cctype>
#include <stdexcept>

namespace opsup::opamp_server {

namespace {
constexpr long kValiditySeconds = 365L * 24 * 3600;

template <typename T, void (*Free)(T *)>
struct Deleter {
  void operator()(T *pointer) const { Free(pointer); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using CertPtr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using RequestPtr = std::unique_ptr<X509_REQ, Deleter<X509_REQ, X509_REQ_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

std::string openssl_error(const std::string &what) {
  unsigned long code = ERR_get_error();
  char text[256] = "unknown error";
  if (code != 0)
    ERR_error_string_n(code, text, sizeof text);
  ERR_clear_error();
  return what + ": " + text;
}

void check(int ok, const char *what) {
  if (ok != 1)
    throw std::runtime_error(openssl_error(what));
}

KeyPtr new_key() {
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key)
    throw std::runtime_error(openssl_error("generating an EC P-256 key"));
  return key;
}

std::string to_pem(X509 *cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_X509(bio.get(), cert), "writing a certificate as PEM");
  char *data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

std::string to_pem(EVP_PKEY *key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr),
        "writing a private key as PEM");
  char *data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

void add_extension(X509 *cert, X509 *issuer, int nid, const std::string &value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION *extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str());
  if (extension == nullptr)
    throw std::runtime_error(openssl_error("building extension " + value));
  X509_add_ext(cert, extension, -1);
  X509_EXTENSION_free(extension);
}

CertPtr new_certificate(X509_NAME *subject, EVP_PKEY *public_key, long validity_seconds) {
  CertPtr cert(X509_new());
  X509_set_version(cert.get(), 2);
  unsigned char serial_bytes[16];
  RAND_bytes(serial_bytes, sizeof serial_bytes);
  serial_bytes[0] &= 0x7f;  // positive
  BIGNUM *serial = BN_bin2bn(serial_bytes, sizeof serial_bytes, nullptr);
  BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert.get()));
  BN_free(serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), validity_seconds);
  X509_set_subject_name(cert.get(), subject);
  check(X509_set_pubkey(cert.get(), public_key), "setting a certificate's public key");
  return cert;
}

// 8-4-4-4-12 hex digits.
bool looks_like_uuid(const std::string &text) {
  if (text.size() != 36)
    return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? text[i] != '-' : std::isxdigit(static_cast<unsigned char>(text[i])) == 0)
      return false;
  }
  return true;
}

std::string lower(std::string text) {
  for (char &c : text)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

bool is_ip_address(const std::string &host) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}
}  // namespace

struct CertificateAuthority::Impl {
  KeyPtr key;
  CertPtr cert;
};

CertificateAuthority::CertificateAuthority(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CertificateAuthority::CertificateAuthority(CertificateAuthority &&) noexcept = default;
CertificateAuthority &CertificateAuthority::operator=(CertificateAuthority &&) noexcept = default;
CertificateAuthority::~CertificateAuthority() = default;

CertificateAuthority CertificateAuthority::generate(const std::string &common_name) {
  auto impl = std::make_unique<Impl>();
  impl->key = new_key();
  X509_NAME *name = X509_NAME_new();
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char *>(common_name.c_str()), -1, -1,
                             0);
  impl->cert = new_certificate(name, impl->key.get(), 10 * kValiditySeconds);
  X509_set_issuer_name(impl->cert.get(), name);
  X509_NAME_free(name);
  add_extension(impl->cert.get(), impl->cert.get(), NID_basic_constraints, "critical,CA:TRUE");
  add_extension(impl->cert.get(), impl->cert.get(), NID_key_usage,
                "critical,keyCertSign,cRLSign,digitalSignature");
  add_extension(impl->cert.get(), impl->cert.get(), NID_subject_key_identifier, "hash");
  if (X509_sign(impl->cert.get(), impl->key.get(), EVP_sha256()) == 0) {
    throw std::runtime_error(openssl_error("self-signing the CA certificate"));
  }
  return CertificateAuthority(std::move(impl));
}

std::string CertificateAuthority::ca_cert_pem() const {
  return to_pem(impl_->cert.get());
}

IssuedCertificate CertificateAuthority::issue_server_certificate(
    const std::vector<std::string> &hosts) const {
  KeyPtr key = new_key();
  X509_NAME *name = X509_NAME_new();
  std::string common_name = hosts.empty() ? "localhost" : hosts.front();
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char *>(common_name.c_str()), -1, -1,
                             0);
  CertPtr cert = new_certificate(name, key.get(), kValiditySeconds);
  X509_NAME_free(name);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(impl_->cert.get()));
  std::string alt_names;
  for (const auto &host : hosts) {
    if (!alt_names.empty())
      alt_names += ",";
    alt_names += (is_ip_address(host) ? "IP:" : "DNS:") + host;
  }
  if (!alt_names.empty()) {
    add_extension(cert.get(), impl_->cert.get(), NID_subject_alt_name, alt_names);
  }
  add_extension(cert.get(), impl_->cert.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_extension(cert.get(), impl_->cert.get(), NID_ext_key_usage, "serverAuth");
  add_extension(cert.get(), impl_->cert.get(), NID_authority_key_identifier, "keyid:always");
  if (X509_sign(cert.get(), impl_->key.get(), EVP_sha256()) == 0) {
    throw std::runtime_error(openssl_error("signing the server certificate"));
  }
  return {to_pem(cert.get()), to_pem(key.get())};
}

std::string CertificateAuthority::sign_certificate_request(const std::string &csr_pem,
                                                           const std::string &instance_uid) const {
  BioPtr bio(BIO_new_mem_buf(csr_pem.data(), static_cast<int>(csr_pem.size())));
  RequestPtr request(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  if (!request) {
    ERR_clear_error();
    throw std::invalid_argument("the CSR is not a PEM-encoded PKCS#10 certificate request");
  }
  EVP_PKEY *public_key = X509_REQ_get0_pubkey(request.get());
  if (public_key == nullptr || X509_REQ_verify(request.get(), public_key) != 1) {
    ERR_clear_error();
    throw std::invalid_argument("the CSR's signature does not verify against its public key");
  }
  char common_name[256] = "";
  X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(request.get()), NID_commonName, common_name,
                            sizeof common_name);
  if (!instance_uid.empty() && looks_like_uuid(common_name) &&
      lower(common_name) != lower(instance_uid)) {
    throw std::invalid_argument(std::string("the CSR names instance UID ") + common_name +
                                ", but the agent sending it is " + instance_uid);
  }
  CertPtr cert =
      new_certificate(X509_REQ_get_subject_name(request.get()), public_key, kValiditySeconds);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(impl_->cert.get()));
  add_extension(cert.get(), impl_->cert.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_extension(cert.get(), impl_->cert.get(), NID_ext_key_usage, "clientAuth");
  add_extension(cert.get(), impl_->cert.get(), NID_authority_key_identifier, "keyid:always");
  if (X509_sign(cert.get(), impl_->key.get(), EVP_sha256()) == 0) {
    throw std::runtime_error(openssl_error("signing the client certificate"));
  }
  return to_pem(cert.get());
}

}  // namespace opsup::opamp_server
