// The CSR flow of connection_settings.so in the SDK's FakeHost: with
// request_client_certificate on and a server that accepts connection settings requests, the
// module sends a CSR naming the instance UID (signed by a key it keeps 0600 in the storage
// directory), completes the issued certificate with that key and tries it as an offer,
// withdraws the request, keeps the certificate after a restart, and asks again for a new
// instance UID.
#include <gtest/gtest.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <opsup/opamp_constants.h>
#include <opsup/testing/loaded_module.hpp>

#include <memory>

#include "certificate_request.hpp"
#include "opamp.pb.h"
#include "test_signer.hpp"

namespace opsup::connection_settings {
namespace {

namespace proto = ::opamp::proto::v1;
using opsup::testing::FakeHost;

constexpr const char *kConfig =
    "capabilities:\n  accepts_opamp_connection_settings: true\n"
    "  reports_connection_settings_status: true\n";
constexpr std::array<uint8_t, 16> kUid{0x01, 0x91, 0xa2, 0xb3, 0xc4, 0xd5, 0x7e, 0x6f,
                                       0x80, 0x91, 0xa2, 0xb3, 0xc4, 0xd5, 0xe6, 0xf7};
constexpr const char *kUidText = "0191a2b3-c4d5-7e6f-8091-a2b3c4d5e6f7";
constexpr std::array<uint8_t, 16> kOtherUid{0x01, 0x92, 0, 0, 0, 0, 0x70, 0,
                                            0x80, 0,    0, 0, 0, 0, 0,    0x42};
constexpr const char *kOtherUidText = "01920000-0000-7000-8000-000000000042";
constexpr uint64_t kServerCaps = 0x7f;  // opamp-server's, AcceptsConnectionSettingsRequest included

std::string capabilities_message(uint64_t capabilities = kServerCaps) {
  proto::ServerToAgent message;
  message.set_capabilities(capabilities);
  return message.SerializeAsString();
}

// The CSRs in the fields the module sent, oldest first (one per set_agent_fields that has it).
std::vector<std::string> sent_csrs(const FakeHost &host) {
  std::vector<std::string> found;
  for (const auto &payload : host.agent_fields()) {
    proto::AgentToServer fields;
    if (fields.ParseFromString(payload) && fields.has_connection_settings_request())
      found.push_back(fields.connection_settings_request().opamp().certificate_request().csr());
  }
  return found;
}

bool last_fields_have_request(const FakeHost &host) {
  proto::AgentToServer fields;
  return !host.agent_fields().empty() && fields.ParseFromString(host.agent_fields().back()) &&
         fields.has_connection_settings_request();
}

std::string common_name(const std::string &csr_pem) {
  std::unique_ptr<BIO, decltype(&BIO_free_all)> bio(
      BIO_new_mem_buf(csr_pem.data(), static_cast<int>(csr_pem.size())), BIO_free_all);
  std::unique_ptr<X509_REQ, decltype(&X509_REQ_free)> request(
      PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr), X509_REQ_free);
  if (!request || X509_REQ_verify(request.get(), X509_REQ_get0_pubkey(request.get())) != 1)
    return "(a request that does not verify)";
  char text[128] = "";
  X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(request.get()), NID_commonName, text,
                            sizeof text);
  return text;
}

std::string issued_offer(const std::string &hash, const std::string &cert) {
  proto::ServerToAgent message;
  message.set_capabilities(kServerCaps);
  message.mutable_connection_settings()->set_hash(hash);
  auto *opamp = message.mutable_connection_settings()->mutable_opamp();
  opamp->set_destination_endpoint("wss://127.0.0.1:4320/v1/opamp");
  opamp->mutable_certificate()->set_cert(cert);
  opamp->mutable_certificate()->set_ca_cert("-----BEGIN CERTIFICATE-----\nCA\n");
  return message.SerializeAsString();
}

class ClientCertificateModuleTest : public opsup::testing::LoadedModule {
 protected:
  ClientCertificateModuleTest() : LoadedModule(OPSUP_CONNECTION_SETTINGS_MODULE) {}

