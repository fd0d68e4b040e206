// TLS: certificates made in the test; verification on by default, hostname checks,
// server_name_override, mTLS, insecure_skip_verify, and errors naming the bad key.
#include <gtest/gtest.h>

#include "test_certs.hpp"
#include "test_util.hpp"
#include "transport/http_client.hpp"
#include "transport/http_server.hpp"

namespace opsup::transport::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using opsup::testing::CertAndKey;
using opsup::testing::CertRequest;

class TlsFixture : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new opsup::testing::TestPki(opsup::testing::make_test_pki());
  }
  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
  }

  static ServerTlsSettings server_tls(const CertAndKey &identity) {
    ServerTlsSettings tls;
    tls.cert_pem = identity.cert_pem;
    tls.key_pem = identity.key_pem;
    return tls;
  }
  void start_server(ServerTlsSettings tls) {
    ServerOptions options;
    options.tls = std::move(tls);
    server = ServerTransport::create(io, std::move(options), server_handler);
    server->start();
  }
  ClientOptions client_options(const std::string &url) const {
    ClientOptions options;
    options.endpoint = url;
    options.tls.ca_pem = pki_->ca.cert_pem;
    options.connect_timeout = 10s;
    return options;
  }
  // Connects, exchanges one message, and reports whether that worked.
  bool round_trip(ClientOptions options) {
    ClientRecorder handler;
    auto client = ClientTransport::create(io, std::move(options), handler);
    handler.outbox.push_back("ping");
    client->connect();
    run_until(io, [&] { return !handler.received.empty() || !handler.disconnects.empty(); });
    last_disconnect = handler.disconnects.empty() ? "" : handler.disconnects[0].reason;
    client->abort();
    return handler.received.size() == 1 && handler.received[0] == "echo:ping";
  }

  static opsup::testing::TestPki *pki_;
  asio::io_context io;
  ServerRecorder server_handler;
  std::unique_ptr<ServerTransport> server;
  std::string last_disconnect;
};

opsup::testing::TestPki *TlsFixture::pki_ = nullptr;

TEST_F(TlsFixture, WssAndHttpsRoundTripsWithTheCa) {
  start_server(server_tls(pki_->server));
  EXPECT_TRUE(contains(server->websocket_url(), "wss://"));
  EXPECT_TRUE(round_trip(client_options(server->websocket_url()))) << last_disconnect;
  EXPECT_TRUE(round_trip(client_options(server->http_url()))) << last_disconnect;
  auto localhost =
      client_options("wss://localhost:" + std::to_string(server->port()) + "/v1/opamp");
  EXPECT_TRUE(round_trip(localhost)) << last_disconnect;
}

TEST_F(TlsFixture, CaAndIdentityFromFiles) {
  TempDir dir;
  ServerTlsSettings tls;
  tls.cert_file = opsup::testing::write_file(dir.path() / "server.pem", pki_->server.cert_pem);
  tls.key_file = opsup::testing::write_file(dir.path() / "server.key", pki_->server.key_pem);
  tls.client_ca_file = opsup::testing::write_file(dir.path() / "ca.pem", pki_->ca.cert_pem);
  tls.require_client_certificate = true;
  start_server(tls);
  auto options = client_options(server->websocket_url());
  options.tls.ca_pem.clear();
  options.tls.ca_file = tls.client_ca_file;
  options.tls.cert_file =
      opsup::testing::write_file(dir.path() / "client.pem", pki_->client.cert_pem);
  options.tls.key_file =
      opsup::testing::write_file(dir.path() / "client.key", pki_->client.key_pem);
  EXPECT_TRUE(round_trip(options)) << last_disconnect;
}

TEST_F(TlsFixture, UnknownCaIsRefusedByDefaultAndAcceptedWithInsecureSkipVerify) {
  start_server(server_tls(pki_->server));
  ClientOptions options;
  options.endpoint = server->websocket_url();  // system CA pool only
  EXPECT_FALSE(round_trip(options));
  EXPECT_TRUE(contains(last_disconnect, "TLS handshake")) << last_disconnect;
  options.tls.insecure_skip_verify = true;
  EXPECT_TRUE(round_trip(options)) << last_disconnect;
}

