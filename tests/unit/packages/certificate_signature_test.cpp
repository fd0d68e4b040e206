// Certificate-based signatures (the upstream format: base64 certificate + space + base64
// signature) with a test root, intermediate and Fulcio-style leaves made by OpenSSL.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/sha256.hpp"
#include "packages/signature.hpp"
#include "support/temp_dir.hpp"
#include "test_pki.hpp"

namespace opsup::packages {
namespace {

using opsup::testing::CertSpec;
using opsup::testing::encode_base64;
using opsup::testing::generate_key;
using opsup::testing::issue_certificate;
using opsup::testing::KeyType;
using opsup::testing::sign_blob;
using opsup::testing::TempDir;
using opsup::testing::TestKey;
using ::testing::HasSubstr;

constexpr const char *kGithubIssuer = "https://token.actions.githubusercontent.com";
constexpr const char *kReleasesRepo = "open-telemetry/opentelemetry-collector-releases";
constexpr const char *kWorkflowUri =
    "https://github.com/open-telemetry/opentelemetry-collector-releases/.github/workflows/"
    "base-release.yaml@refs/tags/v0.149.0";
constexpr long kDay = 24 * 3600;

CertSpec ca_spec(const std::string &name) {
  CertSpec spec;
  spec.common_name = name;
  spec.is_ca = true;
  spec.not_before_seconds = -365 * kDay;
  spec.not_after_seconds = 365 * kDay;
  return spec;
}

CertSpec leaf_spec() {
  CertSpec spec;
  spec.common_name = "";
  spec.issuer_v2 = kGithubIssuer;
  spec.san_uris = {kWorkflowUri};
  spec.workflow_repository_v1 = kReleasesRepo;
  return spec;
}

class CertificateSignature : public ::testing::Test {
 protected:
  const std::string content_ = "otelcol-contrib release tarball bytes";
  TempDir dir_;
  std::filesystem::path file_ = dir_.write_file("otelcol-contrib.tar.gz", content_);
  TestKey root_key_ = generate_key(KeyType::kP256);
  std::string root_ = issue_certificate(ca_spec("sigstore-test"), root_key_, root_key_);
  TestKey intermediate_key_ = generate_key(KeyType::kP256);
  std::string intermediate_ =
      issue_certificate(ca_spec("sigstore-intermediate"), intermediate_key_, root_key_, root_);
  TestKey leaf_key_ = generate_key(KeyType::kP256);

  std::string leaf(const CertSpec &spec = leaf_spec()) {
    return issue_certificate(spec, leaf_key_, intermediate_key_, intermediate_);
  }
  // The upstream field: base64(leaf PEM [+ chain PEM]) + " " + base64(signature).
  std::string signature_field(const std::string &certificate, const TestKey &signer,
                              std::string_view content) {
    return encode_base64(certificate) + " " + encode_base64(sign_blob(signer, content));
  }
  std::string valid_field() { return signature_field(leaf() + intermediate_, leaf_key_, content_); }

