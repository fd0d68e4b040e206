// opamp-server's CA signs agents' CSRs: the signature is checked, the subject and public key
// are copied into a clientAuth certificate the CA verifies, and a CSR naming another
// instance UID is refused.
#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "tls_selfsigned.hpp"

namespace opsup::opamp_server {
namespace {

constexpr const char *kUid = "0191a2b3-c4d5-7e6f-8091-a2b3c4d5e6f7";

using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using CertPtr = std::unique_ptr<X509, decltype(&X509_free)>;

std::string make_csr(EVP_PKEY *key, const std::string &common_name) {
  std::unique_ptr<X509_REQ, decltype(&X509_REQ_free)> request(X509_REQ_new(), X509_REQ_free);
  X509_NAME *name = X509_REQ_get_subject_name(request.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char *>(common_name.c_str()), -1, -1,
                             0);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char *>("opamp-supervisor"), -1, -1,
                             0);
  X509_REQ_set_pubkey(request.get(), key);
  X509_REQ_sign(request.get(), key, EVP_sha256());
  std::unique_ptr<BIO, decltype(&BIO_free_all)> bio(BIO_new(BIO_s_mem()), BIO_free_all);
  PEM_write_bio_X509_REQ(bio.get(), request.get());
  char *data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

CertPtr parse_cert(const std::string &pem) {
  std::unique_ptr<BIO, decltype(&BIO_free_all)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free_all);
  return {PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free};
}

std::string name_entry(X509_NAME *name, int nid) {
  char text[256] = "";
  X509_NAME_get_text_by_NID(name, nid, text, sizeof text);
  return text;
}

TEST(CertificateAuthority, SignsACsrIntoAClientCertificateItVerifies) {
  const CertificateAuthority ca = CertificateAuthority::generate("test CA");
  KeyPtr key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  const std::string cert_pem = ca.sign_certificate_request(make_csr(key.get(), kUid), kUid);
  CertPtr cert = parse_cert(cert_pem);
  CertPtr ca_cert = parse_cert(ca.ca_cert_pem());
  ASSERT_TRUE(cert && ca_cert);
  EXPECT_EQ(X509_verify(cert.get(), X509_get0_pubkey(ca_cert.get())), 1);
  EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);  // the agent's own key
  EXPECT_EQ(name_entry(X509_get_subject_name(cert.get()), NID_commonName), kUid);
  EXPECT_EQ(name_entry(X509_get_subject_name(cert.get()), NID_organizationName),
            "opamp-supervisor");
  EXPECT_EQ(X509_check_purpose(cert.get(), X509_PURPOSE_SSL_CLIENT, 0), 1);
  EXPECT_EQ(X509_check_ca(cert.get()), 0);
  // Valid from now on (give or take the clock), for a year.
  EXPECT_LT(X509_cmp_current_time(X509_get0_notBefore(cert.get())), 0);
  EXPECT_GT(X509_cmp_current_time(X509_get0_notAfter(cert.get())), 0);
  // Every certificate gets its own serial.
  CertPtr second = parse_cert(ca.sign_certificate_request(make_csr(key.get(), kUid), kUid));
  EXPECT_NE(
      ASN1_INTEGER_cmp(X509_get0_serialNumber(cert.get()), X509_get0_serialNumber(second.get())),
      0);
}

TEST(CertificateAuthority, RefusesACsrNamingAnotherInstanceUid) {
  const CertificateAuthority ca = CertificateAuthority::generate("test CA");
  KeyPtr key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  try {
    ca.sign_certificate_request(make_csr(key.get(), "01920000-0000-7000-8000-000000000042"), kUid);
    FAIL() << "signed";
  } catch (const std::invalid_argument &error) {
    EXPECT_NE(std::string(error.what()).find("01920000-0000-7000-8000-000000000042"),
              std::string::npos)
        << error.what();
  }
  // The same UID in upper case is the same UID; a CN that is no UUID is signed as it is.
  EXPECT_NO_THROW(ca.sign_certificate_request(
      make_csr(key.get(), "0191A2B3-C4D5-7E6F-8091-A2B3C4D5E6F7"), kUid));
  EXPECT_NO_THROW(ca.sign_certificate_request(make_csr(key.get(), "OpAMP Example Client"), kUid));
}

TEST(CertificateAuthority, RefusesAnythingButAValidlySignedCsr) {
  const CertificateAuthority ca = CertificateAuthority::generate("test CA");
  EXPECT_THROW(ca.sign_certificate_request("not a CSR"), std::invalid_argument);
  // A request whose signature was made by another key.
  KeyPtr key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  KeyPtr other(EVP_EC_gen("P-256"), EVP_PKEY_free);
  std::unique_ptr<X509_REQ, decltype(&X509_REQ_free)> request(X509_REQ_new(), X509_REQ_free);
  X509_REQ_set_pubkey(request.get(), key.get());
  X509_REQ_sign(request.get(), other.get(), EVP_sha256());
  std::unique_ptr<BIO, decltype(&BIO_free_all)> bio(BIO_new(BIO_s_mem()), BIO_free_all);
  PEM_write_bio_X509_REQ(bio.get(), request.get());
  char *data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  EXPECT_THROW(ca.sign_certificate_request(std::string(data, static_cast<std::size_t>(size))),
               std::invalid_argument);
}

}  // namespace
}  // namespace opsup::opamp_server
