#include "pem_check.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

namespace opsup::connection_settings {
namespace {

struct BioFree {
  void operator()(BIO *bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509 *cert) const { X509_free(cert); }
};
struct KeyFree {
  void operator()(EVP_PKEY *key) const { EVP_PKEY_free(key); }
};
using Bio = std::unique_ptr<BIO, BioFree>;
using Cert = std::unique_ptr<X509, X509Free>;
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;

Bio memory_bio(std::string_view pem) {
  return Bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// The certificates in `pem`, in order; stops at the first block that is not one.
size_t count_certificates(std::string_view pem, Cert *first) {
  Bio bio = memory_bio(pem);
  size_t count = 0;
  while (bio) {
    Cert cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert)
      break;
    if (count == 0 && first != nullptr)
      *first = std::move(cert);
    ++count;
  }
  ERR_clear_error();  // the end of the input reads as an error
  return count;
}

}  // namespace

std::string certificates_problem(std::string_view pem) {
  if (count_certificates(pem, nullptr) == 0)
    return "holds no PEM certificate";
  return {};
}

std::string key_pair_problem(std::string_view cert_pem, std::string_view key_pem) {
  Cert cert;
  if (count_certificates(cert_pem, &cert) == 0)
    return "certificate.cert holds no PEM certificate";
  Bio bio = memory_bio(key_pem);
  // No passphrase callback: an encrypted key is refused, not prompted for.
  Key key(bio ? PEM_read_bio_PrivateKey(
                    bio.get(), nullptr, [](char *, int, int, void *) { return 0; }, nullptr)
              : nullptr);
  ERR_clear_error();
  if (!key)
    return "certificate.private_key holds no unencrypted PEM private key";
  const int matches = X509_check_private_key(cert.get(), key.get());
  ERR_clear_error();
  if (matches != 1)
    return "certificate.private_key is not the key of certificate.cert";
  return {};
}

}  // namespace opsup::connection_settings
