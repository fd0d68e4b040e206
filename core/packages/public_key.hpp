// Internal: one signature check with one public key (OpenSSL stays in the .cpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace opsup::packages {

struct SignedData {
  std::string_view sha256;                  // 32 raw bytes
  std::optional<std::string_view> content;  // the whole content when available
};

enum class KeyVerdict {
  kMatch,
  kMismatch,
  kMalformedSignature,  // not a DER ECDSA signature / not 64 bytes for Ed25519
  kNeedsContent,        // Ed25519 with a digest only
  kUnsupportedKey,      // neither ECDSA P-256 nor Ed25519
};

struct KeyCheck {
  KeyVerdict verdict = KeyVerdict::kMismatch;
  std::string key_kind;  // "ECDSA P-256", "Ed25519" or what it is when unsupported
};

// `spki_der` is a DER SubjectPublicKeyInfo; nullopt when it does not parse.
std::optional<KeyCheck> check_signature(std::string_view spki_der, const SignedData &data,
                                        std::string_view signature);

// The DER SubjectPublicKeyInfo of one PEM PUBLIC KEY; nullopt when it is not one.
std::optional<std::string> public_key_der_from_pem(std::string_view pem);

}  // namespace opsup::packages
