#include "packages/signature.hpp"

#include <optional>
#include <stdexcept>

#include "common/sha256.hpp"
#include "packages/base64.hpp"
#include "packages/certificate.hpp"
#include "packages/mapped_file.hpp"
#include "packages/public_key.hpp"

namespace opsup::packages {
namespace {

SignatureResult result(SignatureStatus status, std::string reason, std::string signer = {}) {
  SignatureResult out;
  out.status = status;
  out.reason = std::move(reason);
  out.signer = std::move(signer);
  return out;
}

std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  const auto first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos)
    return {};
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

SignatureResult malformed(const std::string &what, const KeyCheck &check) {
  return result(SignatureStatus::kMalformed,
                what + " is not a valid " + check.key_kind + " signature (" +
                    (check.key_kind == "Ed25519" ? "64 bytes" : "DER ECDSA-Sig-Value") + ")");
}

SignatureResult verify_with_keys(const SignaturePolicy &policy, const SignedData &data,
                                 std::string_view encoded) {
  const auto signature = decode_base64(encoded);
  if (!signature)
    return result(SignatureStatus::kBadEncoding, "signature is not valid base64");
  if (policy.public_keys_pem.empty()) {
    return result(SignatureStatus::kNotConfigured,
                  "key-based signature but no public keys are configured");
  }
  std::size_t malformed_for = 0;
  std::optional<KeyCheck> last_malformed;
  std::string skipped;
  for (std::size_t i = 0; i < policy.public_keys_pem.size(); ++i) {
    const std::string name = "public key " + std::to_string(i + 1);
    const auto der = public_key_der_from_pem(policy.public_keys_pem[i]);
    if (!der)
      return result(SignatureStatus::kInvalidPolicy, name + " is not a PEM PUBLIC KEY");
    const auto check = check_signature(*der, data, *signature);
    if (!check)
      return result(SignatureStatus::kInvalidPolicy, name + " does not parse");
    switch (check->verdict) {
      case KeyVerdict::kMatch:
        return result(SignatureStatus::kVerified, "", name + " (" + check->key_kind + ")");
      case KeyVerdict::kUnsupportedKey:
        return result(
            SignatureStatus::kInvalidPolicy,
            name + " is " + check->key_kind + "; only ECDSA P-256 and Ed25519 keys are supported");
      case KeyVerdict::kMalformedSignature:
        ++malformed_for;
        last_malformed = check;
        break;
      case KeyVerdict::kNeedsContent:
        skipped = "; the Ed25519 keys need the file, not only its SHA-256";
        break;
      case KeyVerdict::kMismatch:
        break;
    }
  }
  if (malformed_for == policy.public_keys_pem.size())
    return malformed("signature", *last_malformed);
  return result(
      SignatureStatus::kSignatureMismatch,
      "signature does not verify with any of the " + std::to_string(policy.public_keys_pem.size()) +
          " configured public keys (signed by another key, or the file was altered)" + skipped);
}

SignatureResult verify_with_certificate(const SignaturePolicy &policy, const SignedData &data,
                                        std::string_view encoded_certificate,
                                        std::string_view encoded_signature) {
  const auto certificate = decode_base64(encoded_certificate);
  if (!certificate) {
    return result(SignatureStatus::kBadEncoding,
                  "certificate (first field of the signature) is not valid base64");
  }
  const auto signature = decode_base64(encoded_signature);
  if (!signature) {
    return result(SignatureStatus::kBadEncoding,
                  "signature (second field of the signature) is not valid base64");
  }
  if (policy.trusted_roots_pem.empty()) {
    return result(SignatureStatus::kNotConfigured,
                  "certificate-based signature but no trusted roots are configured");
  }
  const CertificateCheck trusted = check_certificate(policy, *certificate);
  if (trusted.status != SignatureStatus::kVerified)
    return result(trusted.status, trusted.reason);
  const auto check = check_signature(trusted.leaf_key_der, data, *signature);
  if (!check)
    return result(SignatureStatus::kMalformed, "certificate public key does not parse");
  switch (check->verdict) {
    case KeyVerdict::kMatch:
      return result(SignatureStatus::kVerified, "", trusted.signer);
    case KeyVerdict::kMalformedSignature:
      return malformed("signature (second field)", *check);
    case KeyVerdict::kNeedsContent:
      return result(SignatureStatus::kSignatureMismatch,
                    "the certificate's Ed25519 key needs the file, not only its SHA-256");
    case KeyVerdict::kUnsupportedKey:
      return result(SignatureStatus::kMalformed,
                    "certificate key is " + check->key_kind +
                        "; only ECDSA P-256 and Ed25519 keys are supported");
    case KeyVerdict::kMismatch:
      break;
  }
  return result(SignatureStatus::kSignatureMismatch,
                "signature does not verify with the key of the certificate for " + trusted.signer +
                    " (the file was altered or signed with another key)");
}

SignatureResult verify(const SignaturePolicy &policy, const SignedData &data,
                       std::string_view signature_text) {
  const std::string_view text = trim(signature_text);
  if (text.empty()) {
    if (policy.allow_unsigned)
      return result(SignatureStatus::kUnsignedAllowed, "", "unsigned (allowed by policy)");
    return result(SignatureStatus::kUnsigned,
                  "package is not signed and unsigned packages are refused");
  }
  const auto space = text.find(' ');
  if (space == std::string_view::npos)
    return verify_with_keys(policy, data, text);
  const std::string_view certificate = text.substr(0, space);
  const std::string_view signature = text.substr(space + 1);
  if (signature.find_first_of(" \t\r\n") != std::string_view::npos) {
    return result(SignatureStatus::kBadEncoding,
                  "signature must be \"<base64 certificate> <base64 signature>\" with one space");
  }
  return verify_with_certificate(policy, data, certificate, signature);
}

}  // namespace

