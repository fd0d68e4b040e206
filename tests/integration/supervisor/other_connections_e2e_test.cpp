// AcceptsOtherConnectionSettings end to end: tools/opamp-server offers other connections
// (POST /api/agents/{uid}/other-connections), the connection_settings module points the real
// Collector's same-named exporter at them, and the data the Collector receives arrives at an
// OTLP/HTTP(S) sink inside this test, with the offered header and over mutual TLS with the
// offered material. A name with no exporter is FAILED by name; a restart keeps the offer;
// withdrawing it restores the exporter's own settings and removes the key files. The
// upstream supervisor does not handle other_connections (reference section 2.16), so the
// tests are named after their intent.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <csignal>

#include "e2e_support.hpp"
#include "otlp_http_sink.hpp"
#include "supervisor_fixture.hpp"
#include "support/collector.hpp"
#include "support/ports.hpp"
#include "test_certs.hpp"

namespace opsup::testing {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;
namespace fs = std::filesystem;
constexpr auto kDeadline = 60s;

constexpr const char *kExporter = "otlphttp/backend";

// OTLP/HTTP in on `port`; out through otlphttp/backend, which points at a port nobody
// listens on until the server offers another endpoint (uncompressed, so the test finds the
// span's name in the body).
std::string collector_yaml(uint16_t port) {
  return "receivers:\n  otlp:\n    protocols:\n      http:\n        endpoint: 127.0.0.1:" +
         std::to_string(port) +
         "\nexporters:\n  otlphttp/backend:\n    endpoint: http://127.0.0.1:" +
         std::to_string(free_tcp_port()) +
         "\n    compression: none\n    retry_on_failure:\n      enabled: false\n"
         "service:\n  telemetry:\n    metrics:\n      level: none\n"
         "  pipelines:\n    traces:\n      receivers: [otlp]\n"
         "      exporters: [otlphttp/backend]\n";
}

class OtherConnectionsE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::copy_file(OPSUP_CONNECTION_SETTINGS_MODULE, modules_.path() / "connection_settings.so");
    otlp_port_ = free_tcp_port();
    collector_config_ = dir_.write_file("collector.yaml", collector_yaml(otlp_port_));
  }

  SupervisorRun run(const std::string &endpoint) {
    return {.endpoint = endpoint,
            .storage = storage(),
            .modules_dir = modules_.path(),
            .extra_yaml =
                "capabilities:\n  accepts_other_connection_settings: true\n"
                "  reports_connection_settings_status: true\n",
            .collector = collector_executable(CollectorKind::kReal),
            .agent_yaml = "  config_files:\n    - " + collector_config_.string() + "\n"};
  }

  fs::path storage() const { return dir_.path() / "storage"; }

  // POST /api/agents/{uid}/other-connections; returns the offers' hash (hex).
  static std::string offer(const OpampServerProcess &server, const std::string &uid,
                           const json::object &connections) {
    const auto answer =
        server.post_json("/api/agents/" + uid + "/other-connections",
                         json::serialize(json::object{{"connections", connections}}));
    EXPECT_EQ(answer.status, 200) << json::serialize(answer.body);
    return string_at(answer.body, {"hash"});
  }

  // The agent's view once its connection_settings_status is `status` for `hash`; null at the
  // deadline.
  static json::value wait_for_status(const OpampServerProcess &server, const std::string &uid,
                                     const std::string &status, const std::string &hash) {
    json::value found;
    eventually(
        [&] {
          const json::value agent = server.agent(uid);
          if (agent.is_null() ||
              string_at(agent, {"connection_settings_status", "status"}) != status ||
              string_at(agent, {"connection_settings_status", "last_connection_settings_hash"}) !=
                  hash)
            return false;
          found = agent;
          return true;
        },
        kDeadline);
    return found;
  }

  // The exporter's section of effective.yaml once `accept` holds for it; null at the deadline.
  YAML::Node wait_for_exporter(const std::function<bool(const YAML::Node &)> &accept) {
    YAML::Node found;
    eventually(
        [&] {
          try {
            const YAML::Node exporter =
                YAML::LoadFile((storage() / "effective.yaml").string())["exporters"][kExporter];
            if (!exporter.IsMap() || !accept(exporter))
              return false;
            found = exporter;
            return true;
          } catch (const YAML::Exception &) {
            return false;
          }
        },
        kDeadline);
    return found;
  }

  // Sends spans named `span` into the Collector until one arrives at `sink`; that request.
  std::optional<OtlpHttpSink::Request> span_arrives(const OtlpHttpSink &sink,
                                                    const std::string &span) {
    std::optional<OtlpHttpSink::Request> found;
    eventually(
        [&] {
          for (const auto &request : sink.requests_to("/v1/traces")) {
            if (request.body.find(span) != std::string::npos) {
              found = request;
              return true;
            }
          }
          if (send_span(otlp_port_, span))
            ++spans_sent_;
          return false;
        },
        kDeadline);
    return found;
  }

  // What helps when data did not arrive: spans accepted, the config, the Collector's log.
  std::string diagnostics() const {
    std::string text = "spans accepted by the Collector: " + std::to_string(spans_sent_) + "\n";
    for (const char *name : {"effective.yaml", "agent.log"}) {
      if (fs::exists(storage() / name))
        text += std::string("--- ") + name + "\n" + read_file(storage() / name) + "\n";
    }
    return text;
  }

  static void stop(ChildProcess &supervisor) {
    supervisor.send_signal(SIGTERM);
    EXPECT_EQ(supervisor.wait_exit(kDeadline), 0) << supervisor.output();
  }

  TempDir dir_;
  TempDir modules_;
  uint16_t otlp_port_ = 0;
  size_t spans_sent_ = 0;
  fs::path collector_config_;
};

