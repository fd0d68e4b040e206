// The own_telemetry module end to end: the reference server offers own metrics, logs and
// traces (POST /api/agents/{uid}/own-telemetry), the supervisor composes them into the real
// Collector's config (effective.yaml), and the Collector really sends its own telemetry to
// the offered OTLP/HTTP endpoint: a small HTTP(S) sink in this test that records what
// arrives. The upstream e2e suite has no scenario for the Collector's own telemetry (its
// TestSupervisorEmitBootstrapTelemetry is the supervisor's own telemetry, listed with the
// operations scenarios in remote_config_e2e_test.cpp), so the tests are named after their
// intent; the restart one has the intent of TestSupervisorRestartsWithLastReceivedConfig for
// the own-telemetry offer.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>

#include <csignal>
#include <mutex>
#include <optional>
#include <thread>

#include "otlp_http_sink.hpp"
#include "supervisor_fixture.hpp"
#include "support/collector.hpp"
#include "support/ports.hpp"
#include "test_certs.hpp"

namespace opsup::testing {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;

constexpr auto kDeadline = 60s;

// The Collector's own pipeline: OTLP/gRPC in on a free port, nop out, and its internal
// metrics on a Prometheus reader on a free port (the default, 8888, may be taken by a
// test running beside this one); the offered reader replaces it, since agent.config_files
// names $OWN_TELEMETRY_CONFIG after this file.
std::string local_collector_yaml() {
  return "receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpoint: 127.0.0.1:" +
         std::to_string(free_tcp_port()) +
         "\nexporters:\n  nop: {}\n"
         "service:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [nop]\n"
         "  telemetry:\n    metrics:\n      readers:\n        - pull:\n            exporter:\n"
         "              prometheus:\n                host: 127.0.0.1\n                port: " +
         std::to_string(free_tcp_port()) + "\n";
}

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

class OwnTelemetryE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::copy_file(OPSUP_OWN_TELEMETRY_MODULE, modules_.path() / "own_telemetry.so");
  }

  SupervisorRun run(const std::string &endpoint) {
    return {.endpoint = endpoint,
            .storage = dir_.path() / "storage",
            .modules_dir = modules_.path(),
            .extra_yaml =
                "capabilities:\n  reports_own_metrics: true\n  reports_own_logs: true\n"
                "  reports_own_traces: true\n"
                "plugins:\n  own_telemetry:\n    metrics_interval: 1s\n",
            .collector = collector_executable(CollectorKind::kReal),
            // The token after the local file: the offer's reader replaces the local one
            // (by default the token comes first and local files override the offer).
            .agent_yaml = "  config_files:\n    - " +
                          dir_.write_file("collector.yaml", local_collector_yaml()).string() +
                          "\n    - $OWN_TELEMETRY_CONFIG\n"};
  }

  fs::path storage() const { return dir_.path() / "storage"; }

  // POST /api/agents/{uid}/own-telemetry; fails the test unless it was sent.
  void offer(const OpampServerProcess &server, const std::string &uid, const std::string &body) {
    const auto answer = server.post_json("/api/agents/" + uid + "/own-telemetry", body);
    ASSERT_EQ(answer.status, 200) << boost::json::serialize(answer.body);
    EXPECT_EQ(string_at(answer.body, {"delivery"}), "sent") << boost::json::serialize(answer.body);
  }

  // effective.yaml once `accept` holds for it; a null node at the deadline.
  YAML::Node wait_for_effective(const std::function<bool(const YAML::Node &)> &accept) {
    YAML::Node found;
    eventually(
        [&] {
          try {
            const YAML::Node effective = YAML::LoadFile((storage() / "effective.yaml").string());
            if (!accept(effective))
              return false;
            found = effective;
            return true;
          } catch (const YAML::Exception &) {
            return false;
          }
        },
        kDeadline);
    return found;
  }

  static YAML::Node metrics_exporter(const YAML::Node &effective) {
    const YAML::Node readers = effective["service"]["telemetry"]["metrics"]["readers"];
    if (!readers.IsSequence() || readers.size() == 0 || !readers[0]["periodic"])
      return YAML::Node(YAML::NodeType::Undefined);
    return readers[0]["periodic"]["exporter"]["otlp"];
  }

  // The first request to `target` whose body passes `accept`, within the deadline.
  static std::optional<OtlpHttpSink::Request> wait_for_request(
      const OtlpHttpSink &sink, const std::string &target,
      const std::function<bool(const OtlpHttpSink::Request &)> &accept) {
    std::optional<OtlpHttpSink::Request> found;
    eventually(
        [&] {
          for (const auto &request : sink.requests_to(target)) {
            if (accept(request)) {
              found = request;
              return true;
            }
          }
          return false;
        },
        kDeadline);
    return found;
  }

  TempDir dir_;
  TempDir modules_;
};

