// The rule that turns an OpAMPConnectionSettings offer into the OpAMP connection's settings:
// endpoint, offered headers against the configured ones and the auth extension, client
// certificate, CAs and the refusals (connection_offer.hpp).
#include "session/connection_offer.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "opamp.pb.h"

namespace opsup::session {
namespace {

namespace proto = ::opamp::proto::v1;

SessionOptions configured() {
  SessionOptions options;
  options.endpoint = "wss://configured.example:4320/v1/opamp";
  options.headers = {{"X-Tenant", "configured"}, {"X-Keep", "kept"}};
  options.tls.ca_file = "/etc/ca.pem";
  options.tls.cert_file = "/etc/client.pem";
  options.tls.key_file = "/etc/client.key";
  return options;
}

std::string with_header(proto::OpAMPConnectionSettings offer, const std::string &name,
                        const std::string &value) {
  auto *header = offer.mutable_headers()->add_headers();
  header->set_key(name);
  header->set_value(value);
  return offer.SerializeAsString();
}

TEST(ConnectionOffer, AnEmptyEndpointKeepsTheCurrentOne) {
  proto::OpAMPConnectionSettings offer;
  offer.set_heartbeat_interval_seconds(7);
  const auto result = read_connection_offer(offer.SerializeAsString(), configured(), "ws://now");
  EXPECT_EQ(result.settings.endpoint, "ws://now");
  EXPECT_EQ(result.heartbeat_interval.count(), 7);
  // Nothing offered: the configured headers and TLS.
  ASSERT_EQ(result.settings.headers.size(), 2u);
  EXPECT_EQ(result.settings.tls.cert_file, "/etc/client.pem");
  EXPECT_EQ(result.settings.tls.ca_file, "/etc/ca.pem");
}

TEST(ConnectionOffer, OfferedHeadersReplaceSameNamedConfiguredOnesAndAddTheRest) {
  proto::OpAMPConnectionSettings offer;
  offer.set_destination_endpoint("ws://new:1/v1/opamp");
  auto bytes = with_header(offer, "x-tenant", "offered");
  offer.ParseFromString(bytes);
  bytes = with_header(offer, "X-Extra", "added");
  const auto result = read_connection_offer(bytes, configured(), "ws://now");
  EXPECT_EQ(result.settings.endpoint, "ws://new:1/v1/opamp");
  ASSERT_EQ(result.settings.headers.size(), 3u);
  EXPECT_EQ(result.settings.headers[0].name, "X-Keep");
  EXPECT_EQ(result.settings.headers[1].name, "x-tenant");
  EXPECT_EQ(result.settings.headers[1].value, "offered");
  EXPECT_EQ(result.settings.headers[2].name, "X-Extra");
  EXPECT_FALSE(result.notes.empty());
}

TEST(ConnectionOffer, TheConfiguredAuthExtensionWinsOverAnOfferedAuthorization) {
  SessionOptions options = configured();
  options.auth = BasicAuth{"user", "pw"};
  const auto result = read_connection_offer(with_header({}, "Authorization", "Bearer offered"),
                                            options, "ws://now");
  for (const auto &header : result.settings.headers)
    EXPECT_NE(header.name, "Authorization");
  ASSERT_EQ(result.notes.size(), 1u);
  EXPECT_NE(result.notes[0].find("server.auth"), std::string::npos);
  EXPECT_EQ(result.notes[0].find("Bearer offered"), std::string::npos);  // no secret in notes

  // A bearer extension with its own header name protects that name instead.
  BearerTokenAuth bearer;
  bearer.token = "t";
  bearer.header = "X-Token";
  options.auth = bearer;
  const auto custom =
      read_connection_offer(with_header({}, "x-token", "offered"), options, "ws://now");
  for (const auto &header : custom.settings.headers)
    EXPECT_NE(header.name, "x-token");
  // Without auth an offered Authorization is used.
  const auto plain = read_connection_offer(with_header({}, "Authorization", "Bearer offered"),
                                           configured(), "ws://now");
  EXPECT_EQ(plain.settings.headers.back().name, "Authorization");
}

TEST(ConnectionOffer, AnOfferedCertificateAndCasReplaceTheConfiguredOnes) {
  proto::OpAMPConnectionSettings offer;
  offer.mutable_certificate()->set_cert("CERT");
  offer.mutable_certificate()->set_private_key("KEY");
  offer.mutable_certificate()->set_ca_cert("ISSUER");
  offer.mutable_tls()->set_ca_pem_contents("SERVER-CA\n");
  offer.mutable_tls()->set_min_version("1.3");
  const auto result = read_connection_offer(offer.SerializeAsString(), configured(), "wss://x");
  EXPECT_EQ(result.settings.tls.cert_pem, "CERT");
  EXPECT_EQ(result.settings.tls.key_pem, "KEY");
  EXPECT_TRUE(result.settings.tls.cert_file.empty());
  EXPECT_TRUE(result.settings.tls.ca_file.empty());
  EXPECT_EQ(result.settings.tls.ca_pem, "SERVER-CA\nISSUER");
  EXPECT_EQ(result.settings.tls.min_version, "1.3");
  EXPECT_FALSE(result.settings.tls.insecure_skip_verify);
}

TEST(ConnectionOffer, AnAbsentCertificateNeverTurnsVerificationOff) {
  SessionOptions options = configured();
  options.tls = {};
  proto::OpAMPConnectionSettings offer;
  offer.set_destination_endpoint("wss://new/v1/opamp");
  const auto result = read_connection_offer(offer.SerializeAsString(), options, "wss://x");
  EXPECT_FALSE(result.settings.tls.insecure_skip_verify);
  EXPECT_TRUE(result.settings.tls.cert_pem.empty());
}

TEST(ConnectionOffer, RefusalsNameTheField) {
  auto refused = [](const proto::OpAMPConnectionSettings &offer, const SessionOptions &options) {
    try {
      read_connection_offer(offer.SerializeAsString(), options, "ws://now");
    } catch (const std::invalid_argument &error) {
      return std::string(error.what());
    }
    return std::string();
  };
  proto::OpAMPConnectionSettings skip;
  skip.mutable_tls()->set_insecure_skip_verify(true);
  EXPECT_NE(refused(skip, configured()).find("tls.insecure_skip_verify"), std::string::npos);
  SessionOptions skipping = configured();
  skipping.tls.insecure_skip_verify = true;
  EXPECT_EQ(refused(skip, skipping), "");  // the configuration already skips it

  proto::OpAMPConnectionSettings half;
  half.mutable_certificate()->set_cert("CERT");
  EXPECT_NE(refused(half, configured()).find("certificate"), std::string::npos);

  EXPECT_THROW(read_connection_offer("\xff\xff\xff", configured(), "ws://now"),
               std::invalid_argument);
}

}  // namespace
}  // namespace opsup::session
