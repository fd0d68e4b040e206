// The packages module end to end: tools/opamp-server offers packages from its package store
// and serves them, the supervisor (capabilities.accepts_packages: true, the real Collector)
// downloads addons into storage/packages/<name>/ and answers with package_statuses, and the
// tests assert on what the server saw and on the files. Upstream's
// SupervisorPackageCapabilitiesReturnError is the opposite here: the capability works.
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <csignal>
#include <fstream>

#include "common/sha256.hpp"
#include "encoding.hpp"
#include "unit/packages/test_pki.hpp"

#include "supervisor_fixture.hpp"
#include "support/collector.hpp"
#include "support/http.hpp"

namespace opsup::testing {
namespace {

using namespace std::chrono_literals;
constexpr auto kDeadline = 60s;

class PackagesE2e : public ::testing::Test {
 protected:
  TempDir dir_;
  TempDir modules_;
  std::unique_ptr<OpampServerProcess> server_ = std::make_unique<OpampServerProcess>();
  std::unique_ptr<ChildProcess> supervisor_;
  std::string uid_;
  std::string server_yaml_;  // inside `server:` (a tls section for a TLS server)

  void SetUp() override {
    std::filesystem::copy_file(OPSUP_PACKAGES_MODULE, modules_.path() / "packages.so");
  }

  // The server's package signing key (GET /api/package-signing-key) in a file.
  std::filesystem::path server_key_file() {
    const auto answer = http_get(server_->ui_url() + "/api/package-signing-key");
    EXPECT_EQ(answer.status, 200) << answer.error;
    return dir_.write_file("opamp-server.pub", answer.body);
  }

  // `allow_unsigned`: plugins.packages.allow_unsigned; `package_yaml`: more of
  // plugins.packages (indented four spaces). Without `package_yaml`, the only key in
  // plugins.packages.signature.public_keys is the server's: it signs what it offers
  // without a signature.
  void start(bool allow_unsigned = true, const std::string &package_yaml = "") {
    std::string extra = "capabilities:\n  accepts_packages: true\nplugins:\n  packages:\n";
    extra += allow_unsigned ? "    allow_unsigned: true\n" : "    allow_unsigned: false\n";
    extra += package_yaml.empty()
                 ? "    signature:\n      public_keys: [" + server_key_file().string() + "]\n"
                 : package_yaml;
    supervisor_ = start_supervisor({.endpoint = server_->websocket_url(),
                                    .storage = dir_.path() / "storage",
                                    .modules_dir = modules_.path(),
                                    .extra_yaml = extra,
                                    .server_yaml = server_yaml_,
                                    .collector = collector_executable(CollectorKind::kReal)},
                                   dir_.path());
    uid_ = wait_for_connected_agent(*server_, kDeadline);
    ASSERT_FALSE(uid_.empty()) << supervisor_->output();
  }

  void stop_supervisor() {
    supervisor_->send_signal(SIGTERM);
    EXPECT_EQ(supervisor_->wait_exit(kDeadline), 0) << supervisor_->output();
  }

  // Offers `body`'s packages to the agent; returns the offer's all_packages_hash (hex).
  std::string offer(const std::string &body) {
    const auto answer = server_->post_json("/api/agents/" + uid_ + "/packages", body);
    EXPECT_EQ(answer.status, 200) << boost::json::serialize(answer.body);
    return string_at(answer.body, {"all_packages_hash"});
  }

  // Waits until the server has package_statuses for `all_hash` where `ready` holds.
  boost::json::value wait_statuses(const std::string &all_hash,
                                   const std::function<bool(const boost::json::value &)> &ready) {
    boost::json::value statuses;
    const bool seen = eventually(
        [&] {
          statuses = at(server_->agent(uid_), {"package_statuses"});
          return statuses.is_object() &&
                 string_at(statuses, {"server_provided_all_packages_hash"}) == all_hash &&
                 ready(statuses);
        },
        kDeadline);
    EXPECT_TRUE(seen) << "the server has " << boost::json::serialize(statuses) << "\n"
                      << supervisor_->output();
    return statuses;
  }

  // Waits until package `name` has `status` in the statuses of `all_hash`.
  boost::json::value wait_status(const std::string &all_hash, const std::string &name,
                                 const std::string &status) {
    return wait_statuses(all_hash, [&](const boost::json::value &statuses) {
      return string_at(statuses, {"packages", name.c_str(), "status"}) == status;
    });
  }