TEST_F(TlsFixture, SelfSignedServerIsRefusedUnlessVerificationIsSkipped) {
  CertRequest request;
  request.dns_names = {"localhost"};
  request.ip_addresses = {"127.0.0.1"};
  start_server(server_tls(opsup::testing::make_self_signed(request)));
  auto options = client_options(server->http_url());
  EXPECT_FALSE(round_trip(options));
  EXPECT_TRUE(contains(last_disconnect, "certificate")) << last_disconnect;
  options.tls.insecure_skip_verify = true;
  EXPECT_TRUE(round_trip(options)) << last_disconnect;
}

TEST_F(TlsFixture, HostnameIsVerifiedAndServerNameOverrideChangesIt) {
  CertRequest request;
  request.common_name = "opamp.test";
  request.dns_names = {"opamp.test"};
  start_server(server_tls(opsup::testing::issue_cert(pki_->ca, request)));
  auto options = client_options(server->websocket_url());  // 127.0.0.1 is not in the cert
  EXPECT_FALSE(round_trip(options));
  EXPECT_TRUE(contains(last_disconnect, "TLS handshake")) << last_disconnect;
  options.tls.server_name_override = "opamp.test";
  EXPECT_TRUE(round_trip(options)) << last_disconnect;
  options.tls.server_name_override = "other.test";
  EXPECT_FALSE(round_trip(options));
}

TEST_F(TlsFixture, MutualTlsRefusesClientsWithoutACertificate) {
  auto tls = server_tls(pki_->server);
  tls.client_ca_pem = pki_->ca.cert_pem;
  tls.require_client_certificate = true;
  start_server(tls);
  auto options = client_options(server->websocket_url());
  EXPECT_FALSE(round_trip(options));
  EXPECT_FALSE(last_disconnect.empty());
  EXPECT_TRUE(server_handler.connections.empty());

  // A certificate from another CA is refused too.
  auto stranger_ca = opsup::testing::make_ca("stranger CA");
  CertRequest client_request;
  client_request.client_auth = true;
  auto stranger = opsup::testing::issue_cert(stranger_ca, client_request);
  options.tls.cert_pem = stranger.cert_pem;
  options.tls.key_pem = stranger.key_pem;
  EXPECT_FALSE(round_trip(options));

  options.tls.cert_pem = pki_->client.cert_pem;
  options.tls.key_pem = pki_->client.key_pem;
  EXPECT_TRUE(round_trip(options)) << last_disconnect;
  options.endpoint = server->http_url();
  EXPECT_TRUE(round_trip(options)) << last_disconnect;
}

TEST_F(TlsFixture, TlsVersionBounds) {
  start_server(server_tls(pki_->server));
  auto options = client_options(server->websocket_url());
  options.tls.min_version = "1.3";
  EXPECT_TRUE(round_trip(options)) << last_disconnect;
  options.tls.min_version = "1.2";
  options.tls.max_version = "1.2";
  EXPECT_TRUE(round_trip(options)) << last_disconnect;
}