  void SetUp() override {
    LoadedModule::SetUp();
    host().set_instance_uid(kUid);
    host().set_setting("request_client_certificate", "true");
  }

  FakeHost &start() {
    EXPECT_EQ(host().create(kConfig), OPSUP_OK) << host().last_error();
    EXPECT_EQ(host().start(), OPSUP_OK) << host().last_error();
    return host();
  }

  testing::TestSigner signer_;
};

TEST_F(ClientCertificateModuleTest, TheServerGetsACsrNamingTheInstanceUidAndTheKeyStaysLocal) {
  FakeHost &host = start();
  // Nothing before the server said what it accepts.
  EXPECT_TRUE(sent_csrs(host).empty());
  ASSERT_EQ(host.storage().count("client_certificate_key.pem"), 1u);
  const std::string key = host.storage()["client_certificate_key.pem"];

  host.set_server_capabilities(kServerCaps);
  host.deliver_server_message(capabilities_message());
  ASSERT_EQ(sent_csrs(host).size(), 1u);
  EXPECT_EQ(common_name(sent_csrs(host)[0]), kUidText);
  EXPECT_EQ(host.persistent_state()["client_certificate_instance_uid"],
            std::string("\"") + kUidText + "\"");
  // The key is never logged.
  const std::string key_body = key.substr(key.find('\n') + 1, 40);
  for (const auto &line : host.logs())
    EXPECT_EQ(line.message.find(key_body), std::string::npos) << line.message;

  // The next message does not send a second request.
  host.deliver_server_message(capabilities_message());
  EXPECT_EQ(sent_csrs(host).size(), 1u);
  EXPECT_TRUE(last_fields_have_request(host));
}

TEST_F(ClientCertificateModuleTest, NoCsrGoesToAServerWithoutAcceptsConnectionSettingsRequest) {
  FakeHost &host = start();
  host.set_server_capabilities(0x3f);
  host.deliver_server_message(capabilities_message(0x3f));
  EXPECT_TRUE(sent_csrs(host).empty());
}

TEST_F(ClientCertificateModuleTest, TheIssuedCertificateIsTriedWithTheModulesKeyAndPersisted) {
  FakeHost &host = start();
  host.set_server_capabilities(kServerCaps);
  host.deliver_server_message(capabilities_message());
  ASSERT_EQ(sent_csrs(host).size(), 1u);
  const std::string cert = signer_.sign(sent_csrs(host)[0]);

  host.deliver_server_message(issued_offer("c1", cert));
  // The request is withdrawn at once.
  EXPECT_FALSE(last_fields_have_request(host));
  ASSERT_EQ(host.connection_trials().size(), 1u);
  proto::OpAMPConnectionSettings tried;
  ASSERT_TRUE(tried.ParseFromString(host.connection_trials()[0].settings));
  EXPECT_EQ(tried.certificate().cert(), cert);
  EXPECT_EQ(tried.certificate().private_key(), host.storage()["client_certificate_key.pem"]);
  EXPECT_TRUE(
      certificate_matches_key(tried.certificate().cert(), tried.certificate().private_key()));

  ASSERT_TRUE(host.complete_connection_trial(OPSUP_OK));
  host.run_ready();
  proto::ConnectionSettingsOffers stored;
  ASSERT_TRUE(stored.ParseFromString(host.storage()["opamp_connection_settings.dat"]));
  EXPECT_EQ(stored.opamp().certificate().cert(), cert);
  EXPECT_FALSE(stored.opamp().certificate().private_key().empty());
  // Later messages ask for nothing more.
  host.deliver_server_message(capabilities_message());
  EXPECT_EQ(sent_csrs(host).size(), 1u);
}

TEST_F(ClientCertificateModuleTest, ACertificateForAnotherKeyIsNotCompleted) {
  FakeHost &host = start();
  host.set_server_capabilities(kServerCaps);
  host.deliver_server_message(capabilities_message());
  const std::string foreign =
      signer_.sign(make_certificate_request(generate_private_key_pem(), kUidText, ""));
  host.deliver_server_message(issued_offer("c2", foreign));
  ASSERT_EQ(host.connection_trials().size(), 1u);
  proto::OpAMPConnectionSettings tried;
  ASSERT_TRUE(tried.ParseFromString(host.connection_trials()[0].settings));
  EXPECT_TRUE(tried.certificate().private_key().empty());  // the core refuses it
  EXPECT_TRUE(last_fields_have_request(host));             // still asking
}