  SignaturePolicy policy() {
    SignaturePolicy policy;
    policy.trusted_roots_pem = root_;
    policy.identities = {
        SignerIdentity{kGithubIssuer, "", "",
                       "https://github\\.com/open-telemetry/opentelemetry-collector-releases/.*"}};
    policy.github_workflow_repository = kReleasesRepo;
    return policy;
  }
  SignatureResult verify(const SignaturePolicy &policy, const std::string &field) {
    return verify_file_signature(policy, file_, field);
  }
};

TEST_F(CertificateSignature, LeafWithItsChainInTheSignatureVerifies) {
  const std::string field = valid_field();
  const auto result = verify(policy(), field);
  EXPECT_EQ(result.status, SignatureStatus::kVerified) << result.reason;
  EXPECT_EQ(result.signer,
            std::string("subject \"") + kWorkflowUri + "\" (issuer \"" + kGithubIssuer + "\")");
  const auto by_digest = verify_digest_signature(policy(), common::sha256(content_), field);
  EXPECT_EQ(by_digest.status, SignatureStatus::kVerified) << by_digest.reason;
}

TEST_F(CertificateSignature, DerLeafWithTheIntermediateFromThePolicyVerifies) {
  auto with_intermediate = policy();
  with_intermediate.intermediates_pem = intermediate_;
  const std::string der = testing::pem_to_der_certificate(leaf());
  const auto result = verify(with_intermediate, signature_field(der, leaf_key_, content_));
  EXPECT_EQ(result.status, SignatureStatus::kVerified) << result.reason;
  // Without the intermediate the chain is incomplete.
  const auto missing = verify(policy(), signature_field(der, leaf_key_, content_));
  EXPECT_EQ(missing.status, SignatureStatus::kCertificateUntrusted);
  EXPECT_THAT(missing.reason, HasSubstr("does not chain to a configured root"));
}

TEST_F(CertificateSignature, DeprecatedIssuerExtensionEmailSubjectAndExactMatchVerify) {
  CertSpec spec;
  spec.issuer_v1 = "https://accounts.example.com";
  spec.san_emails = {"release@example.com"};
  const std::string cert = issue_certificate(spec, leaf_key_, root_key_, root_);
  SignaturePolicy exact;
  exact.trusted_roots_pem = root_;
  exact.identities = {
      SignerIdentity{"https://other.example.com", "", "x@example.com", ""},
      SignerIdentity{"https://accounts.example.com", "", "release@example.com", ""}};
  const auto result = verify(exact, signature_field(cert, leaf_key_, content_));
  EXPECT_EQ(result.status, SignatureStatus::kVerified) << result.reason;
  EXPECT_THAT(result.signer, HasSubstr("release@example.com"));
}

TEST_F(CertificateSignature, ExpiredShortLivedLeafIsJudgedAtItsIssuanceUnlessNowIsAsked) {
  CertSpec spec = leaf_spec();
  spec.not_before_seconds = -2 * kDay;
  spec.not_after_seconds = -2 * kDay + 600;
  const std::string field = signature_field(leaf(spec) + intermediate_, leaf_key_, content_);
  const auto at_issuance = verify(policy(), field);
  EXPECT_EQ(at_issuance.status, SignatureStatus::kVerified) << at_issuance.reason;

  auto now = policy();
  now.certificate_time = CertificateTime::kNow;
  const auto result = verify(now, field);
  EXPECT_EQ(result.status, SignatureStatus::kCertificateExpired);
  EXPECT_THAT(result.reason, HasSubstr("depth 0"));
}

TEST_F(CertificateSignature, LeafIssuedAfterItsCaExpiredIsRefused) {
  CertSpec expired_ca = ca_spec("expired-intermediate");
  expired_ca.not_before_seconds = -30 * kDay;
  expired_ca.not_after_seconds = -kDay;
  const std::string ca = issue_certificate(expired_ca, intermediate_key_, root_key_, root_);
  const std::string cert = issue_certificate(leaf_spec(), leaf_key_, intermediate_key_, ca);
  const auto result = verify(policy(), signature_field(cert + ca, leaf_key_, content_));
  EXPECT_EQ(result.status, SignatureStatus::kCertificateExpired);
  EXPECT_THAT(result.reason, HasSubstr("expired-intermediate"));
}

TEST_F(CertificateSignature, LeafNotValidYetIsRefused) {
  CertSpec spec = leaf_spec();
  spec.not_before_seconds = 3600;
  spec.not_after_seconds = 4200;
  const auto result =
      verify(policy(), signature_field(leaf(spec) + intermediate_, leaf_key_, content_));
  EXPECT_EQ(result.status, SignatureStatus::kCertificateNotYetValid);
  EXPECT_THAT(result.reason, HasSubstr("not valid yet"));
}

TEST_F(CertificateSignature, LeafFromAnotherRootOrSelfSignedIsRefused) {
  const TestKey other_key = generate_key(KeyType::kP256);
  // Same name as the trusted root, different key.
  const std::string other_root = issue_certificate(ca_spec("sigstore-test"), other_key, other_key);
  const std::string other_leaf = issue_certificate(leaf_spec(), leaf_key_, other_key, other_root);
  const auto result =
      verify(policy(), signature_field(other_leaf + other_root, leaf_key_, content_));
  EXPECT_EQ(result.status, SignatureStatus::kCertificateUntrusted);
  EXPECT_THAT(result.reason, HasSubstr("does not chain to a configured root"));

  const std::string self_signed = issue_certificate(leaf_spec(), leaf_key_, leaf_key_);
  EXPECT_EQ(verify(policy(), signature_field(self_signed, leaf_key_, content_)).status,
            SignatureStatus::kCertificateUntrusted);
}

TEST_F(CertificateSignature, LeafWithoutCodeSigningUsageIsRefused) {
  CertSpec spec = leaf_spec();
  spec.code_signing = false;
  const auto result =
      verify(policy(), signature_field(leaf(spec) + intermediate_, leaf_key_, content_));
  EXPECT_EQ(result.status, SignatureStatus::kCertificateUntrusted);
  EXPECT_THAT(result.reason, HasSubstr("codeSigning"));
}

TEST_F(CertificateSignature, WrongIssuerOrSubjectIsAnIdentityMismatch) {
  CertSpec wrong_issuer = leaf_spec();
  wrong_issuer.issuer_v2 = "https://evil.example.com";
  auto result =
      verify(policy(), signature_field(leaf(wrong_issuer) + intermediate_, leaf_key_, content_));
  EXPECT_EQ(result.status, SignatureStatus::kIdentityMismatch);
  EXPECT_THAT(result.reason, HasSubstr("https://evil.example.com"));
  EXPECT_THAT(result.reason, HasSubstr("none of the 1 configured identities"));

  CertSpec wrong_subject = leaf_spec();
  wrong_subject.san_uris = {
      "https://evil.example.com/?https://github.com/open-telemetry/"
      "opentelemetry-collector-releases/x"};
  result =
      verify(policy(), signature_field(leaf(wrong_subject) + intermediate_, leaf_key_, content_));
  EXPECT_EQ(result.status, SignatureStatus::kIdentityMismatch);  // regex is anchored

  CertSpec no_issuer = leaf_spec();
  no_issuer.issuer_v2.reset();
  result = verify(policy(), signature_field(leaf(no_issuer) + intermediate_, leaf_key_, content_));
  EXPECT_EQ(result.status, SignatureStatus::kIdentityMismatch);
  EXPECT_THAT(result.reason, HasSubstr("no OIDC issuer"));

  CertSpec no_subject = leaf_spec();
  no_subject.san_uris.clear();
  result = verify(policy(), signature_field(leaf(no_subject) + intermediate_, leaf_key_, content_));
  EXPECT_EQ(result.status, SignatureStatus::kIdentityMismatch);
  EXPECT_THAT(result.reason, HasSubstr("no subject"));
}

TEST_F(CertificateSignature, WorkflowRepositoryIsCheckedInEitherFulcioExtension) {
  CertSpec other_repo = leaf_spec();
  other_repo.workflow_repository_v1 = "evil/opentelemetry-collector-releases";
  auto result =
      verify(policy(), signature_field(leaf(other_repo) + intermediate_, leaf_key_, content_));
  EXPECT_EQ(result.status, SignatureStatus::kIdentityMismatch);
  EXPECT_THAT(result.reason, HasSubstr("evil/opentelemetry-collector-releases"));

  CertSpec uri_only = leaf_spec();
  uri_only.workflow_repository_v1.reset();
  uri_only.source_repository_uri = std::string("https://github.com/") + kReleasesRepo;
  result = verify(policy(), signature_field(leaf(uri_only) + intermediate_, leaf_key_, content_));
  EXPECT_EQ(result.status, SignatureStatus::kVerified) << result.reason;

  CertSpec neither = leaf_spec();
  neither.workflow_repository_v1.reset();
  result = verify(policy(), signature_field(leaf(neither) + intermediate_, leaf_key_, content_));
  EXPECT_EQ(result.status, SignatureStatus::kIdentityMismatch);
  auto unchecked = policy();
  unchecked.github_workflow_repository.clear();
  EXPECT_TRUE(verify(unchecked, signature_field(leaf(neither) + intermediate_, leaf_key_, content_))
                  .accepted());
}

TEST_F(CertificateSignature, SignatureByAnotherKeyOrOverATamperedFileIsRefused) {
  const TestKey other = generate_key(KeyType::kP256);
  auto result = verify(policy(), signature_field(leaf() + intermediate_, other, content_));
  EXPECT_EQ(result.status, SignatureStatus::kSignatureMismatch);
  EXPECT_THAT(result.reason, HasSubstr(kWorkflowUri));

  const std::string field = valid_field();
  const auto tampered = dir_.write_file("tampered.tar.gz", content_ + "x");
  result = verify_file_signature(policy(), tampered, field);
  EXPECT_EQ(result.status, SignatureStatus::kSignatureMismatch);
  EXPECT_TRUE(verify(policy(), field).accepted());  // control
}

TEST_F(CertificateSignature, GarbageTruncatedAndMisshapenFieldsAreRefused) {
  const std::string cert = encode_base64(leaf() + intermediate_);
  const std::string der = testing::pem_to_der_certificate(leaf());
  const std::string raw = sign_blob(leaf_key_, content_);
  const std::string signature = encode_base64(raw);
  struct Case {
    std::string field;
    SignatureStatus status;
    const char *reason;
  };
  const std::vector<Case> cases = {
      {"!!!! " + signature, SignatureStatus::kBadEncoding, "first field"},
      {cert + " ####", SignatureStatus::kBadEncoding, "second field"},
      {cert + "  " + signature, SignatureStatus::kBadEncoding, "one space"},
      {cert + " " + signature + " " + signature, SignatureStatus::kBadEncoding, "one space"},
      {encode_base64("garbage") + " " + signature, SignatureStatus::kMalformed, "neither"},
      {encode_base64(der.substr(0, der.size() / 2)) + " " + signature, SignatureStatus::kMalformed,
       "neither"},
      {encode_base64(der + "x") + " " + signature, SignatureStatus::kMalformed, "neither"},
      {cert + " " + encode_base64(raw.substr(0, raw.size() - 2)), SignatureStatus::kMalformed,
       "not a valid ECDSA P-256 signature"},
  };
  for (const Case &c : cases) {
    const auto result = verify(policy(), c.field);
    EXPECT_EQ(result.status, c.status) << c.field << ": " << result.reason;
    EXPECT_THAT(result.reason, HasSubstr(c.reason)) << c.field;
  }
}

TEST_F(CertificateSignature, MissingOrBrokenTrustConfigurationIsNamed) {
  const std::string field = valid_field();
  auto no_roots = policy();
  no_roots.trusted_roots_pem.clear();
  no_roots.public_keys_pem = {leaf_key_.public_pem};  // keys do not stand in for roots
  auto result = verify(no_roots, field);
  EXPECT_EQ(result.status, SignatureStatus::kNotConfigured);
  EXPECT_THAT(result.reason, HasSubstr("no trusted roots"));

  auto no_identities = policy();
  no_identities.identities.clear();
  result = verify(no_identities, field);
  EXPECT_EQ(result.status, SignatureStatus::kNotConfigured);
  EXPECT_THAT(result.reason, HasSubstr("no signer identities"));

  auto bad_regex = policy();
  bad_regex.identities[0].subject_regex = "([";
  result = verify(bad_regex, field);
  EXPECT_EQ(result.status, SignatureStatus::kInvalidPolicy);
  EXPECT_THAT(result.reason, HasSubstr("identity 1 has an invalid regex"));

  auto both = policy();
  both.identities[0].subject = kWorkflowUri;
  EXPECT_EQ(verify(both, field).status, SignatureStatus::kInvalidPolicy);

  auto broken_root = policy();
  broken_root.trusted_roots_pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
  EXPECT_EQ(verify(broken_root, field).status, SignatureStatus::kInvalidPolicy);

  auto not_pem = policy();
  not_pem.trusted_roots_pem = "not a certificate";
  result = verify(not_pem, field);
  EXPECT_EQ(result.status, SignatureStatus::kInvalidPolicy);
  EXPECT_THAT(result.reason, HasSubstr("trusted roots contain no PEM certificate"));
}

}  // namespace
}  // namespace opsup::packages