TEST_F(TlsFixture, HttpRequestOverHttps) {
  HttpServerOptions options;
  options.tls = server_tls(pki_->server);
  auto http_server =
      HttpServer::create(io, options, [](const HttpServerRequest &request, auto respond) {
        respond(HttpServerResponse::text(200, request.tls ? "secure" : "plain"));
      });
  http_server->start();
  EXPECT_TRUE(contains(http_server->base_url(), "https://127.0.0.1:"));
  std::optional<HttpResponse> response;
  HttpRequest request;
  request.url = http_server->base_url() + "/token";
  request.tls.ca_pem = pki_->ca.cert_pem;
  http_request(io, request, {[&](HttpResponse r) { response = std::move(r); }, {}, {}, {}});
  ASSERT_TRUE(run_until(io, [&] { return response.has_value(); }));
  EXPECT_EQ(response->status, 200) << response->error;
  EXPECT_EQ(response->body, "secure");

  response.reset();
  request.tls.ca_pem.clear();  // untrusted now
  http_request(io, request, {[&](HttpResponse r) { response = std::move(r); }, {}, {}, {}});
  ASSERT_TRUE(run_until(io, [&] { return response.has_value(); }));
  EXPECT_EQ(response->status, 0);
  EXPECT_TRUE(contains(response->error, "TLS handshake")) << response->error;
}

std::string client_error(ClientTlsSettings tls, const std::string &scheme = "wss") {
  asio::io_context io;
  ClientRecorder handler;
  ClientOptions options;
  options.endpoint = scheme + "://127.0.0.1:1/v1/opamp";
  options.tls = std::move(tls);
  try {
    ClientTransport::create(io, options, handler);
  } catch (const std::invalid_argument &error) {
    return error.what();
  }
  return "";
}

std::string server_error(ServerTlsSettings tls) {
  asio::io_context io;
  ServerRecorder handler;
  ServerOptions options;
  options.tls = std::move(tls);
  try {
    ServerTransport::create(io, options, handler);
  } catch (const std::invalid_argument &error) {
    return error.what();
  }
  return "";
}

TEST_F(TlsFixture, BadClientMaterialNamesTheKey) {
  ClientTlsSettings tls;
  tls.ca_file = "/nonexistent/ca.pem";
  EXPECT_TRUE(contains(client_error(tls), "tls::ca_file")) << client_error(tls);
  EXPECT_TRUE(contains(client_error(tls), "/nonexistent/ca.pem"));
  EXPECT_EQ(client_error(tls, "ws"), "");  // TLS settings only matter for wss/https

  tls = {};
  tls.ca_pem = "not a certificate";
  EXPECT_TRUE(contains(client_error(tls), "tls::ca_pem")) << client_error(tls);

  tls = {};
  tls.cert_pem = "garbage";
  tls.key_pem = pki_->client.key_pem;
  EXPECT_TRUE(contains(client_error(tls), "tls::cert_pem")) << client_error(tls);

  tls = {};
  tls.cert_pem = pki_->client.cert_pem;
  EXPECT_TRUE(contains(client_error(tls), "tls::key_file")) << client_error(tls);

  tls = {};
  tls.cert_pem = pki_->client.cert_pem;
  tls.key_pem = pki_->server.key_pem;  // not this certificate's key
  EXPECT_TRUE(contains(client_error(tls, "https"), "tls::key_pem")) << client_error(tls);

  tls = {};
  tls.min_version = "1.9";
  EXPECT_TRUE(contains(client_error(tls), "tls::min_version")) << client_error(tls);
  tls = {};
  tls.min_version = "1.3";
  tls.max_version = "1.2";
  EXPECT_TRUE(contains(client_error(tls), "tls::max_version")) << client_error(tls);
}

TEST_F(TlsFixture, BadServerMaterialNamesTheKey) {
  EXPECT_TRUE(contains(server_error({}), "tls::cert_file"));
  ServerTlsSettings tls;
  tls.cert_file = "/nonexistent/server.pem";
  tls.key_file = "/nonexistent/server.key";
  EXPECT_TRUE(contains(server_error(tls), "tls::cert_file")) << server_error(tls);
  tls = server_tls(pki_->server);
  tls.key_pem = pki_->client.key_pem;
  EXPECT_TRUE(contains(server_error(tls), "tls::key_pem")) << server_error(tls);
  tls = server_tls(pki_->server);
  tls.require_client_certificate = true;
  EXPECT_TRUE(contains(server_error(tls), "tls::client_ca_file")) << server_error(tls);
}

}  // namespace
}  // namespace opsup::transport::test
