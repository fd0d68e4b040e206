#include "test_pki.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>

#include "common/sha256.hpp"

namespace opsup::testing {
namespace {

struct Free {
  void operator()(EVP_PKEY *p) const { EVP_PKEY_free(p); }
  void operator()(BIO *p) const { BIO_free(p); }
  void operator()(X509 *p) const { X509_free(p); }
  void operator()(EVP_PKEY_CTX *p) const { EVP_PKEY_CTX_free(p); }
  void operator()(EVP_MD_CTX *p) const { EVP_MD_CTX_free(p); }
};
template <typename T>
using Ptr = std::unique_ptr<T, Free>;

void require(bool ok, const char *what) {
  if (!ok)
    throw std::runtime_error(std::string("test PKI: ") + what);
}

std::string bio_text(BIO *bio) {
  char *data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(length));
}

Ptr<EVP_PKEY> private_key(const TestKey &key) {
  Ptr<BIO> bio(BIO_new_mem_buf(key.private_pem.data(), static_cast<int>(key.private_pem.size())));
  Ptr<EVP_PKEY> pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  require(pkey != nullptr, "read private key");
  return pkey;
}

Ptr<X509> read_cert(const std::string &pem) {
  Ptr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Ptr<X509> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  require(cert != nullptr, "read certificate");
  return cert;
}

void add_conf_extension(X509 *cert, X509 *issuer, int nid, const std::string &value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION *ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  require(ext != nullptr, "make extension");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

void add_raw_extension(X509 *cert, const char *oid, const std::string &raw) {
  ASN1_OBJECT *object = OBJ_txt2obj(oid, 1);
  ASN1_OCTET_STRING *data = ASN1_OCTET_STRING_new();
  ASN1_OCTET_STRING_set(data, reinterpret_cast<const unsigned char *>(raw.data()),
                        static_cast<int>(raw.size()));
  X509_EXTENSION *ext = X509_EXTENSION_create_by_OBJ(nullptr, object, 0, data);
  require(ext != nullptr, "make raw extension");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  ASN1_OCTET_STRING_free(data);
  ASN1_OBJECT_free(object);
}

void add_utf8_extension(X509 *cert, const char *oid, const std::string &text) {
  ASN1_UTF8STRING *utf8 = ASN1_UTF8STRING_new();
  ASN1_STRING_set(utf8, text.data(), static_cast<int>(text.size()));
  unsigned char *der = nullptr;
  const int length = i2d_ASN1_UTF8STRING(utf8, &der);
  add_raw_extension(cert, oid,
                    std::string(reinterpret_cast<char *>(der), static_cast<std::size_t>(length)));
  OPENSSL_free(der);
  ASN1_UTF8STRING_free(utf8);
}

}  // namespace

TestKey generate_key(KeyType type) {
  Ptr<EVP_PKEY> pkey;
  switch (type) {
    case KeyType::kP256:
      pkey.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
      break;
    case KeyType::kP384:
      pkey.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
      break;
    case KeyType::kEd25519:
      pkey.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
      break;
    case KeyType::kRsa:
      pkey.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048}));
      break;
  }
  require(pkey != nullptr, "generate key");
  Ptr<BIO> priv(BIO_new(BIO_s_mem()));
  Ptr<BIO> pub(BIO_new(BIO_s_mem()));
  require(
      PEM_write_bio_PrivateKey(priv.get(), pkey.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1,
      "write private key");
  require(PEM_write_bio_PUBKEY(pub.get(), pkey.get()) == 1, "write public key");
  return TestKey{bio_text(priv.get()), bio_text(pub.get())};
}

