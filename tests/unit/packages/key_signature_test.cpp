// Key-based signatures (`cosign sign-blob --key` output) over real files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/err.h>

#include "common/sha256.hpp"
#include "packages/signature.hpp"
#include "support/temp_dir.hpp"
#include "test_pki.hpp"

namespace opsup::packages {
namespace {

using opsup::testing::encode_base64;
using opsup::testing::generate_key;
using opsup::testing::KeyType;
using opsup::testing::sign_blob;
using opsup::testing::TempDir;
using ::testing::HasSubstr;

class KeySignature : public ::testing::Test {
 protected:
  const std::string content_ = std::string(
      "\x7f"
      "ELF collector build 1\0\x01\x02",
      26);
  TempDir dir_;
  std::filesystem::path file_ = dir_.write_file("otelcol-contrib.tar.gz", content_);
  testing::TestKey p256_ = generate_key(KeyType::kP256);
  testing::TestKey ed25519_ = generate_key(KeyType::kEd25519);

  SignaturePolicy policy_with(std::vector<std::string> keys) {
    SignaturePolicy policy;
    policy.public_keys_pem = std::move(keys);
    return policy;
  }
  std::string signature_by(const testing::TestKey &key, std::string_view content) {
    return encode_base64(sign_blob(key, content));
  }
};

TEST_F(KeySignature, EcdsaP256SignatureOverTheFileVerifies) {
  const auto policy = policy_with({p256_.public_pem});
  const std::string signature = signature_by(p256_, content_);
  const auto result = verify_file_signature(policy, file_, signature + "\n");
  EXPECT_EQ(result.status, SignatureStatus::kVerified) << result.reason;
  EXPECT_TRUE(result.accepted());
  EXPECT_EQ(result.signer, "public key 1 (ECDSA P-256)");

  const auto by_digest = verify_digest_signature(policy, common::sha256(content_), signature);
  EXPECT_EQ(by_digest.status, SignatureStatus::kVerified) << by_digest.reason;
}

TEST_F(KeySignature, Ed25519SignatureOverTheFileVerifiesButNotFromTheDigestAlone) {
  const auto policy = policy_with({ed25519_.public_pem});
  const std::string signature = signature_by(ed25519_, content_);
  const auto result = verify_file_signature(policy, file_, signature);
  EXPECT_EQ(result.status, SignatureStatus::kVerified) << result.reason;
  EXPECT_EQ(result.signer, "public key 1 (Ed25519)");

  const auto by_digest = verify_digest_signature(policy, common::sha256(content_), signature);
  EXPECT_EQ(by_digest.status, SignatureStatus::kSignatureMismatch);
  EXPECT_THAT(by_digest.reason, HasSubstr("Ed25519 keys need the file"));
}

TEST_F(KeySignature, TheSecondOfSeveralKeysVerifies) {
  const auto other = generate_key(KeyType::kP256);
  const auto policy = policy_with({other.public_pem, ed25519_.public_pem, p256_.public_pem});
  const auto result = verify_file_signature(policy, file_, signature_by(p256_, content_));
  EXPECT_EQ(result.status, SignatureStatus::kVerified) << result.reason;
  EXPECT_EQ(result.signer, "public key 3 (ECDSA P-256)");
}

TEST_F(KeySignature, ASignatureByAnotherKeyIsRefused) {
  const auto other_p256 = generate_key(KeyType::kP256);
  const auto other_ed = generate_key(KeyType::kEd25519);
  const auto policy = policy_with({p256_.public_pem, ed25519_.public_pem});
  for (const auto *key : {&other_p256, &other_ed}) {
    const auto result = verify_file_signature(policy, file_, signature_by(*key, content_));
    EXPECT_EQ(result.status, SignatureStatus::kSignatureMismatch);
    EXPECT_FALSE(result.accepted());
    EXPECT_THAT(result.reason, HasSubstr("any of the 2 configured public keys"));
  }
}

TEST_F(KeySignature, ATamperedFileIsRefused) {
  const auto policy = policy_with({p256_.public_pem, ed25519_.public_pem});
  const std::string p256_signature = signature_by(p256_, content_);
  const std::string ed_signature = signature_by(ed25519_, content_);
  std::string tampered = content_;
  tampered[5] ^= 1;
  const auto file = dir_.write_file("tampered.tar.gz", tampered);
  EXPECT_EQ(verify_file_signature(policy, file, p256_signature).status,
            SignatureStatus::kSignatureMismatch);
  EXPECT_EQ(verify_file_signature(policy, file, ed_signature).status,
            SignatureStatus::kSignatureMismatch);
  // Control: the same signatures verify the original file.
  EXPECT_TRUE(verify_file_signature(policy, file_, p256_signature).accepted());
  EXPECT_TRUE(verify_file_signature(policy, file_, ed_signature).accepted());
}

TEST_F(KeySignature, UnsignedIsRefusedUnlessAllowed) {
  auto policy = policy_with({p256_.public_pem});
  for (const char *empty : {"", " \n"}) {
    const auto result = verify_file_signature(policy, file_, empty);
    EXPECT_EQ(result.status, SignatureStatus::kUnsigned);
    EXPECT_FALSE(result.accepted());
    EXPECT_THAT(result.reason, HasSubstr("not signed"));
  }
  policy.allow_unsigned = true;
  const auto allowed = verify_file_signature(policy, file_, "");
  EXPECT_EQ(allowed.status, SignatureStatus::kUnsignedAllowed);
  EXPECT_TRUE(allowed.accepted());
  // A signature that is present is still checked when unsigned ones are allowed.
  EXPECT_EQ(verify_file_signature(policy, file_, signature_by(p256_, "other")).status,
            SignatureStatus::kSignatureMismatch);
}

TEST_F(KeySignature, GarbageAndTruncatedSignaturesAreRefusedWithTheReason) {
  const auto policy = policy_with({p256_.public_pem, ed25519_.public_pem});
  const std::string raw = sign_blob(p256_, content_);

  const auto not_base64 = verify_file_signature(policy, file_, "not*base64");
  EXPECT_EQ(not_base64.status, SignatureStatus::kBadEncoding);
  EXPECT_THAT(not_base64.reason, HasSubstr("not valid base64"));

  const std::string full = encode_base64(raw);
  EXPECT_EQ(verify_file_signature(policy, file_, full.substr(0, full.size() - 4)).status,
            SignatureStatus::kMalformed)  // still base64, of a cut DER signature
      << "truncated base64 text";
  const auto truncated =
      verify_file_signature(policy, file_, encode_base64(raw.substr(0, raw.size() - 3)));
  EXPECT_EQ(truncated.status, SignatureStatus::kMalformed);
  EXPECT_THAT(truncated.reason, HasSubstr("not a valid"));

  const auto garbage = verify_file_signature(policy, file_, encode_base64("garbage!"));
  EXPECT_EQ(garbage.status, SignatureStatus::kMalformed) << garbage.reason;
}

TEST_F(KeySignature, ConfigurationProblemsAreNamed) {
  const std::string signature = signature_by(p256_, content_);
  const auto none = verify_file_signature(policy_with({}), file_, signature);
  EXPECT_EQ(none.status, SignatureStatus::kNotConfigured);
  EXPECT_THAT(none.reason, HasSubstr("no public keys"));

  const auto not_pem = verify_file_signature(policy_with({"not a key"}), file_, signature);
  EXPECT_EQ(not_pem.status, SignatureStatus::kInvalidPolicy);
  EXPECT_THAT(not_pem.reason, HasSubstr("public key 1 is not a PEM PUBLIC KEY"));
  // Refusals leave no OpenSSL error behind for a later TLS operation on this thread.
  EXPECT_EQ(ERR_peek_error(), 0u);

  for (const auto type : {KeyType::kRsa, KeyType::kP384}) {
    const auto key = generate_key(type);
    const auto result =
        verify_file_signature(policy_with({key.public_pem}), file_, signature_by(key, content_));
    EXPECT_EQ(result.status, SignatureStatus::kInvalidPolicy);
    EXPECT_THAT(result.reason, HasSubstr("only ECDSA P-256 and Ed25519"));
  }
}

TEST_F(KeySignature, AnUnreadableFileOrABadDigestIsNamed) {
  const auto policy = policy_with({p256_.public_pem});
  const auto missing = dir_.path() / "missing.tar.gz";
  const auto result = verify_file_signature(policy, missing, signature_by(p256_, content_));
  EXPECT_EQ(result.status, SignatureStatus::kUnreadableFile);
  EXPECT_THAT(result.reason, HasSubstr(missing.string()));

  const auto short_digest = verify_digest_signature(policy, "abc", signature_by(p256_, content_));
  EXPECT_EQ(short_digest.status, SignatureStatus::kMalformed);
  EXPECT_THAT(short_digest.reason, HasSubstr("SHA-256 has 32"));
}

}  // namespace
}  // namespace opsup::packages
