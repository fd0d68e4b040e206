// An in-memory certificate authority generated at start (EC P-256): issues the server's
// own certificate for --tls-self-signed and signs agents' CSRs (ConnectionSettingsRequest).
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace opsup::opamp_server {

struct IssuedCertificate {
  std::string cert_pem;
  std::string key_pem;
};

class CertificateAuthority {
 public:
  // Throws std::runtime_error with OpenSSL's reason on failure.
  static CertificateAuthority generate(const std::string &common_name);
  CertificateAuthority(CertificateAuthority &&) noexcept;
  CertificateAuthority &operator=(CertificateAuthority &&) noexcept;
  ~CertificateAuthority();

  std::string ca_cert_pem() const;
  // A server certificate valid for `hosts` (IP addresses become IP SANs, others DNS SANs).
  IssuedCertificate issue_server_certificate(const std::vector<std::string> &hosts) const;
  // Verifies the PKCS#10 request's signature and issues a client certificate with its
  // subject and public key. When the subject's CN is a UUID it must be `instance_uid` (the
  // spec: a CSR carrying the instance UID is checked against the agent sending it); other
  // CNs are signed as they are. Throws std::invalid_argument naming the problem.
  std::string sign_certificate_request(const std::string &csr_pem,
                                       const std::string &instance_uid = "") const;

 private:
  struct Impl;
  explicit CertificateAuthority(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace opsup::opamp_server
