// The CSR's OpenSSL side: the key is P-256, the request names the instance UID and verifies
// against its own public key, and an issued certificate is recognised as the key's.
#include <gtest/gtest.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

#include "certificate_request.hpp"
#include "test_signer.hpp"

namespace opsup::connection_settings {
namespace {

constexpr const char *kUid = "0191a2b3-c4d5-7e6f-8091-a2b3c4d5e6f7";

std::unique_ptr<X509_REQ, decltype(&X509_REQ_free)> read_request(const std::string &pem) {
  std::unique_ptr<BIO, decltype(&BIO_free_all)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free_all);
  return {PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr), X509_REQ_free};
}

std::string name_entry(X509_NAME *name, int nid) {
  char text[256] = "";
  X509_NAME_get_text_by_NID(name, nid, text, sizeof text);
  return text;
}

TEST(CertificateRequest, TheKeyIsAnUnencryptedP256Key) {
  const std::string key_pem = generate_private_key_pem();
  EXPECT_NE(key_pem.find("-----BEGIN PRIVATE KEY-----"), std::string::npos);
  std::unique_ptr<BIO, decltype(&BIO_free_all)> bio(
      BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())), BIO_free_all);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  ASSERT_TRUE(key);
  EXPECT_TRUE(EVP_PKEY_is_a(key.get(), "EC"));
  char group[64] = "";
  size_t length = 0;
  ASSERT_EQ(EVP_PKEY_get_group_name(key.get(), group, sizeof group, &length), 1);
  EXPECT_STREQ(group, "prime256v1");
  EXPECT_NE(generate_private_key_pem(), key_pem);  // a new key every time
}

TEST(CertificateRequest, TheSubjectCarriesTheInstanceUidAndTheSignatureVerifies) {
  const std::string key_pem = generate_private_key_pem();
  const std::string csr = make_certificate_request(key_pem, kUid, "opamp-supervisor");
  EXPECT_EQ(csr.rfind("-----BEGIN CERTIFICATE REQUEST-----", 0), 0u);
  auto request = read_request(csr);
  ASSERT_TRUE(request);
  X509_NAME *subject = X509_REQ_get_subject_name(request.get());
  EXPECT_EQ(name_entry(subject, NID_commonName), kUid);
  EXPECT_EQ(name_entry(subject, NID_organizationName), "opamp-supervisor");
  EVP_PKEY *public_key = X509_REQ_get0_pubkey(request.get());
  ASSERT_NE(public_key, nullptr);
  EXPECT_EQ(X509_REQ_verify(request.get(), public_key), 1);
  // The private key never travels: the request holds no PRIVATE KEY block.
  EXPECT_EQ(csr.find("PRIVATE KEY"), std::string::npos);
}

TEST(CertificateRequest, AnIssuedCertificateMatchesOnlyItsOwnKey) {
  const std::string key_pem = generate_private_key_pem();
  testing::TestSigner signer;
  const std::string cert = signer.sign(make_certificate_request(key_pem, kUid, ""));
  EXPECT_TRUE(certificate_matches_key(cert, key_pem));
  EXPECT_FALSE(certificate_matches_key(cert, generate_private_key_pem()));
  EXPECT_FALSE(certificate_matches_key("not a certificate", key_pem));
  const std::string described = describe_certificate(cert);
  EXPECT_NE(described.find(std::string("CN=") + kUid), std::string::npos) << described;
  EXPECT_NE(described.find("serial 01"), std::string::npos) << described;
  EXPECT_NE(described.find("valid until"), std::string::npos) << described;
}

TEST(CertificateRequest, AKeyThatDoesNotParseIsAnErrorNamingIt) {
  try {
    make_certificate_request("garbage", kUid, "");
    FAIL() << "no error";
  } catch (const CertificateError &error) {
    EXPECT_NE(std::string(error.what()).find("private key"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace opsup::connection_settings
