// opamp-server signs the packages it offers without a signature with its own ECDSA P-256
// key (generated at start, or --package-signing-key), and shows the public key at
// GET /api/package-signing-key: what it signs verifies with core/packages against that PEM.
#include <gtest/gtest.h>
#include <boost/json/serialize.hpp>

#include <filesystem>
#include <memory>

#include "encoding.hpp"
#include "packages/signature.hpp"
#include "support/http.hpp"
#include "support/temp_dir.hpp"
#include "test_fixture.hpp"
#include "unit/packages/test_pki.hpp"

namespace opsup::testing {
namespace {

namespace json = boost::json;

class PackageSigningTest : public ::testing::Test {
 protected:
  void start(std::vector<std::string> args = {}) {
    server_ = std::make_unique<OpampServerProcess>(std::move(args));
    TestAgentOptions options;
    options.endpoint = server_->websocket_url();
    agent_ = std::make_unique<TestAgent>(io_.io(), options);
    agent_->start();
    uid_ = agent_->instance_uid_string();
    auto view = wait_for_agent(*server_, uid_, [](const json::value &v) {
      return at(v, {"connection", "connected"}) == json::value(true);
    });
    ASSERT_EQ(at(view, {"connection", "connected"}), json::value(true)) << json_text(view);
  }

  std::string public_key_pem() const {
    const auto answer = http_get(server_->ui_url() + "/api/package-signing-key");
    EXPECT_EQ(answer.status, 200) << answer.error;
    return answer.body;
  }

  // Offers `entry` as package "addon" and returns the offered signature (the OpAMP bytes).
  std::string offer(const std::string &entry) {
    const auto answer = server_->post_json("/api/agents/" + uid_ + "/packages",
                                           R"({"packages": {"addon": )" + entry + "}}");
    EXPECT_EQ(answer.status, 200) << json_text(answer.body);
    const auto view = server_->agent(uid_);
    const std::string encoded =
        string_at(view, {"packages_offer", "packages", "addon", "signature_base64"});
    return opamp_server::base64_decode(encoded).value_or("not base64: " + encoded);
  }

  packages::SignatureResult verify(const std::string &pem, const std::filesystem::path &file,
                                   const std::string &signature) const {
    packages::SignaturePolicy policy;
    policy.public_keys_pem = {pem};
    return packages::verify_file_signature(policy, file, signature);
  }

  TempDir dir_;
  std::unique_ptr<OpampServerProcess> server_;
  IoThread io_;
  std::unique_ptr<TestAgent> agent_;
  std::string uid_;
};

TEST_F(PackageSigningTest, AnUnsignedPackageIsSignedWithTheGeneratedKey) {
  start();
  const auto file = dir_.write_file("addon.bin", std::string(100000, 'a') + "end\n");
  const std::string entry =
      R"({"type": "Addon", "version": "1", "file_path": ")" + file.string() + R"("})";
  const std::string signature = offer(entry);
  ASSERT_FALSE(signature.empty());
  EXPECT_EQ(signature.find(' '), std::string::npos) << "key-based format: " << signature;
  const std::string pem = public_key_pem();
  EXPECT_EQ(pem.rfind("-----BEGIN PUBLIC KEY-----", 0), 0u) << pem;
  const auto result = verify(pem, file, signature);
  EXPECT_EQ(result.status, packages::SignatureStatus::kVerified) << result.reason;

  // Offered again as the stored package, it keeps its signature, so its hash stays the same.
  EXPECT_EQ(offer(R"({"type": "Addon", "version": "1"})"), signature);

  // Another key does not verify it.
  const auto other = verify(generate_key(KeyType::kP256).public_pem, file, signature);
  EXPECT_EQ(other.status, packages::SignatureStatus::kSignatureMismatch) << other.reason;
}

TEST_F(PackageSigningTest, AGivenOrEmptySignatureIsKept) {
  start();
  EXPECT_EQ(offer(R"({"content": "x", "signature_base64": "U0lH"})"), "SIG");
  EXPECT_EQ(offer(R"({"content": "x", "signature_base64": ""})"), "");
}

TEST_F(PackageSigningTest, TheKeyFromTheCommandLineSigns) {
  const TestKey key = generate_key(KeyType::kP256);
  const auto key_file = dir_.write_file("signing.pem", key.private_pem);
  start({"--package-signing-key", key_file.string()});
  EXPECT_EQ(public_key_pem(), key.public_pem);
  const auto file = dir_.write_file("addon.bin", "content\n");
  const std::string signature =
      offer(R"({"type": "Addon", "file_path": ")" + file.string() + R"("})");
  const auto result = verify(key.public_pem, file, signature);
  EXPECT_EQ(result.status, packages::SignatureStatus::kVerified) << result.reason;
}

TEST_F(PackageSigningTest, AGeneratedKeyIsWrittenPrivately) {
  const auto key_file = dir_.path() / "generated.pem";
  start({"--package-signing-key-out", key_file.string()});
  ASSERT_TRUE(std::filesystem::exists(key_file));
  EXPECT_EQ(std::filesystem::status(key_file).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  const std::string pem = public_key_pem();
  // The written key restarts the server with the same public key.
  start({"--package-signing-key", key_file.string()});
  EXPECT_EQ(public_key_pem(), pem);
}

TEST_F(PackageSigningTest, AKeyThatIsNotP256IsRefused) {
  const auto key_file = dir_.write_file("ed25519.pem", generate_key(KeyType::kEd25519).private_pem);
  try {
    OpampServerProcess server({"--package-signing-key", key_file.string()});
    ADD_FAILURE() << "opamp-server started with an Ed25519 signing key";
  } catch (const std::runtime_error &error) {
    EXPECT_NE(std::string(error.what()).find("is not an ECDSA P-256"), std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace opsup::testing
