// The OpenSSL side of client certificates by CSR (issue 11, item 3): an EC P-256 key pair,
// a PEM PKCS#10 request signed by it, and the checks made on the certificate the server
// issues. Plain functions on PEM text, so the unit tests need no module.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace opsup::connection_settings {

// Raised with OpenSSL's reason when a key, request or certificate cannot be made or read.
class CertificateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A new EC P-256 private key, as unencrypted PKCS#8 PEM. Secret: never log it.
std::string generate_private_key_pem();

// A PEM PKCS#10 request for `private_key_pem`'s public key, signed with it (SHA-256), with
// the subject CN=<common_name>, O=<organization> (O left out when empty).
std::string make_certificate_request(std::string_view private_key_pem, std::string_view common_name,
                                     std::string_view organization);

// True when the PEM certificate `cert_pem` carries the public key of `private_key_pem`.
// False for a certificate or key that does not parse.
bool certificate_matches_key(std::string_view cert_pem, std::string_view private_key_pem);

// "subject ..., serial ..., valid until ..." of a PEM certificate, for the log (no secret in
// it); the text says so when it does not parse.
std::string describe_certificate(std::string_view cert_pem);

}  // namespace opsup::connection_settings