  std::filesystem::path package_dir(const std::string &name) {
    return dir_.path() / "storage" / "packages" / name;
  }
};

constexpr const char *kOneAddon =
    R"({"packages": {"addon": {"type": "Addon", "version": "1.0.0", "content": "hello\n"}}})";

TEST_F(PackagesE2e, SupervisorPackageCapabilitiesWork) {
  start();
  const auto capabilities = at(server_->agent(uid_), {"capabilities", "names"});
  const std::string names = boost::json::serialize(capabilities);
  EXPECT_NE(names.find("\"AcceptsPackages\""), std::string::npos) << names;
  EXPECT_NE(names.find("\"ReportsPackageStatuses\""), std::string::npos) << names;

  const std::string all_hash = offer(kOneAddon);
  ASSERT_FALSE(all_hash.empty());
  const auto statuses = wait_status(all_hash, "addon", "Installed");
  EXPECT_EQ(string_at(statuses, {"packages", "addon", "name"}), "addon");
  EXPECT_EQ(string_at(statuses, {"packages", "addon", "server_offered_version"}), "1.0.0");
  EXPECT_FALSE(string_at(statuses, {"packages", "addon", "server_offered_hash"}).empty());
  EXPECT_EQ(string_at(statuses, {"packages", "addon", "agent_has_version"}), "1.0.0");
  EXPECT_EQ(string_at(statuses, {"packages", "addon", "agent_has_hash"}),
            string_at(statuses, {"packages", "addon", "server_offered_hash"}));
  // The file is in storage/packages/<name>/, with the offered content, and nothing else is.
  EXPECT_EQ(read_file(package_dir("addon") / "addon"), "hello\n");
  EXPECT_EQ(common::sha256(read_file(package_dir("addon") / "addon")), common::sha256("hello\n"));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(package_dir("addon")),
                          std::filesystem::directory_iterator()),
            1);
  // The server saw the download with the offered headers.
  const auto packages = server_->get_json("/api/packages");
  EXPECT_NE(boost::json::serialize(packages).find("\"download_count\":1"), std::string::npos)
      << boost::json::serialize(packages);
  stop_supervisor();
}

// The server signs what it offers without a signature with its own key; the supervisor,
// given the server's public key from GET /api/package-signing-key, checks and installs it.
TEST_F(PackagesE2e, APackageTheServerSignedIsInstalled) {
  start(/*allow_unsigned=*/false);
  const std::string all_hash = offer(kOneAddon);
  const auto offered = server_->agent(uid_);
  EXPECT_FALSE(
      string_at(offered, {"packages_offer", "packages", "addon", "signature_base64"}).empty());
  wait_status(all_hash, "addon", "Installed");
  EXPECT_EQ(read_file(package_dir("addon") / "addon"), "hello\n");
  stop_supervisor();
}

TEST_F(PackagesE2e, AnUnsignedPackageIsRefusedByDefault) {
  start(/*allow_unsigned=*/false);
  // An empty signature_base64 offers the package unsigned (the server does not sign it).
  const std::string all_hash = offer(
      R"({"packages": {"addon": {"type": "Addon", "version": "1.0.0", "content": "hello\n",
                                 "signature_base64": ""}}})");
  const auto statuses = wait_status(all_hash, "addon", "InstallFailed");
  EXPECT_NE(string_at(statuses, {"packages", "addon", "error_message"}).find("not signed"),
            std::string::npos)
      << boost::json::serialize(statuses);
  EXPECT_FALSE(std::filesystem::exists(package_dir("addon")));
  stop_supervisor();
}

// A package signed as `cosign sign-blob --key` does, offered with its signature; the
// supervisor is configured with `trusted` as its only key.
std::string signed_offer(const TestKey &signer, const std::string &content) {
  const std::string cosign_text = opamp_server::base64_encode(sign_blob(signer, content));
  return R"({"packages": {"addon": {"type": "Addon", "version": "1.0.0", "content": ")" + content +
         R"(", "signature_base64": ")" + opamp_server::base64_encode(cosign_text) + R"("}}})";
}

