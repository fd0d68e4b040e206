// A throwaway CA for the tests: signs a PEM CSR into a PEM client certificate (subject and
// public key copied), as opamp-server does, without linking the tool.
#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace opsup::connection_settings::testing {

class TestSigner {
 public:
  TestSigner() : key_(EVP_EC_gen("P-256"), EVP_PKEY_free) {
    if (!key_)
      throw std::runtime_error("EVP_EC_gen");
  }

  std::string sign(const std::string &csr_pem) const {
    std::unique_ptr<BIO, decltype(&BIO_free_all)> in(
        BIO_new_mem_buf(csr_pem.data(), static_cast<int>(csr_pem.size())), BIO_free_all);
    std::unique_ptr<X509_REQ, decltype(&X509_REQ_free)> request(
        PEM_read_bio_X509_REQ(in.get(), nullptr, nullptr, nullptr), X509_REQ_free);
    if (!request)
      throw std::runtime_error("not a CSR");
    std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), ++serial_);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
    X509_set_subject_name(cert.get(), X509_REQ_get_subject_name(request.get()));
    X509_NAME *issuer = X509_NAME_new();
    X509_NAME_add_entry_by_txt(issuer, "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char *>("test CA"), -1, -1, 0);
    X509_set_issuer_name(cert.get(), issuer);
    X509_NAME_free(issuer);
    X509_set_pubkey(cert.get(), X509_REQ_get0_pubkey(request.get()));
    if (X509_sign(cert.get(), key_.get(), EVP_sha256()) == 0)
      throw std::runtime_error("X509_sign");
    std::unique_ptr<BIO, decltype(&BIO_free_all)> out(BIO_new(BIO_s_mem()), BIO_free_all);
    PEM_write_bio_X509(out.get(), cert.get());
    char *data = nullptr;
    const long size = BIO_get_mem_data(out.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
  }

 private:
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key_;
  mutable long serial_ = 0;
};

}  // namespace opsup::connection_settings::testing