// The offer points otlphttp/backend at the sink with a tenant header: the server sees
// AcceptsOtherConnectionSettings and APPLIED, effective.yaml carries the endpoint and header,
// and a span sent into the Collector arrives at the sink with the header. After a restart
// with no server to answer, the first config the Collector runs still has the offer.
TEST_F(OtherConnectionsE2E, AnOfferedConnectionPointsTheSameNamedExporterAtTheTestsReceiver) {
  OtlpHttpSink sink;
  {
    OpampServerProcess server;
    auto supervisor = start_supervisor(run(server.websocket_url()), dir_.path());
    const std::string uid = wait_for_connected_agent(server, kDeadline);
    ASSERT_FALSE(uid.empty()) << supervisor->output();
    const std::string capabilities =
        json::serialize(at(server.agent(uid), {"capabilities", "names"}));
    EXPECT_NE(capabilities.find("\"AcceptsOtherConnectionSettings\""), std::string::npos)
        << capabilities;
    ASSERT_TRUE(supervisor->wait_for_line("Collector started \\(pid", kDeadline))
        << supervisor->output();

    const std::string hash = offer(server, uid,
                                   {{kExporter, json::object{{"destination_endpoint", sink.url("")},
                                                             {"headers", {{"x-tenant", "t1"}}}}}});
    ASSERT_FALSE(wait_for_status(server, uid, "APPLIED", hash).is_null())
        << json::serialize(server.agent(uid)) << supervisor->output();
    const YAML::Node exporter = wait_for_exporter([&](const YAML::Node &node) {
      return node["endpoint"] && node["endpoint"].as<std::string>() == sink.url("");
    });
    ASSERT_TRUE(exporter.IsMap()) << supervisor->output();
    EXPECT_EQ(exporter["headers"]["x-tenant"].as<std::string>(), "t1");
    EXPECT_FALSE(exporter["retry_on_failure"]["enabled"].as<bool>())
        << "the exporter's own settings stay";

    const auto request = span_arrives(sink, "offered-connection-span");
    ASSERT_TRUE(request) << diagnostics() << supervisor->output();
    EXPECT_EQ(request->tenant, "t1");
    EXPECT_FALSE(supervisor->output().find("\"t1\"") != std::string::npos &&
                 supervisor->output().find("x-tenant") != std::string::npos)
        << "header values stay out of the log";
    struct stat info {};
    ASSERT_EQ(::stat((storage() / "other_connections.dat").c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0600u);
    stop(*supervisor);
  }

  // No server this time: the kept offer is in the Collector's first config.
  auto supervisor = start_supervisor(
      run("ws://127.0.0.1:" + std::to_string(free_tcp_port()) + "/v1/opamp"), dir_.path());
  ASSERT_TRUE(supervisor->wait_for_line("Collector started \\(pid [0-9]+\\) on config generation 1",
                                        kDeadline))
      << supervisor->output();
  const YAML::Node effective = YAML::LoadFile((storage() / "effective.yaml").string());
  EXPECT_EQ(effective["exporters"][kExporter]["endpoint"].as<std::string>(), sink.url(""))
      << supervisor->output();
  EXPECT_TRUE(span_arrives(sink, "after-restart-span")) << supervisor->output();
  stop(*supervisor);
}

// A name with no such exporter in the Collector's config is FAILED with that name and no
// exporter is invented for it.
TEST_F(OtherConnectionsE2E, ANameWithNoExporterIsFailedNamingIt) {
  OpampServerProcess server;
  auto supervisor = start_supervisor(run(server.websocket_url()), dir_.path());
  const std::string uid = wait_for_connected_agent(server, kDeadline);
  ASSERT_FALSE(uid.empty()) << supervisor->output();
  ASSERT_TRUE(supervisor->wait_for_line("Collector started \\(pid", kDeadline))
      << supervisor->output();

  const std::string hash =
      offer(server, uid,
            {{"otlphttp/nowhere", json::object{{"destination_endpoint", "http://127.0.0.1:9"}}}});
  const json::value agent = wait_for_status(server, uid, "FAILED", hash);
  ASSERT_FALSE(agent.is_null()) << json::serialize(server.agent(uid)) << supervisor->output();
  EXPECT_NE(string_at(agent, {"connection_settings_status", "error_message"})
                .find("no exporter named \"otlphttp/nowhere\""),
            std::string::npos)
      << json::serialize(agent);
  const YAML::Node effective = YAML::LoadFile((storage() / "effective.yaml").string());
  EXPECT_FALSE(effective["exporters"]["otlphttp/nowhere"]);
  EXPECT_TRUE(supervisor->wait_for_line("otlphttp/nowhere", kDeadline));
  stop(*supervisor);
}

// The sink serves HTTPS with a certificate of a private CA and demands a client certificate;
// the offer carries that CA and a client certificate and key. They land in the storage
// directory (0600), tls.ca_file / cert_file / key_file name them, and the span arrives over
// mutual TLS. Withdrawing the offer (a placeholder entry) restores the exporter's own
// endpoint and removes the files.
TEST_F(OtherConnectionsE2E, TheOfferedCertificatesReachTheExporterAsFilesForMutualTls) {
  const TestPki pki = make_test_pki();
  OtlpHttpSink sink(OtlpHttpSink::Tls{pki.server, pki.ca.cert_pem});
  OpampServerProcess server;
  auto supervisor = start_supervisor(run(server.websocket_url()), dir_.path());
  const std::string uid = wait_for_connected_agent(server, kDeadline);
  ASSERT_FALSE(uid.empty()) << supervisor->output();
  ASSERT_TRUE(supervisor->wait_for_line("Collector started \\(pid", kDeadline))
      << supervisor->output();

  const std::string hash = offer(
      server, uid,
      {{kExporter,
        json::object{{"destination_endpoint", sink.url("")},
                     {"tls", {{"ca_pem_contents", pki.ca.cert_pem}}},
                     {"certificate",
                      {{"cert", pki.client.cert_pem}, {"private_key", pki.client.key_pem}}}}}});
  ASSERT_FALSE(wait_for_status(server, uid, "APPLIED", hash).is_null())
      << json::serialize(server.agent(uid)) << supervisor->output();
  const YAML::Node exporter =
      wait_for_exporter([](const YAML::Node &node) { return node["tls"].IsDefined(); });
  ASSERT_TRUE(exporter.IsMap()) << supervisor->output();
  std::vector<fs::path> files;
  for (const char *key : {"ca_file", "cert_file", "key_file"}) {
    const fs::path path = exporter["tls"][key].as<std::string>();
    EXPECT_EQ(path.parent_path(), storage()) << key;
    struct stat info {};
    ASSERT_EQ(::stat(path.c_str(), &info), 0) << path;
    EXPECT_EQ(info.st_mode & 0777, 0600u) << path;
    files.push_back(path);
  }
  EXPECT_EQ(read_file(files[2]), pki.client.key_pem);

  const auto request = span_arrives(sink, "mutual-tls-span");
  ASSERT_TRUE(request) << "TLS handshakes refused: " << sink.handshake_failures() << "\n"
                       << supervisor->output();

  const std::string withdrawn = offer(server, uid, {{kExporter, json::object{}}});
  ASSERT_FALSE(wait_for_status(server, uid, "APPLIED", withdrawn).is_null())
      << json::serialize(server.agent(uid)) << supervisor->output();
  ASSERT_TRUE(wait_for_exporter([&](const YAML::Node &node) {
                return !node["tls"].IsDefined() &&
                       node["endpoint"].as<std::string>() != sink.url("");
              }).IsMap())
      << supervisor->output();
  for (const fs::path &path : files)
    EXPECT_TRUE(eventually([&] { return !fs::exists(path); }, kDeadline)) << path;
  stop(*supervisor);
}

}  // namespace
}  // namespace opsup::testing
