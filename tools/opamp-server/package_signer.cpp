#include "package_signer.hpp"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <stdexcept>

#include "encoding.hpp"
#include "storage/atomic_file.hpp"

namespace opsup::opamp_server {

namespace {
template <typename T, void (*Free)(T *)>
struct Deleter {
  void operator()(T *pointer) const { Free(pointer); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using ContextPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;

std::string openssl_error() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0)
    return "unknown OpenSSL error";
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  return text;
}

std::string bio_text(BIO *bio) {
  char *data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(size));
}

bool is_p256(EVP_PKEY *key) {
  if (EVP_PKEY_base_id(key) != EVP_PKEY_EC)
    return false;
  char group[64] = {};
  std::size_t length = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                     &length) != 1)
    return false;
  return std::string_view(group, length) == "prime256v1";
}

std::string public_pem(EVP_PKEY *key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1)
    throw std::runtime_error("cannot encode the package signing public key: " + openssl_error());
  return bio_text(bio.get());
}
}  // namespace

struct PackageSigner::Key {
  KeyPtr key;
};

PackageSigner::PackageSigner(std::unique_ptr<Key> key)
    : key_(std::move(key)), public_key_pem_(public_pem(key_->key.get())) {}
PackageSigner::PackageSigner(PackageSigner &&) noexcept = default;
PackageSigner &PackageSigner::operator=(PackageSigner &&) noexcept = default;
PackageSigner::~PackageSigner() = default;

PackageSigner PackageSigner::load(const std::filesystem::path &private_key_pem_file) {
  const std::string name = private_key_pem_file.string();
  BioPtr bio(BIO_new_file(name.c_str(), "r"));
  if (!bio)
    throw std::runtime_error("cannot read package signing key " + name + ": " + openssl_error());
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    throw std::runtime_error("package signing key " + name +
                             " holds no PEM private key: " + openssl_error());
  }
  if (!is_p256(key.get())) {
    throw std::runtime_error("package signing key " + name +
                             " is not an ECDSA P-256 (prime256v1) key");
  }
  return PackageSigner(std::make_unique<Key>(Key{std::move(key)}));
}

PackageSigner PackageSigner::generate(const std::filesystem::path &write_to) {
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key)
    throw std::runtime_error("cannot generate a package signing key: " + openssl_error());
  if (!write_to.empty()) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio ||
        PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
      throw std::runtime_error("cannot encode the package signing key: " + openssl_error());
    storage::write_file_atomically(write_to, bio_text(bio.get()));
  }
  return PackageSigner(std::make_unique<Key>(Key{std::move(key)}));
}

std::string PackageSigner::sign_digest(std::string_view sha256) const {
  if (sha256.size() != 32)
    throw std::invalid_argument("package signing needs a 32-byte SHA-256");
  ContextPtr context(EVP_PKEY_CTX_new(key_->key.get(), nullptr));
  std::size_t size = 0;
  const auto *digest = reinterpret_cast<const unsigned char *>(sha256.data());
  if (!context || EVP_PKEY_sign_init(context.get()) != 1 ||
      EVP_PKEY_CTX_set_signature_md(context.get(), EVP_sha256()) != 1 ||
      EVP_PKEY_sign(context.get(), nullptr, &size, digest, sha256.size()) != 1)
    throw std::runtime_error("cannot sign a package: " + openssl_error());
  std::string der(size, '\0');
  if (EVP_PKEY_sign(context.get(), reinterpret_cast<unsigned char *>(der.data()), &size, digest,
                    sha256.size()) != 1)
    throw std::runtime_error("cannot sign a package: " + openssl_error());
  der.resize(size);
  return base64_encode(der);
}

}  // namespace opsup::opamp_server
