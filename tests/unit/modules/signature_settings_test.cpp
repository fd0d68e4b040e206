// The signature policy of module downloads, read from plugins.packages: keys from files,
// identities, and errors that name the key.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "modules/signature_settings.hpp"
#include "support/temp_dir.hpp"

namespace opsup::modules {
namespace {

std::string error_of(const std::string &yaml) {
  try {
    signature_policy_from(yaml);
  } catch (const std::runtime_error &error) {
    return error.what();
  }
  return "";
}

TEST(SignatureSettings, NoSectionRefusesUnsignedPackages) {
  const packages::SignaturePolicy policy = signature_policy_from("");
  EXPECT_FALSE(policy.allow_unsigned);
  EXPECT_TRUE(policy.public_keys_pem.empty());
  EXPECT_TRUE(signature_policy_from("allow_unsigned: true\n").allow_unsigned);
}

TEST(SignatureSettings, ReadsKeysRootsAndIdentities) {
  testing::TempDir dir;
  const auto key = dir.write_file("k.pem", "KEY PEM");
  const auto roots = dir.write_file("roots.pem", "ROOTS PEM");
  const packages::SignaturePolicy policy = signature_policy_from(
      "signature:\n  public_keys: [" + key.string() + "]\n  trusted_roots: " + roots.string() +
      "\n  identities:\n    - {issuer: https://issuer, subject_regex: '^https://x/.*$'}\n"
      "  github_workflow_repository: owner/repo\n  certificate_time: now\n");
  ASSERT_EQ(policy.public_keys_pem.size(), 1u);
  EXPECT_EQ(policy.public_keys_pem[0], "KEY PEM");
  EXPECT_EQ(policy.trusted_roots_pem, "ROOTS PEM");
  ASSERT_EQ(policy.identities.size(), 1u);
  EXPECT_EQ(policy.identities[0].issuer, "https://issuer");
  EXPECT_EQ(policy.identities[0].subject_regex, "^https://x/.*$");
  EXPECT_EQ(policy.github_workflow_repository, "owner/repo");
  EXPECT_EQ(policy.certificate_time, packages::CertificateTime::kNow);
}

TEST(SignatureSettings, ErrorsNameTheKey) {
  EXPECT_EQ(error_of("signature:\n  public_keys: [/nonexistent/k.pem]\n"),
            "plugins.packages.signature.public_keys[0]: cannot read /nonexistent/k.pem");
  EXPECT_EQ(error_of("allow_unsigned: maybe\n"),
            "plugins.packages.allow_unsigned: expected true or false");
  EXPECT_EQ(error_of("signature:\n  identities: [{issuer: a}]\n"),
            "plugins.packages.signature.identities[0]: give exactly one of issuer and "
            "issuer_regex, and of subject and subject_regex");
  EXPECT_EQ(error_of("signature:\n  certificate_time: later\n"),
            "plugins.packages.signature.certificate_time: expected issuance or now, not later");
}

}  // namespace
}  // namespace opsup::modules
