// The other_connections layer: which exporters exist, what the layer sets for each, the
// certificate files it names, and what it refuses.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "other_connections_layer.hpp"
#include "test_certs.hpp"

namespace opsup::connection_settings {
namespace {

using opsup::testing::make_test_pki;
using opsup::testing::TestPki;

constexpr const char *kComposed = R"(receivers:
  otlp: {}
exporters:
  otlphttp/backend:
    endpoint: http://127.0.0.1:1
  otlp:
    endpoint: 127.0.0.1:2
  debug: {}
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [otlphttp/backend, debug]
)";

std::set<std::string> exporters(const std::set<std::string> &own = {}) {
  auto names = exporter_names(kComposed, own);
  EXPECT_TRUE(names);
  return names.value_or(std::set<std::string>{});
}

TEST(OtherConnectionsLayerTest, TheComposedConfigNamesTheExporters) {
  EXPECT_EQ(exporters(), (std::set<std::string>{"debug", "otlp", "otlphttp/backend"}));
  // `otlp` is in no pipeline: when only this module's layer names it, it does not count.
  EXPECT_EQ(exporters({"otlp", "otlphttp/backend"}),
            (std::set<std::string>{"debug", "otlphttp/backend"}));
  EXPECT_EQ(exporter_names("receivers: {}\n", {}), std::set<std::string>{});
  EXPECT_FALSE(exporter_names("exporters: [unclosed\n", {}));
}

TEST(OtherConnectionsLayerTest, AnExistingExporterGetsTheEndpointAndHeaders) {
  OtherConnection connection;
  connection.endpoint = "http://127.0.0.1:4318";
  connection.headers = {{"x-tenant", "t1"}, {"Authorization", "Bearer secret"}};
  const auto names = exporters();
  const auto layer =
      render_other_connections_layer({{"otlphttp/backend", connection}}, &names, "/var/s");
  EXPECT_EQ(layer.failure(), "");
  EXPECT_EQ(layer.applied, std::vector<std::string>{"otlphttp/backend"});
  EXPECT_TRUE(layer.files.empty());
  const YAML::Node node = YAML::Load(layer.yaml)["exporters"]["otlphttp/backend"];
  EXPECT_EQ(node["endpoint"].as<std::string>(), "http://127.0.0.1:4318");
  EXPECT_EQ(node["headers"]["x-tenant"].as<std::string>(), "t1");
  EXPECT_EQ(node["headers"]["Authorization"].as<std::string>(), "Bearer secret");
  EXPECT_FALSE(node["tls"]);
  // Quoted, so the composition keeps them strings.
  EXPECT_NE(layer.yaml.find("\"http://127.0.0.1:4318\""), std::string::npos) << layer.yaml;
}

TEST(OtherConnectionsLayerTest, AMissingExporterIsNamedAndNotInvented) {
  OtherConnection connection;
  connection.endpoint = "http://127.0.0.1:4318";
  const auto names = exporters();
  const auto layer = render_other_connections_layer(
      {{"otlphttp/backend", connection}, {"otlphttp/nowhere", connection}}, &names, "/var/s");
  EXPECT_EQ(layer.missing, std::vector<std::string>{"otlphttp/nowhere"});
  EXPECT_EQ(layer.applied, std::vector<std::string>{"otlphttp/backend"});
  EXPECT_FALSE(YAML::Load(layer.yaml)["exporters"]["otlphttp/nowhere"]);
  EXPECT_EQ(layer.failure(),
            "other_connections: no exporter named \"otlphttp/nowhere\" in the Collector's config "
            "(applied: \"otlphttp/backend\")");

  const auto none = render_other_connections_layer({{"nope", connection}}, &names, "/var/s");
  EXPECT_EQ(none.yaml, "") << "nothing to configure: the layer is removed";
}

TEST(OtherConnectionsLayerTest, CertificatePartsBecomeFilesNamedInTheTlsSettings) {
  const TestPki pki = make_test_pki();
  OtherConnection connection;
  connection.endpoint = "https://127.0.0.1:4318";
  connection.cert_pem = pki.client.cert_pem;
  while (connection.cert_pem.back() == '\n')
    connection.cert_pem.pop_back();  // the file still ends with a newline
  connection.key_pem = pki.client.key_pem;
  connection.ca_pem = pki.ca.cert_pem;
  connection.include_system_ca_certs_pool = true;
  connection.min_version = "1.2";
  const auto names = exporters();
  const auto layer =
      render_other_connections_layer({{"otlphttp/backend", connection}}, &names, "/var/s/");
  ASSERT_EQ(layer.files.size(), 3u);
  const YAML::Node tls = YAML::Load(layer.yaml)["exporters"]["otlphttp/backend"]["tls"];
  const std::string ca = tls["ca_file"].as<std::string>();
  const std::string cert = tls["cert_file"].as<std::string>();
  const std::string key = tls["key_file"].as<std::string>();
  for (const std::string &path : {ca, cert, key}) {
    ASSERT_EQ(path.rfind("/var/s/other_connection_otlphttp_2Fbackend_", 0), 0u) << path;
    EXPECT_EQ(layer.files.count(path.substr(7)), 1u) << path;
  }
  EXPECT_NE(ca.find("_ca_"), std::string::npos);
  EXPECT_EQ(layer.files.at(cert.substr(7)), connection.cert_pem + "\n");
  EXPECT_EQ(layer.files.at(key.substr(7)), connection.key_pem);
  EXPECT_TRUE(tls["include_system_ca_certs_pool"].as<bool>());
  EXPECT_EQ(tls["min_version"].as<std::string>(), "1.2");

  // New contents, new file names: the layer text changes with the material.
  OtherConnection renewed = connection;
  renewed.cert_pem = pki.server.cert_pem;
  renewed.key_pem = pki.server.key_pem;
  const auto next =
      render_other_connections_layer({{"otlphttp/backend", renewed}}, &names, "/var/s/");
  EXPECT_NE(next.yaml, layer.yaml);
  EXPECT_EQ(
      YAML::Load(next.yaml)["exporters"]["otlphttp/backend"]["tls"]["ca_file"].as<std::string>(),
      ca);
}

TEST(OtherConnectionsLayerTest, UnsafeOrOversizedOffersAreRefusedNamingTheReason) {
  const auto names = exporters();
  OtherConnection skip;
  skip.insecure_skip_verify = true;
  OtherConnection half;
  half.cert_pem = "cert";
  OtherConnection bad_header;
  bad_header.headers = {{"bad header", "v"}};
  OtherConnection huge;
  huge.ca_pem = std::string(kMaxPemBytes + 1, 'x');
  const auto layer = render_other_connections_layer(
      {{"debug", skip}, {"otlp", half}, {"otlphttp/backend", bad_header}}, &names, "/var/s");
  EXPECT_TRUE(layer.applied.empty());
  ASSERT_EQ(layer.refused.size(), 3u);
  EXPECT_NE(layer.refused[0].find("\"debug\": tls.insecure_skip_verify is refused"),
            std::string::npos);
  EXPECT_NE(layer.refused[1].find("\"otlp\": certificate: cert and private_key"),
            std::string::npos);
  EXPECT_NE(layer.refused[2].find("is not a header name"), std::string::npos);
  const auto big = render_other_connections_layer({{"otlp", huge}}, &names, "/var/s");
  ASSERT_EQ(big.refused.size(), 1u);
  EXPECT_NE(big.refused[0].find("larger than"), std::string::npos);
  const auto no_storage = render_other_connections_layer({{"otlp", half}}, &names, "");
  EXPECT_FALSE(no_storage.refused.empty());
}

// The Collector's `validate` does not read TLS files and the Collector would not start with
// material it cannot load: such offers are refused before.
TEST(OtherConnectionsLayerTest, MaterialTheCollectorCouldNotLoadIsRefused) {
  const TestPki pki = make_test_pki();
  const auto names = exporters();
  OtherConnection garbage;
  garbage.cert_pem = "garbage";
  garbage.key_pem = "garbage";
  OtherConnection mismatch;
  mismatch.cert_pem = pki.client.cert_pem;
  mismatch.key_pem = pki.server.key_pem;
  OtherConnection bad_ca;
  bad_ca.ca_pem = "not a certificate";
  const auto layer = render_other_connections_layer(
      {{"debug", garbage}, {"otlp", mismatch}, {"otlphttp/backend", bad_ca}}, &names, "/var/s");
  EXPECT_TRUE(layer.applied.empty());
  ASSERT_EQ(layer.refused.size(), 3u);
  EXPECT_NE(layer.refused[0].find("holds no PEM certificate"), std::string::npos);
  EXPECT_NE(layer.refused[1].find("is not the key of certificate.cert"), std::string::npos);
  EXPECT_NE(layer.refused[2].find("the CA (tls.ca_pem_contents, certificate.ca_cert) holds no"),
            std::string::npos);
  for (const std::string &reason : layer.refused)
    EXPECT_EQ(reason.find("BEGIN"), std::string::npos) << "no material in messages";
  EXPECT_TRUE(layer.files.empty());

  // Neither does it parse proxy_url or know the cipher suites before it starts.
  OtherConnection bad_proxy;
  bad_proxy.proxy_url = "::not a url";
  OtherConnection bad_suite;
  bad_suite.cipher_suites = {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                             "TLS_RSA_WITH_AES_128_GCM_SHA256"};
  OtherConnection good;
  good.proxy_url = "http://user:pw@proxy:3128";
  good.cipher_suites = {"TLS_AES_128_GCM_SHA256"};
  const auto more = render_other_connections_layer(
      {{"debug", bad_proxy}, {"otlp", bad_suite}, {"otlphttp/backend", good}}, &names, "/var/s");
  ASSERT_EQ(more.refused.size(), 2u);
  EXPECT_NE(more.refused[0].find("proxy.url is not an http:// or https:// URL"), std::string::npos);
  EXPECT_NE(more.refused[1].find("\"TLS_RSA_WITH_AES_128_GCM_SHA256\" is not a cipher suite"),
            std::string::npos);
  EXPECT_EQ(more.applied, std::vector<std::string>{"otlphttp/backend"});
}

TEST(OtherConnectionsLayerTest, AProxyGoesToOtlphttpExportersOnlyAndOtherSettingsAreNoted) {
  OtherConnection connection;
  connection.proxy_url = "http://proxy:3128";
  connection.other_settings = {"compression"};
  const auto names = exporters();
  const auto layer = render_other_connections_layer(
      {{"otlphttp/backend", connection}, {"otlp", connection}}, &names, "/var/s");
  const YAML::Node root = YAML::Load(layer.yaml);
  EXPECT_EQ(root["exporters"]["otlphttp/backend"]["proxy_url"].as<std::string>(),
            "http://proxy:3128");
  EXPECT_FALSE(root["exporters"]["otlp"]["proxy_url"]);
  EXPECT_EQ(layer.notes.size(), 3u);
  EXPECT_EQ(layer.failure(), "");
}

TEST(OtherConnectionsLayerTest, FileNamesKeepDistinctNamesApartAndStayShort) {
  EXPECT_NE(pem_file_name("otlp/a", "ca", "x"), pem_file_name("otlp_a", "ca", "x"));
  EXPECT_LT(pem_file_name(std::string(256, '/'), "cert", "x").size(), 255u);
  EXPECT_NE(pem_file_name(std::string(200, '/') + "a", "cert", "x"),
            pem_file_name(std::string(200, '/') + "b", "cert", "x"));
}

}  // namespace
}  // namespace opsup::connection_settings
