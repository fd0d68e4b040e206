// The TLS settings of module downloads, read from plugins.packages.tls: CA and client
// certificate files, and errors that name the key; verification cannot be turned off.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "modules/download_tls_settings.hpp"
#include "support/temp_dir.hpp"

namespace opsup::modules {
namespace {

constexpr const char *kPem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

std::string error_of(const std::string &yaml) {
  try {
    download_tls_from(yaml);
  } catch (const std::runtime_error &error) {
    return error.what();
  }
  return "";
}

TEST(DownloadTlsSettings, NoSectionMeansTheSystemPoolWithVerification) {
  for (const char *yaml : {"", "max_download_bytes: 10\n", "tls:\n"}) {
    const transport::ClientTlsSettings tls = download_tls_from(yaml);
    EXPECT_TRUE(tls.ca_pem.empty()) << yaml;
    EXPECT_TRUE(tls.cert_pem.empty()) << yaml;
    EXPECT_FALSE(tls.insecure_skip_verify) << yaml;
  }
}

TEST(DownloadTlsSettings, ReadsTheCaAndTheClientCertificate) {
  testing::TempDir dir;
  const auto ca = dir.write_file("ca.pem", kPem);
  const auto cert = dir.write_file("cert.pem", kPem);
  const auto key = dir.write_file("key.pem", "-----BEGIN PRIVATE KEY-----\nx\n");
  const transport::ClientTlsSettings tls = download_tls_from(
      "tls:\n  ca_file: " + ca.string() + "\n  include_system_ca_certs_pool: true\n" +
      "  cert_file: " + cert.string() + "\n  key_file: " + key.string() +
      "\n  server_name_override: packages.example\n  min_version: \"1.3\"\n");
  EXPECT_EQ(tls.ca_pem, kPem);
  EXPECT_TRUE(tls.include_system_ca_certs_pool);
  EXPECT_EQ(tls.cert_pem, kPem);
  EXPECT_NE(tls.key_pem.find("PRIVATE KEY"), std::string::npos);
  EXPECT_EQ(tls.server_name_override, "packages.example");
  EXPECT_EQ(tls.min_version, "1.3");
  EXPECT_FALSE(tls.insecure_skip_verify);
}

TEST(DownloadTlsSettings, ErrorsNameTheKey) {
  testing::TempDir dir;
  const auto cert = dir.write_file("cert.pem", kPem);
  const auto not_pem = dir.write_file("ca.txt", "hello");
  EXPECT_NE(error_of("tls:\n  ca_file: /nonexistent/ca.pem\n")
                .find("plugins.packages.tls.ca_file: cannot read /nonexistent/ca.pem"),
            std::string::npos);
  EXPECT_NE(error_of("tls:\n  ca_file: " + not_pem.string() + "\n").find("holds no PEM block"),
            std::string::npos);
  EXPECT_NE(error_of("tls:\n  cert_file: " + cert.string() + "\n")
                .find("plugins.packages.tls.cert_file: give both cert_file and key_file"),
            std::string::npos);
  EXPECT_NE(error_of("tls:\n  insecure_skip_verify: true\n")
                .find("plugins.packages.tls.insecure_skip_verify: unknown key"),
            std::string::npos);
  EXPECT_NE(error_of("tls:\n  min_version: \"1.0\"\n").find("plugins.packages.tls.min_version"),
            std::string::npos);
  EXPECT_NE(error_of("tls: [a]\n").find("plugins.packages.tls: expected a map"), std::string::npos);
  EXPECT_NE(error_of("tls:\n  include_system_ca_certs_pool: maybe\n")
                .find("include_system_ca_certs_pool: expected true or false"),
            std::string::npos);
}

}  // namespace
}  // namespace opsup::modules
