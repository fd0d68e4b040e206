// TLS features of opamp-server: client-certificate checking (--tls-client-ca,
// --tls-client-certs) and signing agents' CSRs (ConnectionSettingsRequest) with the server's
// own CA.
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdlib>
#include <fstream>
#include <memory>

#include "support/http.hpp"
#include "support/temp_dir.hpp"
#include "test_fixture.hpp"

namespace opsup::testing {
namespace {

namespace json = boost::json;

void write_file(const std::filesystem::path &path, const std::string &text) {
  std::ofstream out(path);
  out << text;
}

// A CA, a server certificate for 127.0.0.1 and a client certificate, made with the openssl
// command-line tool in `dir`.
void make_pki(const std::filesystem::path &dir) {
  write_file(dir / "server.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  write_file(dir / "client.ext", "extendedKeyUsage=clientAuth\n");
  const std::string d = dir.string();
  const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
  const std::string script =
      "cd '" + d + "' && " + "openssl req -x509" + ec +
      " -keyout ca.key -out ca.pem -days 2 -subj /CN=test-ca && " + "openssl req" + ec +
      " -keyout server.key -out server.csr -subj /CN=localhost && " +
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2"
      " -extfile server.ext -out server.pem && " +
      "openssl req" + ec + " -keyout client.key -out client.csr -subj /CN=agent && " +
      "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2"
      " -extfile client.ext -out client.pem";
  ASSERT_EQ(std::system((script + " >/dev/null 2>&1").c_str()), 0) << script;
}

TEST(OpampServerTlsTest, ClientCertificatesAreRequiredWithTlsClientCa) {
  TempDir dir;
  make_pki(dir.path());
  OpampServerProcess server({"--tls-cert", (dir.path() / "server.pem").string(), "--tls-key",
                             (dir.path() / "server.key").string(), "--tls-client-ca",
                             (dir.path() / "ca.pem").string()});
  IoThread io;
  for (const auto &endpoint : {server.websocket_url(), server.http_url()}) {
    TestAgentOptions options;
    options.endpoint = endpoint;
    options.tls.ca_file = (dir.path() / "ca.pem").string();
    options.tls.cert_file = (dir.path() / "client.pem").string();
    options.tls.key_file = (dir.path() / "client.key").string();
    TestAgent agent(io.io(), options);
    agent.start();
    auto view = wait_for_agent(server, agent.instance_uid_string(), [](const json::value &v) {
      return at(v, {"connection", "connected"}) == json::value(true);
    });
    EXPECT_EQ(at(view, {"connection", "connected"}), json::value(true)) << endpoint;
  }
  // Trusting the server but without a client certificate: refused.
  TestAgentOptions anonymous;
  anonymous.endpoint = server.websocket_url();
  anonymous.tls.ca_file = (dir.path() / "ca.pem").string();
  TestAgent stranger(io.io(), anonymous);
  stranger.start();
  EXPECT_TRUE(eventually([&] { return stranger.observations().disconnects >= 1; }, kDeadline));
  EXPECT_EQ(stranger.observations().connects, 0);
  EXPECT_TRUE(server.agent(stranger.instance_uid_string()).is_null());
}

struct KeyFree {
  void operator()(EVP_PKEY *key) const { EVP_PKEY_free(key); }
};
struct CertFree {
  void operator()(X509 *cert) const { X509_free(cert); }
};

// A CSR for a new P-256 key; the key's PEM goes to `key_pem` when given.
std::string make_csr(const std::string &common_name, std::string *key_pem = nullptr) {
  std::unique_ptr<EVP_PKEY, KeyFree> key(EVP_EC_gen("P-256"));
  if (key_pem != nullptr) {
    BIO *out = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(out, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    char *data = nullptr;
    const long size = BIO_get_mem_data(out, &data);
    key_pem->assign(data, static_cast<std::size_t>(size));
    BIO_free(out);
  }
  X509_REQ *request = X509_REQ_new();
  X509_NAME *name = X509_REQ_get_subject_name(request);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char *>(common_name.c_str()), -1, -1,
                             0);
  X509_REQ_set_pubkey(request, key.get());
  X509_REQ_sign(request, key.get(), EVP_sha256());
  BIO *bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509_REQ(bio, request);
  char *data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  X509_REQ_free(request);
  return pem;
}

std::unique_ptr<X509, CertFree> parse_cert(const std::string &pem) {
  BIO *bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  std::unique_ptr<X509, CertFree> cert(PEM_read_bio_X509(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  return cert;
}

TEST(OpampServerTlsTest, SignsCertificateRequests) {
  OpampServerProcess server;
  IoThread io;
  TestAgentOptions options;
  options.endpoint = server.websocket_url();
  TestAgent agent(io.io(), options);
  agent.start();
  const std::string uid = agent.instance_uid_string();
  wait_for_agent(server, uid,
                 [](const json::value &v) { return !at(v, {"description"}).is_null(); });

  const std::string csr = make_csr(uid);
  agent.send([csr](proto::AgentToServer &message) {
    message.mutable_connection_settings_request()
        ->mutable_opamp()
        ->mutable_certificate_request()
        ->set_csr(csr);
  });
  auto has_certificate = [](const proto::ServerToAgent &m) {
    return !m.connection_settings().opamp().certificate().cert().empty();
  };
  ASSERT_TRUE(eventually([&] { return agent.count_received(has_certificate) == 1; }, kDeadline));
  proto::OpAMPConnectionSettings offer;
  for (const auto &message : agent.observations().messages) {
    if (has_certificate(message))
      offer = message.connection_settings().opamp();
  }
  EXPECT_TRUE(offer.certificate().private_key().empty());
  EXPECT_EQ(offer.destination_endpoint(), server.websocket_url());
  auto cert = parse_cert(offer.certificate().cert());
  auto ca = parse_cert(offer.certificate().ca_cert());
  ASSERT_TRUE(cert && ca);
  EXPECT_EQ(X509_verify(cert.get(), X509_get0_pubkey(ca.get())), 1);
  char common_name[128] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, common_name,
                            sizeof common_name);
  EXPECT_EQ(std::string(common_name), uid);
  auto view = wait_for_agent(server, uid, [](const json::value &v) {
    return at(v, {"certificate_request", "signed"}) == json::value(true);
  });
  EXPECT_EQ(at(view, {"certificate_request", "signed"}), json::value(true));

  // A CSR that is not one: BAD_REQUEST.
  agent.send([](proto::AgentToServer &message) {
    message.mutable_connection_settings_request()
        ->mutable_opamp()
        ->mutable_certificate_request()
        ->set_csr("not a CSR");
  });
  EXPECT_TRUE(eventually(
      [&] {
        return agent.count_received([](const proto::ServerToAgent &m) {
          return m.error_response().type() == proto::ServerErrorResponseType_BadRequest &&
                 m.error_response().error_message().find("CSR") != std::string::npos;
        }) == 1;
      },
      kDeadline));
}

// --tls-client-certs request: an agent without a certificate connects (and can send its
// CSR); with the certificate the server's CA issued, the agent's JSON shows it on the
// connection. A CSR naming another instance UID is refused. --tls-client-certs require
// refuses an agent without a certificate.
TEST(OpampServerTlsTest, RequestedClientCertificatesIssuedByTheServerAreShownOnTheAgent) {
  TempDir dir;
  const auto ca_file = (dir.path() / "ca.pem").string();
  OpampServerProcess server(
      {"--tls-self-signed", "--tls-ca-out", ca_file, "--tls-client-certs", "request"});
  IoThread io;
  TestAgentOptions options;
  options.endpoint = server.websocket_url();
  options.tls.ca_file = ca_file;
  TestAgent agent(io.io(), options);
  agent.start();
  const std::string uid = agent.instance_uid_string();
  auto view = wait_for_agent(server, uid, [](const json::value &v) {
    return at(v, {"connection", "connected"}) == json::value(true);
  });
  EXPECT_TRUE(at(view, {"connection", "client_certificate"}).is_null()) << json::serialize(view);

  agent.send([](proto::AgentToServer &message) {
    message.mutable_connection_settings_request()
        ->mutable_opamp()
        ->mutable_certificate_request()
        ->set_csr(make_csr("01920000-0000-7000-8000-000000000042"));
  });
  EXPECT_TRUE(eventually(
      [&] {
        return agent.count_received([](const proto::ServerToAgent &m) {
          return m.error_response().error_message().find("names instance UID") != std::string::npos;
        }) == 1;
      },
      kDeadline));

  std::string key_pem;
  const std::string csr = make_csr(uid, &key_pem);
  agent.send([csr](proto::AgentToServer &message) {
    message.mutable_connection_settings_request()
        ->mutable_opamp()
        ->mutable_certificate_request()
        ->set_csr(csr);
  });
  auto has_certificate = [](const proto::ServerToAgent &m) {
    return !m.connection_settings().opamp().certificate().cert().empty();
  };
  ASSERT_TRUE(eventually([&] { return agent.count_received(has_certificate) == 1; }, kDeadline));
  std::string cert_pem;
  for (const auto &message : agent.observations().messages) {
    if (has_certificate(message))
      cert_pem = message.connection_settings().opamp().certificate().cert();
  }
  agent.stop();

  TestAgentOptions mutual = options;
  mutual.instance_uid = agent.instance_uid();
  mutual.tls.cert_pem = cert_pem;
  mutual.tls.key_pem = key_pem;
  TestAgent again(io.io(), mutual);
  again.start();
  view = wait_for_agent(server, uid, [](const json::value &v) {
    return at(v, {"connection", "connected"}) == json::value(true) &&
           at(v, {"connection", "client_certificate"}).is_object();
  });
  EXPECT_EQ(string_at(view, {"connection", "client_certificate", "subject"}), "CN=" + uid)
      << json::serialize(view);
  EXPECT_EQ(string_at(view, {"connection", "client_certificate", "issuer"}), "CN=opamp-server CA");
  auto cert = parse_cert(cert_pem);
  ASSERT_TRUE(cert);
  BIGNUM *serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert.get()), nullptr);
  char *hex = BN_bn2hex(serial);
  EXPECT_EQ(string_at(view, {"connection", "client_certificate", "serial"}), hex);
  OPENSSL_free(hex);
  BN_free(serial);
  EXPECT_EQ(string_at(view, {"connection", "client_certificate", "not_after"}).size(), 20u)
      << json::serialize(view);
  // The agent page shows it too.
  const auto page = http_get(server.ui_url() + "/agents/" + uid);
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("client certificate CN=" + uid), std::string::npos) << page.body;
}

TEST(OpampServerTlsTest, RequiredClientCertificatesRefuseAnAgentWithoutOne) {
  TempDir dir;
  const auto ca_file = (dir.path() / "ca.pem").string();
  OpampServerProcess server(
      {"--tls-self-signed", "--tls-ca-out", ca_file, "--tls-client-certs", "require"});
  IoThread io;
  TestAgentOptions options;
  options.endpoint = server.websocket_url();
  options.tls.ca_file = ca_file;
  TestAgent stranger(io.io(), options);
  stranger.start();
  EXPECT_TRUE(eventually([&] { return stranger.observations().disconnects >= 1; }, kDeadline));
  EXPECT_EQ(stranger.observations().connects, 0);
  EXPECT_TRUE(server.agent(stranger.instance_uid_string()).is_null());
}

}  // namespace
}  // namespace opsup::testing