std::string sign_blob(const TestKey &key, std::string_view content) {
  Ptr<EVP_PKEY> pkey = private_key(key);
  if (EVP_PKEY_get_base_id(pkey.get()) == EVP_PKEY_ED25519) {
    Ptr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
    require(EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) == 1, "init");
    std::size_t length = 64;
    std::string signature(length, '\0');
    require(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char *>(signature.data()), &length,
                           reinterpret_cast<const unsigned char *>(content.data()),
                           content.size()) == 1,
            "sign Ed25519");
    signature.resize(length);
    return signature;
  }
  const std::string digest = common::sha256(content);
  Ptr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new(pkey.get(), nullptr));
  require(EVP_PKEY_sign_init(ctx.get()) == 1, "sign init");
  require(EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) == 1, "sign md");
  std::size_t length = 0;
  const auto *digest_bytes = reinterpret_cast<const unsigned char *>(digest.data());
  require(EVP_PKEY_sign(ctx.get(), nullptr, &length, digest_bytes, digest.size()) == 1, "size");
  std::string signature(length, '\0');
  require(EVP_PKEY_sign(ctx.get(), reinterpret_cast<unsigned char *>(signature.data()), &length,
                        digest_bytes, digest.size()) == 1,
          "sign");
  signature.resize(length);
  return signature;
}

std::string issue_certificate(const CertSpec &spec, const TestKey &subject_key,
                              const TestKey &issuer_key, const std::string &issuer_pem) {
  static long serial = 1;
  Ptr<EVP_PKEY> subject_pkey = private_key(subject_key);
  Ptr<EVP_PKEY> issuer_pkey = private_key(issuer_key);
  Ptr<X509> cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), ++serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), spec.not_before_seconds);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), spec.not_after_seconds);
  X509_set_pubkey(cert.get(), subject_pkey.get());
  X509_NAME *name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char *>(spec.common_name.c_str()), -1,
                             -1, 0);
  Ptr<X509> issuer = issuer_pem.empty() ? nullptr : read_cert(issuer_pem);
  X509 *issuer_cert = issuer ? issuer.get() : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer_cert));

  if (spec.is_ca) {
    add_conf_extension(cert.get(), issuer_cert, NID_basic_constraints, "critical,CA:TRUE");
    add_conf_extension(cert.get(), issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_conf_extension(cert.get(), issuer_cert, NID_key_usage, "critical,digitalSignature");
    if (spec.code_signing)
      add_conf_extension(cert.get(), issuer_cert, NID_ext_key_usage, "codeSigning");
  }
  add_conf_extension(cert.get(), issuer_cert, NID_subject_key_identifier, "hash");
  if (issuer)
    add_conf_extension(cert.get(), issuer_cert, NID_authority_key_identifier, "keyid:always");
  std::string san;
  for (const auto &uri : spec.san_uris)
    san += (san.empty() ? "URI:" : ",URI:") + uri;
  for (const auto &email : spec.san_emails)
    san += (san.empty() ? "email:" : ",email:") + email;
  if (!san.empty())
    add_conf_extension(cert.get(), issuer_cert, NID_subject_alt_name, "critical," + san);
  if (spec.issuer_v1)
    add_raw_extension(cert.get(), "1.3.6.1.4.1.57264.1.1", *spec.issuer_v1);
  if (spec.workflow_repository_v1)
    add_raw_extension(cert.get(), "1.3.6.1.4.1.57264.1.5", *spec.workflow_repository_v1);
  if (spec.issuer_v2)
    add_utf8_extension(cert.get(), "1.3.6.1.4.1.57264.1.8", *spec.issuer_v2);
  if (spec.source_repository_uri)
    add_utf8_extension(cert.get(), "1.3.6.1.4.1.57264.1.12", *spec.source_repository_uri);

  const bool ed25519 = EVP_PKEY_get_base_id(issuer_pkey.get()) == EVP_PKEY_ED25519;
  require(X509_sign(cert.get(), issuer_pkey.get(), ed25519 ? nullptr : EVP_sha256()) > 0,
          "sign certificate");
  Ptr<BIO> out(BIO_new(BIO_s_mem()));
  require(PEM_write_bio_X509(out.get(), cert.get()) == 1, "write certificate");
  return bio_text(out.get());
}

std::string pem_to_der_certificate(const std::string &pem) {
  Ptr<X509> cert = read_cert(pem);
  unsigned char *der = nullptr;
  const int length = i2d_X509(cert.get(), &der);
  require(length > 0, "encode certificate");
  std::string result(reinterpret_cast<char *>(der), static_cast<std::size_t>(length));
  OPENSSL_free(der);
  return result;
}

std::string encode_base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char *>(out.data()),
                                     reinterpret_cast<const unsigned char *>(bytes.data()),
                                     static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(length));
  return out;
}

}  // namespace opsup::testing