TEST_F(ClientCertificateModuleTest, ARestartWithTheIssuedCertificateAsksForNothing) {
  // What a first run left: the key, its UID, and the switch to the issued certificate.
  const std::string key = generate_private_key_pem();
  const std::string cert = signer_.sign(make_certificate_request(key, kUidText, ""));
  host().storage()["client_certificate_key.pem"] = key;
  host().persistent_state()["client_certificate_instance_uid"] =
      std::string("\"") + kUidText + "\"";
  proto::ConnectionSettingsOffers stored;
  stored.set_hash("c1");
  stored.mutable_opamp()->mutable_certificate()->set_cert(cert);
  stored.mutable_opamp()->mutable_certificate()->set_private_key(key);
  host().storage()["opamp_connection_settings.dat"] = stored.SerializeAsString();

  FakeHost &host = start();
  ASSERT_EQ(host.connection_trials().size(), 1u);
  EXPECT_EQ(host.connection_trials()[0].flags, uint32_t{OPSUP_CONNECTION_COMMITTED});
  host.set_server_capabilities(kServerCaps);
  host.deliver_server_message(capabilities_message());
  EXPECT_TRUE(sent_csrs(host).empty());
  EXPECT_EQ(host.storage()["client_certificate_key.pem"], key);
}

TEST_F(ClientCertificateModuleTest, AKeyMadeForAnotherInstanceUidIsReplacedAtStart) {
  const std::string old_key = generate_private_key_pem();
  host().storage()["client_certificate_key.pem"] = old_key;
  host().persistent_state()["client_certificate_instance_uid"] =
      std::string("\"") + kOtherUidText + "\"";
  FakeHost &host = start();
  EXPECT_NE(host.storage()["client_certificate_key.pem"], old_key);
  host.set_server_capabilities(kServerCaps);
  host.deliver_server_message(capabilities_message());
  ASSERT_EQ(sent_csrs(host).size(), 1u);
  EXPECT_EQ(common_name(sent_csrs(host)[0]), kUidText);
}

TEST_F(ClientCertificateModuleTest, ANewInstanceUidFromTheServerMeansANewKeyAndCsr) {
  FakeHost &host = start();
  host.set_server_capabilities(kServerCaps);
  host.deliver_server_message(capabilities_message());
  const std::string cert = signer_.sign(sent_csrs(host)[0]);
  host.deliver_server_message(issued_offer("c1", cert));
  host.complete_connection_trial(OPSUP_OK);
  host.run_ready();
  const std::string first_key = host.storage()["client_certificate_key.pem"];

  // The server assigns a new UID; the host has adopted it when the module hears of it.
  host.set_instance_uid(kOtherUid);
  proto::ServerToAgent identification;
  identification.set_capabilities(kServerCaps);
  identification.mutable_agent_identification()->set_new_instance_uid(
      std::string(kOtherUid.begin(), kOtherUid.end()));
  host.deliver_server_message(identification.SerializeAsString());
  ASSERT_EQ(sent_csrs(host).size(), 2u);
  EXPECT_EQ(common_name(sent_csrs(host)[1]), kOtherUidText);
  EXPECT_NE(host.storage()["client_certificate_key.pem"], first_key);
  EXPECT_EQ(host.persistent_state()["client_certificate_instance_uid"],
            std::string("\"") + kOtherUidText + "\"");
}

TEST_F(ClientCertificateModuleTest, TheRequestNeedsAcceptsOpAMPConnectionSettings) {
  EXPECT_EQ(host().create("capabilities:\n  reports_connection_settings_status: true\n"),
            OPSUP_ERR_INVALID_ARGUMENT);
  EXPECT_NE(host().last_error().find("plugins.connection_settings.request_client_certificate"),
            std::string::npos)
      << host().last_error();
}

}  // namespace
}  // namespace opsup::connection_settings