// The offer reaches effective.yaml in the upstream template's shape, the Collector sends
// its own metrics and logs there with the offered header, and its resource carries the
// agent's instance UID; the server sees the three capabilities advertised.
TEST_F(OwnTelemetryE2E, OfferedOwnTelemetryReachesTheCollectorWhichSendsItsMetricsAndLogs) {
  OtlpHttpSink sink;
  OpampServerProcess server;
  auto supervisor = start_supervisor(run(server.websocket_url()), dir_.path());
  const std::string uid = wait_for_connected_agent(server, kDeadline);
  ASSERT_FALSE(uid.empty()) << supervisor->output();
  const boost::json::value agent = server.agent(uid);
  const std::string capabilities = boost::json::serialize(at(agent, {"capabilities", "names"}));
  EXPECT_TRUE(contains(capabilities, "\"ReportsOwnMetrics\"")) << capabilities;
  EXPECT_TRUE(contains(capabilities, "\"ReportsOwnLogs\"")) << capabilities;
  EXPECT_TRUE(contains(capabilities, "\"ReportsOwnTraces\"")) << capabilities;
  ASSERT_TRUE(supervisor->wait_for_line("Collector started \\(pid", kDeadline))
      << supervisor->output();

  offer(server, uid,
        R"({"metrics": {"destination_endpoint": ")" + sink.url("/v1/metrics") +
            R"(", "headers": {"X-Tenant": "e2e"}},)"
            R"( "logs": {"destination_endpoint": ")" +
            sink.url("/v1/logs") +
            R"(", "headers": {"X-Tenant": "e2e"}},)"
            R"( "traces": {"destination_endpoint": ")" +
            sink.url("/v1/traces") + R"("}})");

  const YAML::Node effective = wait_for_effective([&](const YAML::Node &config) {
    return metrics_exporter(config).IsDefined() &&
           metrics_exporter(config)["endpoint"].as<std::string>() == sink.url("/v1/metrics");
  });
  ASSERT_TRUE(effective.IsMap()) << supervisor->output();
  const YAML::Node metrics = metrics_exporter(effective);
  EXPECT_EQ(metrics["protocol"].as<std::string>(), "http/protobuf");
  EXPECT_EQ(metrics["headers"][0]["name"].as<std::string>(), "X-Tenant");
  EXPECT_EQ(metrics["headers"][0]["value"].as<std::string>(), "e2e");
  EXPECT_EQ(effective["service"]["telemetry"]["metrics"]["readers"].size(), 1u)
      << "the offered reader replaces the local Prometheus one";
  const YAML::Node logs =
      effective["service"]["telemetry"]["logs"]["processors"][0]["batch"]["exporter"]["otlp"];
  EXPECT_EQ(logs["endpoint"].as<std::string>(), sink.url("/v1/logs"));
  const YAML::Node traces =
      effective["service"]["telemetry"]["traces"]["processors"][0]["batch"]["exporter"]["otlp"];
  EXPECT_EQ(traces["endpoint"].as<std::string>(), sink.url("/v1/traces"));

  // Its own metrics (otelcol_* instruments) and its own logs, from this agent.
  const auto metrics_request = wait_for_request(sink, "/v1/metrics", [&](const auto &request) {
    return contains(request.body, "otelcol_") && contains(request.body, uid);
  });
  ASSERT_TRUE(metrics_request) << supervisor->output();
  EXPECT_EQ(metrics_request->tenant, "e2e");
  EXPECT_EQ(metrics_request->content_type, "application/x-protobuf");
  const auto logs_request = wait_for_request(
      sink, "/v1/logs", [&](const auto &request) { return contains(request.body, uid); });
  ASSERT_TRUE(logs_request) << supervisor->output();
  EXPECT_EQ(logs_request->tenant, "e2e");
  EXPECT_TRUE(fs::exists(storage() / "last_recv_own_telemetry_config.dat"));

  supervisor->send_signal(SIGTERM);
  EXPECT_EQ(supervisor->wait_exit(kDeadline), 0) << supervisor->output();
}

