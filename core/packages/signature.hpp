// Verifies the detached signature of a package file (a Collector tarball or executable)
// offline, against keys and roots the operator configured. Two formats, told apart by a
// space:
//   - key-based: base64 of the signature alone, as `cosign sign-blob --key` prints it.
//     ECDSA P-256: a DER signature over the SHA-256 of the file. Ed25519: a pure Ed25519
//     signature over the whole file (cosign does that with --tlog-upload=false; its default
//     with a transparency-log upload is Ed25519ph, which OpenSSL 3.0 cannot verify, so such
//     signatures are refused as a mismatch).
//   - certificate-based (the upstream supervisor's `signature` field): base64 certificate
//     (PEM or DER; PEM may carry the chain after the leaf) + one space + base64 ECDSA
//     P-256 signature over the SHA-256 of the file, as `cosign sign-blob` keyless writes.
//     The certificate must chain to a configured root, carry a configured issuer and
//     subject (Fulcio extensions, SAN) and have the codeSigning extended key usage.
// Nothing here uses the network: no Rekor inclusion proof, no signed entry timestamp, no
// CT log (SCT) check, no TUF root refresh, no revocation. See README.md "Packages".
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace opsup::packages {

// One accepted signer of certificate-based signatures: exact value or regex (whole-string
// ECMAScript match; cosign's is unanchored, this is stricter) for each part; exactly one
// of each pair is set.
struct SignerIdentity {
  std::string issuer;  // the OIDC issuer, e.g. "https://token.actions.githubusercontent.com"
  std::string issuer_regex;
  std::string subject;  // a SAN URI or email, e.g. the release workflow's URI
  std::string subject_regex;
};

// Which moment a certificate chain must be valid at.
enum class CertificateTime {
  // The leaf's notBefore: the chain was valid when the leaf was issued. Fulcio leaves live
  // 10 minutes, so checking "now" would refuse every release after that; without Rekor's
  // timestamp the signing time is unproven, and a leaf whose notBefore is in the future is
  // refused. The default.
  kAtIssuance,
  kNow,  // the current time: for long-lived, operator-issued signing certificates
};

struct SignaturePolicy {
  std::vector<std::string> public_keys_pem;  // each one PEM PUBLIC KEY (P-256 or Ed25519)
  std::string trusted_roots_pem;             // PEM certificates: the only trust anchors
  std::string intermediates_pem;             // PEM certificates: untrusted chain helpers
  std::vector<SignerIdentity> identities;    // certificate signers accepted (any one)
  // When set ("owner/repo"), the leaf must name it in Fulcio's GitHub workflow repository
  // extension (1.3.6.1.4.1.57264.1.5) or source repository URI (.1.12).
  std::string github_workflow_repository;
  CertificateTime certificate_time = CertificateTime::kAtIssuance;
  bool allow_unsigned = false;  // refusing unsigned packages is the default
};

enum class SignatureStatus {
  kVerified,
  kUnsignedAllowed,
  kUnsigned,              // no signature and allow_unsigned is false
  kBadEncoding,           // not base64, or not "<base64> <base64>"
  kMalformed,             // decodes, but is no certificate / no signature of a known shape
  kNotConfigured,         // no keys (key-based) or no roots / identities (certificate)
  kInvalidPolicy,         // a configured key, root or regex does not parse
  kUnreadableFile,        // the signed file cannot be read
  kSignatureMismatch,     // no key verifies: another key, or an altered file
  kCertificateUntrusted,  // does not chain to a configured root, or not for code signing
  kCertificateExpired,
  kCertificateNotYetValid,
  kIdentityMismatch,  // issuer, subject or workflow repository not configured
};

const char *to_string(SignatureStatus status);

struct SignatureResult {
  SignatureStatus status = SignatureStatus::kUnsigned;
  std::string reason;  // names what failed, e.g. which key, certificate depth or identity
  std::string signer;  // on success: which key or certificate identity verified it
  bool accepted() const {
    return status == SignatureStatus::kVerified || status == SignatureStatus::kUnsignedAllowed;
  }
};

// Verifies `signature` (surrounding whitespace ignored) over the file's content. The file
// is mapped, not read into memory.
SignatureResult verify_file_signature(const SignaturePolicy &policy,
                                      const std::filesystem::path &file,
                                      std::string_view signature);

// The same over a content hash alone (32 raw bytes of SHA-256), e.g. the OpAMP
// content_hash after checking it. Pure Ed25519 needs the content, so Ed25519 keys cannot
// match here.
SignatureResult verify_digest_signature(const SignaturePolicy &policy, std::string_view sha256,
                                        std::string_view signature);

}  // namespace opsup::packages
