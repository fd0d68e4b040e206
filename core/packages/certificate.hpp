// Internal: checks a signing certificate (Fulcio-style leaf) against a SignaturePolicy:
// chain to a configured root, validity time, codeSigning usage, issuer and subject
// identity, workflow repository. OpenSSL stays in the .cpp.
#pragma once

#include <string>
#include <string_view>

#include "packages/signature.hpp"

namespace opsup::packages {

struct CertificateCheck {
  SignatureStatus status = SignatureStatus::kMalformed;  // kVerified when trusted
  std::string reason;
  std::string signer;        // "subject ... (issuer ...)" when trusted
  std::string leaf_key_der;  // the leaf's SubjectPublicKeyInfo when trusted
};

// `certificate` is the decoded first field of the signature: PEM (leaf first, then any
// chain) or a single DER certificate.
CertificateCheck check_certificate(const SignaturePolicy &policy, std::string_view certificate);

}  // namespace opsup::packages