// The intent of TestSupervisorRestartsWithLastReceivedConfig for the own-telemetry offer:
// after a restart, with no server to answer, the persisted offer is in the first config the
// Collector runs, and its telemetry flows again. An empty endpoint then removes the signal.
TEST_F(OwnTelemetryE2E, ThePersistedOfferIsAppliedAfterASupervisorRestartBeforeTheServerAnswers) {
  OtlpHttpSink sink;
  {
    OpampServerProcess server;
    auto supervisor = start_supervisor(run(server.websocket_url()), dir_.path());
    const std::string uid = wait_for_connected_agent(server, kDeadline);
    ASSERT_FALSE(uid.empty()) << supervisor->output();
    offer(server, uid,
          R"({"metrics": {"destination_endpoint": ")" + sink.url("/v1/metrics") + R"("}})");
    ASSERT_TRUE(wait_for_effective([&](const YAML::Node &config) {
                  return metrics_exporter(config).IsDefined();
                }).IsMap())
        << supervisor->output();
    supervisor->send_signal(SIGTERM);
    ASSERT_EQ(supervisor->wait_exit(kDeadline), 0) << supervisor->output();
  }
  const size_t before = sink.requests_to("/v1/metrics").size();

  // No server at all this time: nothing can answer.
  auto supervisor = start_supervisor(
      run("ws://127.0.0.1:" + std::to_string(free_tcp_port()) + "/v1/opamp"), dir_.path());
  ASSERT_TRUE(supervisor->wait_for_line("Collector started \\(pid [0-9]+\\) on config generation 1",
                                        kDeadline))
      << supervisor->output();
  const YAML::Node effective = YAML::LoadFile((storage() / "effective.yaml").string());
  ASSERT_TRUE(metrics_exporter(effective).IsDefined()) << supervisor->output();
  EXPECT_EQ(metrics_exporter(effective)["endpoint"].as<std::string>(), sink.url("/v1/metrics"));
  EXPECT_TRUE(supervisor->wait_for_line(
      "applying the offer kept in last_recv_own_telemetry_config.dat", kDeadline));
  EXPECT_TRUE(
      eventually([&] { return sink.requests_to("/v1/metrics").size() > before; }, kDeadline))
      << supervisor->output();
  supervisor->send_signal(SIGTERM);
  EXPECT_EQ(supervisor->wait_exit(kDeadline), 0) << supervisor->output();
}

// What upstream leaves out (I#50767): the offered TLS material. The sink serves HTTPS with a
// certificate of a private CA and demands a client certificate; the offer carries that CA
// and a client certificate and key. They land in the storage directory (0600), the
// Collector's exporter names them, and its metrics arrive over mutual TLS. Withdrawing the
// offer removes the exporter and the files.
TEST_F(OwnTelemetryE2E, TheCollectorSendsItsMetricsOverMutualTlsWithTheOfferedMaterial) {
  const TestPki pki = make_test_pki();
  OtlpHttpSink sink(OtlpHttpSink::Tls{pki.server, pki.ca.cert_pem});
  OpampServerProcess server;
  auto supervisor = start_supervisor(run(server.websocket_url()), dir_.path());
  const std::string uid = wait_for_connected_agent(server, kDeadline);
  ASSERT_FALSE(uid.empty()) << supervisor->output();

  boost::json::object metrics{
      {"destination_endpoint", sink.url("/v1/metrics")},
      {"headers", {{"X-Tenant", "tls"}}},
      {"tls", {{"ca_pem_contents", pki.ca.cert_pem}}},
      {"certificate", {{"cert", pki.client.cert_pem}, {"private_key", pki.client.key_pem}}}};
  offer(server, uid, boost::json::serialize(boost::json::object{{"metrics", metrics}}));

  const YAML::Node effective = wait_for_effective(
      [&](const YAML::Node &config) { return metrics_exporter(config).IsDefined(); });
  ASSERT_TRUE(effective.IsMap()) << supervisor->output();
  const YAML::Node exporter = metrics_exporter(effective);
  EXPECT_EQ(exporter["certificate"].as<std::string>(),
            (storage() / "own_telemetry_metrics_ca.pem").string());
  EXPECT_EQ(exporter["client_certificate"].as<std::string>(),
            (storage() / "own_telemetry_metrics_cert.pem").string());
  EXPECT_EQ(exporter["client_key"].as<std::string>(),
            (storage() / "own_telemetry_metrics_key.pem").string());
  for (const char *name : {"own_telemetry_metrics_ca.pem", "own_telemetry_metrics_cert.pem",
                           "own_telemetry_metrics_key.pem"}) {
    struct stat info {};
    ASSERT_EQ(::stat((storage() / name).c_str(), &info), 0) << name;
    EXPECT_EQ(info.st_mode & 0777, 0600u) << name;
  }
  EXPECT_EQ(read_file(storage() / "own_telemetry_metrics_key.pem"), pki.client.key_pem);

  const auto request = wait_for_request(sink, "/v1/metrics", [&](const auto &candidate) {
    return contains(candidate.body, "otelcol_") && contains(candidate.body, uid);
  });
  ASSERT_TRUE(request) << "TLS handshakes refused: " << sink.handshake_failures() << "\n"
                       << supervisor->output();
  EXPECT_EQ(request->tenant, "tls");

  offer(server, uid, R"({"metrics": {"destination_endpoint": ""}})");
  ASSERT_TRUE(wait_for_effective([&](const YAML::Node &config) {
                return !metrics_exporter(config).IsDefined();
              }).IsMap())
      << supervisor->output();
  EXPECT_TRUE(eventually([&] { return !fs::exists(storage() / "own_telemetry_metrics_key.pem"); },
                         kDeadline))
      << supervisor->output();
  supervisor->send_signal(SIGTERM);
  EXPECT_EQ(supervisor->wait_exit(kDeadline), 0) << supervisor->output();
}

}  // namespace
}  // namespace opsup::testing
