// The signature policy of a module's download (OPSUP_DOWNLOAD_CHECK_SIGNATURE, ABI 1.4),
// read from the module's own settings: plugins.<id>.signature and plugins.<id>.allow_unsigned.
#pragma once

#include <string_view>

#include "packages/signature.hpp"

namespace opsup::modules {

// `own_settings_yaml` is the module's section as YAML ("" when absent). Key files are read
// here, so call it off the loop thread. Throws std::runtime_error naming the key (and the
// file) when the section cannot be used.
//   signature:
//     public_keys: [<PEM file>, ...]          # key-based signatures (P-256, Ed25519)
//     trusted_roots: <PEM file>               # certificate-based: the only trust anchors
//     intermediates: <PEM file>               # optional chain helpers
//     identities: [{issuer | issuer_regex, subject | subject_regex}, ...]
//     github_workflow_repository: owner/repo  # optional
//     certificate_time: issuance | now        # default issuance
//   allow_unsigned: false
packages::SignaturePolicy signature_policy_from(std::string_view own_settings_yaml);

}  // namespace opsup::modules
