// Client certificates by CSR end to end (issue 11, item 3): opampsupervisor with
// plugins.connection_settings.request_client_certificate and the real Collector, against a
// real tools/opamp-server serving TLS (--tls-self-signed) that asks for client certificates
// issued by its own CA (--tls-client-certs request) and signs CSRs with that CA. The server
// receives the CSR naming the instance UID, issues the certificate, and the supervisor
// reconnects with it (the server sees the client certificate on the connection); a restart
// connects with the same certificate at once; a new instance UID brings a new CSR and a new
// certificate.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <yaml-cpp/yaml.h>

#include <boost/json/serialize.hpp>

#include <csignal>
#include <fstream>
#include <regex>
#include <sstream>

#include "supervisor_fixture.hpp"
#include "support/collector.hpp"

namespace opsup::testing {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;
constexpr auto kDeadline = 60s;

constexpr const char *kConfig =
    "capabilities:\n"
    "  accepts_opamp_connection_settings: true\n"
    "  reports_connection_settings_status: true\n"
    "plugins:\n"
    "  connection_settings:\n"
    "    request_client_certificate: true\n";

bool connected(const json::value &agent) {
  return at(agent, {"connection", "connected"}) == json::value(true);
}

std::string client_subject(const json::value &agent) {
  return string_at(agent, {"connection", "client_certificate", "subject"});
}

std::string read_text(const std::filesystem::path &path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class ClientCertificateE2E : public ::testing::Test {
 protected:
  TempDir dir_;
  TempDir modules_;
  std::filesystem::path ca_file_ = dir_.path() / "opamp-ca.pem";
  std::filesystem::path collector_config_ =
      dir_.write_file("collector.yaml", YAML::Dump(minimal_pipeline_config()));
  OpampServerProcess server_{
      {"--tls-self-signed", "--tls-ca-out", ca_file_.string(), "--tls-client-certs", "request"}};

  void SetUp() override {
    std::filesystem::copy_file(OPSUP_CONNECTION_SETTINGS_MODULE,
                               modules_.path() / "connection_settings.so");
    std::filesystem::copy_file(OPSUP_HEALTH_MODULE, modules_.path() / "health.so");
    ASSERT_EQ(server_.websocket_url().rfind("wss://", 0), 0u) << server_.websocket_url();
  }

  SupervisorRun run() const {
    return {.endpoint = server_.websocket_url(),
            .storage = dir_.path() / "storage",
            .modules_dir = modules_.path(),
            .extra_yaml = kConfig,
            .server_yaml = "  tls:\n    ca_file: " + ca_file_.string() + "\n",
            .collector = collector_executable(CollectorKind::kReal),
            // Internal metrics off: no fixed port (8888) has to be free.
            .agent_yaml = "  config_files:\n    - " + collector_config_.string() + "\n"};
  }

  json::value wait_for_agent(const std::string &uid,
                             const std::function<bool(const json::value &)> &condition) {
    json::value agent;
    eventually(
        [&] {
          agent = server_.agent(uid);
          return !agent.is_null() && condition(agent);
        },
        kDeadline);
    return agent;
  }

  // Waits until the agent is connected with a client certificate naming it and has reported
  // the certificate's offer APPLIED; returns the view.
  json::value wait_for_mutual_tls(const std::string &uid) {
    return wait_for_agent(uid, [&](const json::value &agent) {
      return connected(agent) && client_subject(agent).find("CN=" + uid) != std::string::npos &&
             string_at(agent, {"connection_settings_status", "status"}) == "APPLIED";
    });
  }

  static void stop(ChildProcess &supervisor) {
    supervisor.send_signal(SIGTERM);
    EXPECT_EQ(supervisor.wait_exit(kDeadline), 0) << supervisor.output();
  }
};

TEST_F(ClientCertificateE2E,
       TheIssuedCertificateIsUsedForMutualTlsAcrossRestartsAndRenewedForANewUid) {
  auto supervisor = start_supervisor(run(), dir_.path());
  const std::string uid = wait_for_connected_agent(server_, kDeadline);
  ASSERT_FALSE(uid.empty()) << supervisor->output();

  // The server got the CSR, signed it, and the supervisor came back with the certificate,
  // the real Collector running healthy meanwhile.
  wait_for_mutual_tls(uid);
  const json::value mutual = wait_for_agent(uid, [](const json::value &agent) {
    return connected(agent) && at(agent, {"health", "healthy"}) == json::value(true);
  });
  EXPECT_EQ(at(mutual, {"health", "healthy"}), json::value(true)) << json::serialize(mutual);
  ASSERT_NE(client_subject(mutual).find("CN=" + uid), std::string::npos)
      << json::serialize(mutual) << supervisor->output();
  EXPECT_NE(client_subject(mutual).find("O=opamp-supervisor"), std::string::npos)
      << json::serialize(mutual);
  EXPECT_EQ(at(mutual, {"certificate_request", "signed"}), json::value(true))
      << json::serialize(mutual);
  EXPECT_GE(at(mutual, {"connection", "connection_count"}).to_number<int64_t>(), 2)
      << json::serialize(mutual);
  const std::string serial = string_at(mutual, {"connection", "client_certificate", "serial"});
  EXPECT_FALSE(serial.empty());
  EXPECT_FALSE(string_at(mutual, {"connection", "client_certificate", "not_after"}).empty());
  // The key stays private: 0600 in the storage directory, never in the log.
  const auto key_file = dir_.path() / "storage" / "client_certificate_key.pem";
  struct stat info {};
  ASSERT_EQ(::stat(key_file.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  const std::string key = read_text(key_file);
  const std::string key_line = key.substr(key.find('\n') + 1, 40);
  stop(*supervisor);
  EXPECT_EQ(supervisor->output().find(key_line), std::string::npos);

  // A restart connects with the same certificate from the first message on: no new CSR.
  const int64_t connections =
      at(server_.agent(uid), {"connection", "connection_count"}).to_number<int64_t>();
  supervisor = start_supervisor(run(), dir_.path());
  const json::value again = wait_for_agent(uid, [&](const json::value &agent) {
    return connected(agent) &&
           at(agent, {"connection", "connection_count"}).to_number<int64_t>() > connections;
  });
  EXPECT_EQ(string_at(again, {"connection", "client_certificate", "serial"}), serial)
      << json::serialize(again) << supervisor->output();
  EXPECT_EQ(at(again, {"connection", "connection_count"}).to_number<int64_t>(), connections + 1)
      << json::serialize(again);
  stop(*supervisor);

  // A new instance UID (written into persistent_state.yaml while stopped): a new key, a new
  // CSR naming the new UID, and a new certificate in use.
  const std::string new_uid = "01920000-0000-7000-8000-0000000000c5";
  const auto state_file = dir_.path() / "storage" / "persistent_state.yaml";
  const std::string state = read_text(state_file);
  ASSERT_NE(state.find("instance_id: " + uid), std::string::npos) << state;
  // Only instance_id: the module's own keys stay as the last run left them.
  std::ofstream(state_file) << std::regex_replace(state, std::regex("instance_id: " + uid),
                                                  "instance_id: " + new_uid);
  supervisor = start_supervisor(run(), dir_.path());
  const json::value renewed = wait_for_mutual_tls(new_uid);
  EXPECT_NE(client_subject(renewed).find("CN=" + new_uid), std::string::npos)
      << json::serialize(renewed) << supervisor->output();
  EXPECT_NE(string_at(renewed, {"connection", "client_certificate", "serial"}), serial);
  EXPECT_NE(read_text(key_file), key);
  stop(*supervisor);
}

}  // namespace
}  // namespace opsup::testing
