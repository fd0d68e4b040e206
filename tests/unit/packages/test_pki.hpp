// Keys, signatures and certificates made with OpenSSL for the signature tests: a root CA,
// intermediates and Fulcio-style leaves. Everything crosses this header as PEM or raw
// bytes, so OpenSSL stays in the .cpp.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace opsup::testing {

enum class KeyType { kP256, kP384, kEd25519, kRsa };

struct TestKey {
  std::string private_pem;
  std::string public_pem;
};

TestKey generate_key(KeyType type);

// What cosign sign-blob --key writes (before base64): ECDSA -> DER signature over the
// SHA-256 of `content`; Ed25519 -> pure Ed25519 over `content`.
std::string sign_blob(const TestKey &key, std::string_view content);

struct CertSpec {
  std::string common_name = "test";
  bool is_ca = false;
  std::optional<std::string> issuer_v2;               // Fulcio 1.3.6.1.4.1.57264.1.8 (UTF8String)
  std::optional<std::string> issuer_v1;               // Fulcio 1.3.6.1.4.1.57264.1.1 (raw)
  std::optional<std::string> workflow_repository_v1;  // .1.5 (raw)
  std::optional<std::string> source_repository_uri;   // .1.12 (UTF8String)
  std::vector<std::string> san_uris;
  std::vector<std::string> san_emails;
  bool code_signing = true;          // leaves only
  long not_before_seconds = -60;     // relative to now
  long not_after_seconds = 10 * 60;  // relative to now (Fulcio: 10 minutes)
};

// A PEM certificate for `subject_key`, signed by `issuer_key`; self-signed when
// `issuer_pem` is empty.
std::string issue_certificate(const CertSpec &spec, const TestKey &subject_key,
                              const TestKey &issuer_key, const std::string &issuer_pem = {});

std::string pem_to_der_certificate(const std::string &pem);
std::string encode_base64(std::string_view bytes);

}  // namespace opsup::testing