TEST_F(PackagesE2e, ASignedPackageIsCheckedWithTheConfiguredKey) {
  const TestKey trusted = generate_key(KeyType::kP256);
  const auto key_file = dir_.write_file("release.pub", trusted.public_pem);
  start(/*allow_unsigned=*/false,
        "    signature:\n      public_keys: [" + key_file.string() + "]\n");
  const std::string all_hash = offer(signed_offer(trusted, "signed content"));
  const auto statuses = wait_status(all_hash, "addon", "Installed");
  EXPECT_EQ(read_file(package_dir("addon") / "addon"), "signed content");
  stop_supervisor();
}

TEST_F(PackagesE2e, ABadSignatureIsRefusedAndNothingIsKept) {
  const TestKey trusted = generate_key(KeyType::kP256);
  const TestKey other = generate_key(KeyType::kP256);
  const auto key_file = dir_.write_file("release.pub", trusted.public_pem);
  start(/*allow_unsigned=*/true,
        "    signature:\n      public_keys: [" + key_file.string() + "]\n");
  const std::string all_hash = offer(signed_offer(other, "signed content"));
  const auto statuses = wait_status(all_hash, "addon", "InstallFailed");
  const std::string error = string_at(statuses, {"packages", "addon", "error_message"});
  EXPECT_NE(error.find("signature check failed"), std::string::npos) << error;
  EXPECT_TRUE(
      eventually([&] { return std::filesystem::is_empty(package_dir("addon")); }, kDeadline));
  stop_supervisor();
}

TEST_F(PackagesE2e, AWrongContentHashIsRefusedAndNothingIsKept) {
  // The server hashes the file when it is stored; it changes before it is offered, so
  // what is served no longer matches the offered content_hash.
  const auto file = dir_.write_file("served.bin", "the original\n");
  const auto stored = server_->post_json(
      "/api/packages", R"({"name": "addon", "file_path": ")" + file.string() + R"("})");
  ASSERT_EQ(stored.status, 200) << boost::json::serialize(stored.body);
  std::ofstream(file, std::ios::trunc) << "something else\n";
  start();
  const std::string all_hash =
      offer(R"({"packages": {"addon": {"type": "Addon", "version": "1.0.0"}}})");
  const auto statuses = wait_status(all_hash, "addon", "InstallFailed");
  const std::string error = string_at(statuses, {"packages", "addon", "error_message"});
  EXPECT_NE(error.find("content hash mismatch"), std::string::npos) << error;
  EXPECT_TRUE(string_at(statuses, {"packages", "addon", "agent_has_hash"}).empty());
  // Neither the file nor the partial download is kept.
  EXPECT_TRUE(
      eventually([&] { return std::filesystem::is_empty(package_dir("addon")); }, kDeadline));
  stop_supervisor();
}

TEST_F(PackagesE2e, AnInterruptedDownloadResumesWithRange) {
  // Bytes kept from an interrupted download of the same content (the host keeps them under
  // a name carrying the content hash) are not fetched again: the rest comes with Range.
  const std::string content = "0123456789abcdef\n";
  std::string hex;
  for (unsigned char byte : common::sha256(content)) {
    static constexpr char kDigits[] = "0123456789abcdef";
    hex += kDigits[byte >> 4];
    hex += kDigits[byte & 0xF];
  }
  std::filesystem::create_directories(package_dir("addon"));
  std::ofstream(package_dir("addon") / (".download-" + hex + ".partial"), std::ios::binary)
      << content.substr(0, 6);
  start();
  const std::string all_hash =
      offer(R"({"packages": {"addon": {"type": "Addon", "version": "1.0.0", "content": ")" +
            std::string("0123456789abcdef\\n") + R"(", "headers": {"X-Test-Token": "t1"}}}})");
  wait_status(all_hash, "addon", "Installed");
  EXPECT_EQ(read_file(package_dir("addon") / "addon"), content);
  const std::string packages = boost::json::serialize(server_->get_json("/api/packages"));
  EXPECT_NE(packages.find("\"bytes=6-\""), std::string::npos) << packages;
  EXPECT_NE(packages.find("\"t1\""), std::string::npos) << packages;
  EXPECT_FALSE(std::filesystem::exists(package_dir("addon") / (".download-" + hex + ".partial")));
  stop_supervisor();
}

