#include "packages/public_key.hpp"

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

namespace opsup::packages {
namespace {

// Leaves this thread's OpenSSL error queue empty, so a failed check cannot confuse a later
// TLS operation on the same thread.
struct ClearOpensslErrors {
  ~ClearOpensslErrors() { ERR_clear_error(); }
};

struct PkeyFree {
  void operator()(EVP_PKEY *key) const { EVP_PKEY_free(key); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX *ctx) const { EVP_PKEY_CTX_free(ctx); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX *ctx) const { EVP_MD_CTX_free(ctx); }
};
struct BioFree {
  void operator()(BIO *bio) const { BIO_free(bio); }
};
struct EcdsaSigFree {
  void operator()(ECDSA_SIG *sig) const { ECDSA_SIG_free(sig); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

const unsigned char *bytes(std::string_view text) {
  return reinterpret_cast<const unsigned char *>(text.data());
}

// A strict DER ECDSA-Sig-Value: parses and re-encodes to the same bytes.
bool is_der_ecdsa_signature(std::string_view signature) {
  const unsigned char *cursor = bytes(signature);
  std::unique_ptr<ECDSA_SIG, EcdsaSigFree> parsed(
      d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(signature.size())));
  if (!parsed || cursor != bytes(signature) + signature.size())
    return false;
  unsigned char *encoded = nullptr;
  const int length = i2d_ECDSA_SIG(parsed.get(), &encoded);
  const bool same = length == static_cast<int>(signature.size()) &&
                    std::string_view(reinterpret_cast<char *>(encoded),
                                     static_cast<std::size_t>(length)) == signature;
  OPENSSL_free(encoded);
  return same;
}

KeyVerdict check_ecdsa_p256(EVP_PKEY *key, const SignedData &data, std::string_view signature) {
  if (!is_der_ecdsa_signature(signature))
    return KeyVerdict::kMalformedSignature;
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(EVP_PKEY_CTX_new(key, nullptr));
  if (!ctx || EVP_PKEY_verify_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) != 1) {
    return KeyVerdict::kMismatch;
  }
  const int result = EVP_PKEY_verify(ctx.get(), bytes(signature), signature.size(),
                                     bytes(data.sha256), data.sha256.size());
  return result == 1 ? KeyVerdict::kMatch : KeyVerdict::kMismatch;
}

KeyVerdict check_ed25519(EVP_PKEY *key, const SignedData &data, std::string_view signature) {
  if (signature.size() != 64)
    return KeyVerdict::kMalformedSignature;
  if (!data.content)
    return KeyVerdict::kNeedsContent;
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key) != 1)
    return KeyVerdict::kMismatch;
  const int result = EVP_DigestVerify(ctx.get(), bytes(signature), signature.size(),
                                      bytes(*data.content), data.content->size());
  return result == 1 ? KeyVerdict::kMatch : KeyVerdict::kMismatch;
}

std::string ec_curve_name(EVP_PKEY *key) {
  char name[64] = {};
  std::size_t length = 0;
  if (EVP_PKEY_get_utf8_string_param(key, "group", name, sizeof(name), &length) != 1)
    return "";
  return std::string(name, length);
}

}  // namespace

std::optional<KeyCheck> check_signature(std::string_view spki_der, const SignedData &data,
                                        std::string_view signature) {
  const ClearOpensslErrors clear_errors;
  const unsigned char *cursor = bytes(spki_der);
  Pkey key(d2i_PUBKEY(nullptr, &cursor, static_cast<long>(spki_der.size())));
  if (!key)
    return std::nullopt;
  KeyCheck check;
  const int id = EVP_PKEY_get_base_id(key.get());
  if (id == EVP_PKEY_ED25519) {
    check.key_kind = "Ed25519";
    check.verdict = check_ed25519(key.get(), data, signature);
  } else if (id == EVP_PKEY_EC) {
    const std::string curve = ec_curve_name(key.get());
    check.key_kind = "ECDSA " + (curve == "prime256v1" ? std::string("P-256") : curve);
    check.verdict = curve == "prime256v1" ? check_ecdsa_p256(key.get(), data, signature)
                                          : KeyVerdict::kUnsupportedKey;
  } else {
    const char *name = EVP_PKEY_get0_type_name(key.get());
    check.key_kind = name ? name : "unknown key type";
    check.verdict = KeyVerdict::kUnsupportedKey;
  }
  return check;
}

std::optional<std::string> public_key_der_from_pem(std::string_view pem) {
  const ClearOpensslErrors clear_errors;
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio)
    return std::nullopt;
  Pkey key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key)
    return std::nullopt;
  unsigned char *der = nullptr;
  const int length = i2d_PUBKEY(key.get(), &der);
  if (length <= 0)
    return std::nullopt;
  std::string result(reinterpret_cast<char *>(der), static_cast<std::size_t>(length));
  OPENSSL_free(der);
  return result;
}

}  // namespace opsup::packages
