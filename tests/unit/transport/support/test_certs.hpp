// Test certificates made on the fly with OpenSSL: a CA, server and client certificates it
// signs, and self-signed ones. For TLS tests in any suite (link `opsup_test_certs`).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace opsup::testing {

struct CertAndKey {
  std::string cert_pem;
  std::string key_pem;
};

struct CertRequest {
  std::string common_name = "localhost";
  std::vector<std::string> dns_names;     // subjectAltName DNS entries
  std::vector<std::string> ip_addresses;  // subjectAltName IP entries
  bool server_auth = true;                // extendedKeyUsage serverAuth
  bool client_auth = false;               // extendedKeyUsage clientAuth
  int valid_days = 30;
};

// A self-signed CA certificate (P-256 key).
CertAndKey make_ca(const std::string &common_name = "opsup test CA");
// A leaf certificate signed by `ca`.
CertAndKey issue_cert(const CertAndKey &ca, const CertRequest &request);
// A self-signed leaf certificate (not a CA), e.g. an untrusted server.
CertAndKey make_self_signed(const CertRequest &request);

// The usual set: a CA; a server certificate for localhost, 127.0.0.1 and ::1; a client
// certificate; all signed by the CA.
struct TestPki {
  CertAndKey ca;
  CertAndKey server;
  CertAndKey client;
};
TestPki make_test_pki();

// Writes `contents` to `path` (creating parent directories) and returns the path.
std::string write_file(const std::filesystem::path &path, const std::string &contents);

}  // namespace opsup::testing