const char *to_string(SignatureStatus status) {
  switch (status) {
    case SignatureStatus::kVerified:
      return "verified";
    case SignatureStatus::kUnsignedAllowed:
      return "unsigned (allowed)";
    case SignatureStatus::kUnsigned:
      return "unsigned";
    case SignatureStatus::kBadEncoding:
      return "bad encoding";
    case SignatureStatus::kMalformed:
      return "malformed";
    case SignatureStatus::kNotConfigured:
      return "not configured";
    case SignatureStatus::kInvalidPolicy:
      return "invalid policy";
    case SignatureStatus::kUnreadableFile:
      return "unreadable file";
    case SignatureStatus::kSignatureMismatch:
      return "signature mismatch";
    case SignatureStatus::kCertificateUntrusted:
      return "certificate untrusted";
    case SignatureStatus::kCertificateExpired:
      return "certificate expired";
    case SignatureStatus::kCertificateNotYetValid:
      return "certificate not yet valid";
    case SignatureStatus::kIdentityMismatch:
      return "identity mismatch";
  }
  return "unknown";
}

SignatureResult verify_file_signature(const SignaturePolicy &policy,
                                      const std::filesystem::path &file,
                                      std::string_view signature) {
  try {
    const MappedFile mapped(file);
    const std::string digest = common::sha256(mapped.content());
    return verify(policy, SignedData{digest, mapped.content()}, signature);
  } catch (const std::runtime_error &error) {
    return result(SignatureStatus::kUnreadableFile, error.what());
  }
}

SignatureResult verify_digest_signature(const SignaturePolicy &policy, std::string_view sha256,
                                        std::string_view signature) {
  if (sha256.size() != 32) {
    return result(SignatureStatus::kMalformed,
                  "content hash has " + std::to_string(sha256.size()) + " bytes; SHA-256 has 32");
  }
  return verify(policy, SignedData{sha256, std::nullopt}, signature);
}

}  // namespace opsup::packages