TEST_F(PackagesE2e, StatusesSurviveASupervisorRestart) {
  start();
  const std::string all_hash = offer(kOneAddon);
  wait_status(all_hash, "addon", "Installed");
  stop_supervisor();
  // The server forgets the agent and its offer: what it learns next comes from the
  // supervisor's persisted state alone.
  const auto deleted = http_send("DELETE", server_->ui_url() + "/api/agents/" + uid_, "", "");
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  start();
  const auto statuses = wait_status(all_hash, "addon", "Installed");
  EXPECT_EQ(string_at(statuses, {"packages", "addon", "agent_has_version"}), "1.0.0");
  EXPECT_EQ(read_file(package_dir("addon") / "addon"), "hello\n");
  stop_supervisor();
}

TEST_F(PackagesE2e, AWithdrawnPackageIsRemoved) {
  start();
  const std::string first = offer(
      R"({"packages": {"addon": {"type": "Addon", "version": "1.0.0", "content": "a\n"},
                       "other": {"type": "Addon", "version": "2.0.0", "content": "b\n"}}})");
  wait_status(first, "other", "Installed");
  ASSERT_TRUE(std::filesystem::exists(package_dir("other") / "other"));
  const std::string second = offer(R"({"merge": true, "remove": ["other"]})");
  ASSERT_NE(second, first);
  const auto statuses = wait_statuses(second, [](const boost::json::value &statuses) {
    return at(statuses, {"packages", "other"}).is_null();
  });
  EXPECT_EQ(string_at(statuses, {"packages", "addon", "status"}), "Installed");
  EXPECT_FALSE(std::filesystem::exists(package_dir("other")));
  EXPECT_EQ(read_file(package_dir("addon") / "addon"), "a\n");
  stop_supervisor();
}

// A server on TLS whose packages come from an HTTPS listener of their own
// (--packages-listen); OpAMP trusts the server's CA through server.tls. Returns the CA file.
std::filesystem::path use_tls_server(TempDir &dir, std::unique_ptr<OpampServerProcess> &server,
                                     std::string &server_yaml) {
  const auto ca_file = dir.path() / "server-ca.pem";
  server.reset();
  server = std::make_unique<OpampServerProcess>(std::vector<std::string>{
      "--tls-self-signed", "--tls-ca-out", ca_file.string(), "--packages-listen", "127.0.0.1:0"});
  EXPECT_EQ(server->packages_url().rfind("https://", 0), 0u) << server->packages_url();
  server_yaml = "  tls:\n    ca_file: " + ca_file.string() + "\n";
  return ca_file;
}

TEST_F(PackagesE2e, AnHttpsDownloadVerifiesThePackageServerWithPluginsPackagesTls) {
  const auto ca_file = use_tls_server(dir_, server_, server_yaml_);
  start(/*allow_unsigned=*/false, "    signature:\n      public_keys: [" +
                                      server_key_file().string() +
                                      "]\n    tls:\n      ca_file: " + ca_file.string() + "\n");
  const std::string all_hash = offer(kOneAddon);
  const std::string url =
      string_at(server_->agent(uid_), {"packages_offer", "packages", "addon", "download_url"});
  EXPECT_EQ(url.rfind(server_->packages_url(), 0), 0u) << url;
  wait_status(all_hash, "addon", "Installed");
  EXPECT_EQ(read_file(package_dir("addon") / "addon"), "hello\n");
  stop_supervisor();
}

TEST_F(PackagesE2e, AnHttpsDownloadFromAnUntrustedServerFailsAndNothingIsKept) {
  // The OpAMP connection trusts the server's CA (server.tls); downloads do not borrow it:
  // without plugins.packages.tls they trust the system pool only, which lacks that CA.
  use_tls_server(dir_, server_, server_yaml_);
  start(/*allow_unsigned=*/false);
  const std::string all_hash = offer(kOneAddon);
  // A TLS failure may pass (InstallPending, tried again later) like any network failure.
  const auto statuses = wait_statuses(all_hash, [](const boost::json::value &statuses) {
    return !string_at(statuses, {"packages", "addon", "error_message"}).empty();
  });
  const std::string error = string_at(statuses, {"packages", "addon", "error_message"});
  EXPECT_NE(error.find("certificate verify failed"), std::string::npos)
      << boost::json::serialize(statuses);
  EXPECT_FALSE(std::filesystem::exists(package_dir("addon") / "addon"));
  stop_supervisor();
}

}  // namespace
}  // namespace opsup::testing
