// The supervisor's own telemetry end to end (upstream `telemetry` keys): a real Collector
// started by the test (tools/otelcol, a separate process from the one the supervisor
// manages) receives OTLP/HTTP on a free port and forwards what arrives as OTLP/JSON to a
// sink in the test; the supervisor exports its spans, metrics and log records there. Named after
// upstream's TestSupervisorEmitBootstrapTelemetry and the OTLP part of
// TestSupervisorLogging; the last test goes beyond upstream: an unreachable receiver does
// not slow the supervisor, and what it could not send is dropped and counted.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json.hpp>
#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

#include "e2e_support.hpp"
#include "otlp_http_sink.hpp"
#include "supervisor_fixture.hpp"
#include "support/collector.hpp"
#include "support/ports.hpp"

namespace opsup::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace json = boost::json;
constexpr auto kDeadline = 60s;

// The receiving Collector: OTLP/HTTP in (what the supervisor sends, decoded by the real
// receiver), every signal out through its otlphttp exporter as OTLP/JSON to a sink in the
// test. (The slim Collector has no `file` exporter; tools/otelcol/manifest.yaml says why.)
class OtlpJsonReceiver {
 public:
  explicit OtlpJsonReceiver(const fs::path &dir) : port_(free_tcp_port()) {
    const fs::path config = dir / "receiver.yaml";
    std::ofstream(config) << "receivers:\n  otlp:\n    protocols:\n      http:\n"
                             "        endpoint: 127.0.0.1:"
                          << port_ << "\nexporters:\n  otlphttp:\n    endpoint: " << sink_.url("")
                          << "\n    encoding: json\n    compression: none\n"
                             "    retry_on_failure:\n      enabled: false\n"
                             "service:\n  telemetry:\n    metrics:\n      level: none\n"
                             "  pipelines:\n"
                             "    traces:\n      receivers: [otlp]\n      exporters: [otlphttp]\n"
                             "    metrics:\n      receivers: [otlp]\n      exporters: [otlphttp]\n"
                             "    logs:\n      receivers: [otlp]\n      exporters: [otlphttp]\n";
    process_ = start_collector(CollectorKind::kReal, {"--config", config.string()});
    // Ready when its receiver answers (an empty OTLP/JSON request is accepted).
    ready_ = eventually(
        [this] {
          return http_post(endpoint() + "/v1/traces", "{}", "application/json", 2s).status == 200;
        },
        kDeadline, 100ms);
  }

  bool ready() const { return ready_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string output() const { return process_->output(); }

  // Every request body the Collector forwarded so far (OTLP/JSON).
  std::vector<json::value> received() const {
    std::vector<json::value> values;
    for (const auto &request : sink_.requests()) {
      boost::system::error_code error;
      json::value value = json::parse(request.body, error);
      if (!error && value.is_object())
        values.push_back(std::move(value));
    }
    return values;
  }

 private:
  OtlpHttpSink sink_;
  uint16_t port_;
  std::unique_ptr<ChildProcess> process_;
  bool ready_ = false;
};

std::string attribute(const json::value &owner, const std::string &key) {
  const json::value *attributes = owner.as_object().if_contains("attributes");
  if (attributes == nullptr || !attributes->is_array())
    return "";
  for (const auto &kv : attributes->as_array()) {
    if (kv.at("key").as_string() == key) {
      const auto &value = kv.at("value").as_object();
      if (const auto *text = value.if_contains("stringValue"))
        return std::string(text->as_string());
      return json::serialize(value);
    }
  }
  return "";
}

// What arrived from the supervisor (resource service.name=opamp-supervisor), flattened.
struct Received {
  std::vector<json::value> resources;
  std::vector<json::value> spans;
  std::vector<json::value> metrics;
  std::vector<json::value> logs;

  const json::value *span(const std::string &name) const {
    for (const auto &span : spans) {
      if (span.at("name").as_string() == name)
        return &span;
    }
    return nullptr;
  }
  const json::value *metric(const std::string &name) const {
    const json::value *last = nullptr;  // the newest cumulative snapshot
    for (const auto &metric : metrics) {
      if (metric.at("name").as_string() == name)
        last = &metric;
    }
    return last;
  }
  bool log_contains(const std::string &text) const {
    for (const auto &log : logs) {
      if (std::string(log.at("body").at("stringValue").as_string()).find(text) != std::string::npos)
        return true;
    }
    return false;
  }
};

Received from_supervisor(const std::vector<json::value> &bodies) {
  Received result;
  auto visit = [&result](const json::value &body, const char *resources_key, const char *scopes_key,
                         const char *items_key, std::vector<json::value> &into) {
    const auto *list = body.as_object().if_contains(resources_key);
    if (list == nullptr)
      return;
    for (const auto &resource_x : list->as_array()) {
      const auto &resource = resource_x.at("resource");
      if (attribute(resource, "service.name") != "opamp-supervisor")
        continue;
      result.resources.push_back(resource);
      for (const auto &scope : resource_x.at(scopes_key).as_array()) {
        if (const auto *items = scope.as_object().if_contains(items_key)) {
          for (const auto &item : items->as_array())
            into.push_back(item);
        }
      }
    }
  };
  for (const auto &body : bodies) {
    visit(body, "resourceSpans", "scopeSpans", "spans", result.spans);
    visit(body, "resourceMetrics", "scopeMetrics", "metrics", result.metrics);
    visit(body, "resourceLogs", "scopeLogs", "logRecords", result.logs);
  }
  return result;
}

// The value of a sum data point with attribute key=value (or the only point); -1 if none.
long long sum_value(const json::value *metric, const std::string &key = "",
                    const std::string &value = "") {
  if (metric == nullptr || !metric->as_object().contains("sum"))
    return -1;
  for (const auto &point : metric->at("sum").at("dataPoints").as_array()) {
    if (!key.empty() && attribute(point, key) != value)
      continue;
    const auto &as_int = point.at("asInt");
    return as_int.is_string() ? std::stoll(std::string(as_int.as_string()))
                              : as_int.to_number<long long>();
  }
  return -1;
}

std::string telemetry_yaml(const std::string &endpoint, const std::string &timeout_yaml = "") {
  const std::string otlp =
      "              otlp:\n                protocol: http/protobuf\n"
      "                endpoint: " +
      endpoint + "\n" + timeout_yaml;
  // Continues the fixture's `telemetry.logs` section.
  return "    processors:\n      - batch:\n          schedule_delay: 100\n          exporter:\n" +
         otlp +
         "  metrics:\n    readers:\n      - periodic:\n          interval: 500\n"
         "          exporter:\n" +
         otlp + "  traces:\n    processors:\n      - batch:\n          schedule_delay: 100\n" +
         "          exporter:\n" + otlp +
         "  resource:\n    attributes:\n      - name: deployment.environment\n"
         "        value: e2e\n";
}

class SupervisorTelemetryE2e : public ::testing::Test {
 protected:
  TempDir dir_;
  TempDir modules_;
  std::unique_ptr<OpampServerProcess> server_ = std::make_unique<OpampServerProcess>();
  std::unique_ptr<ChildProcess> supervisor_;
  std::string uid_;

  void SetUp() override {
    for (const char *module : {"remote_config.so", "health.so"})
      fs::copy_file(fs::path(OPSUP_MODULES_DIR) / module, modules_.path() / module);
  }

  void start(const std::string &telemetry, const std::string &log_level = "debug",
             const std::string &agent_yaml = "", const std::string &endpoint = "") {
    SupervisorRun run{.endpoint = endpoint.empty() ? server_->websocket_url() : endpoint,
                      .storage = dir_.path() / "storage",
                      .modules_dir = modules_.path(),
                      .extra_yaml = telemetry + "capabilities:\n  accepts_remote_config: true\n",
                      .collector = collector_executable(CollectorKind::kReal),
                      .agent_yaml = "  config_apply_timeout: 10s\n" + agent_yaml};
    std::string yaml = supervisor_yaml(run);
    // The fixture writes telemetry.logs.level: debug; some tests want another level.
    const std::string level = "    level: debug\n";
    yaml.replace(yaml.find(level), level.size(), "    level: " + log_level + "\n");
    const fs::path config = dir_.path() / "supervisor.yaml";
    std::ofstream(config) << yaml;
    ProcessOptions options;
    options.executable = binary("opampsupervisor");
    options.args = {"--config", config.string(), "--modules-dir", modules_.path().string()};
    supervisor_ = std::make_unique<ChildProcess>(options);
    if (!endpoint.empty())
      return;  // a server started later, or none
    uid_ = wait_for_connected_agent(*server_, kDeadline);
    ASSERT_FALSE(uid_.empty()) << supervisor_->output();
  }

  void stop_supervisor() {
    supervisor_->send_signal(SIGTERM);
    EXPECT_EQ(supervisor_->wait_exit(kDeadline), 0) << supervisor_->output();
  }

  std::string applied_config(uint16_t port) {
    const std::string hash = push_remote_config(*server_, uid_, pipeline_yaml(port));
    EXPECT_FALSE(hash.empty());
    EXPECT_TRUE(wait_for_remote_config_status(*server_, uid_, "APPLIED", hash, kDeadline))
        << supervisor_->output();
    return hash;
  }
};

TEST_F(SupervisorTelemetryE2e, SupervisorEmitBootstrapTelemetry) {
  OtlpJsonReceiver receiver(dir_.path());
  ASSERT_TRUE(receiver.ready()) << receiver.output();
  start(telemetry_yaml(receiver.endpoint()));
  applied_config(free_tcp_port());

  Received got;
  const bool arrived = eventually(
      [&] {
        got = from_supervisor(receiver.received());
        return got.span("GetBootstrapInfo") && got.span("onMessage") &&
               got.span("processRemoteConfigMessage") &&
               sum_value(got.metric("supervisor.config.applies"), "outcome", "applied") == 1 &&
               sum_value(got.metric("supervisor.agent.health_status")) == 1;
      },
      kDeadline, 200ms);
  ASSERT_TRUE(arrived) << "spans " << got.spans.size() << ", metrics " << got.metrics.size() << "\n"
                       << supervisor_->output();

  // Resource: the defaults, the instance UID, and the configured attribute.
  ASSERT_FALSE(got.resources.empty());
  EXPECT_EQ(attribute(got.resources.front(), "service.instance.id"), uid_);
  EXPECT_EQ(attribute(got.resources.front(), "deployment.environment"), "e2e");

  // Upstream: the span GetBootstrapInfo with status Ok (STATUS_CODE_OK = 1).
  const json::value &bootstrap = *got.span("GetBootstrapInfo");
  EXPECT_EQ(bootstrap.at("status").at("code").to_number<int>(), 1) << json::serialize(bootstrap);
  // The config apply is a child of the server message that carried it.
  const json::value &apply = *got.span("processRemoteConfigMessage");
  bool parent_found = false;
  for (const auto &span : got.spans) {
    if (span.at("name").as_string() == "onMessage" &&
        span.at("spanId") == apply.at("parentSpanId") && span.at("traceId") == apply.at("traceId"))
      parent_found = true;
  }
  EXPECT_TRUE(parent_found) << json::serialize(apply);

  EXPECT_GE(sum_value(got.metric("supervisor.opamp.messages"), "direction", "received"), 1);
  EXPECT_GE(sum_value(got.metric("supervisor.opamp.messages"), "direction", "sent"), 1);
  EXPECT_EQ(sum_value(got.metric("supervisor.opamp.connection.status")), 1);
  EXPECT_EQ(sum_value(got.metric("supervisor.agent.fallback_status")), 0);  // no fallback here
  const json::value *duration = got.metric("supervisor.config.apply.duration");
  ASSERT_NE(duration, nullptr);
  const auto &point = duration->at("histogram").at("dataPoints").as_array().at(0);
  EXPECT_EQ(attribute(point, "outcome"), "applied");
  EXPECT_EQ(std::string(point.at("count").as_string()), "1");
  stop_supervisor();
}

// Upstream TestSupervisorLogging, OTLP part: the supervisor's log records reach the
// receiver, at the configured level and above only.
TEST_F(SupervisorTelemetryE2e, SupervisorLoggingOverOtlp) {
  OtlpJsonReceiver receiver(dir_.path());
  ASSERT_TRUE(receiver.ready()) << receiver.output();
  start(telemetry_yaml(receiver.endpoint()), "info");
  Received got;
  const bool arrived = eventually(
      [&] {
        got = from_supervisor(receiver.received());
        return got.log_contains("Supervisor starting") && got.log_contains("Collector started");
      },
      kDeadline, 200ms);
  ASSERT_TRUE(arrived) << "log records " << got.logs.size() << "\n" << supervisor_->output();
  for (const auto &log : got.logs) {
    EXPECT_GE(log.at("severityNumber").to_number<int>(), 9) << json::serialize(log);
  }
  bool named = false;
  for (const auto &log : got.logs)
    named = named || attribute(log, "logger") == "supervisor";
  EXPECT_TRUE(named);
  stop_supervisor();
}

// A config the Collector cannot run: the apply is counted as failed with its crash, and
// its span ends with status Error.
TEST_F(SupervisorTelemetryE2e, AFailedApplyIsCountedWithTheCrashAndAnErrorSpan) {
  OtlpJsonReceiver receiver(dir_.path());
  ASSERT_TRUE(receiver.ready()) << receiver.output();
  start(telemetry_yaml(receiver.endpoint()));
  const std::string hash = push_remote_config(*server_, uid_, kCrashingConfig);
  ASSERT_TRUE(wait_for_remote_config_status(*server_, uid_, "FAILED", hash, kDeadline))
      << supervisor_->output();
  Received got;
  const bool arrived = eventually(
      [&] {
        got = from_supervisor(receiver.received());
        return got.span("processRemoteConfigMessage") &&
               sum_value(got.metric("supervisor.config.applies"), "outcome", "failed") == 1 &&
               sum_value(got.metric("supervisor.collector.crashes")) >= 1;
      },
      kDeadline, 200ms);
  ASSERT_TRUE(arrived) << supervisor_->output();
  const json::value &apply = *got.span("processRemoteConfigMessage");
  EXPECT_EQ(apply.at("status").at("code").to_number<int>(), 2) << json::serialize(apply);
  EXPECT_FALSE(apply.at("status").at("message").as_string().empty());
  stop_supervisor();
}

// Upstream's supervisor.agent.fallback_status: 1 while the Collector runs on the startup
// fallback (no server yet), 0 once the first connection replaced it.
TEST_F(SupervisorTelemetryE2e, FallbackStatusFollowsTheStartupFallback) {
  OtlpJsonReceiver receiver(dir_.path());
  ASSERT_TRUE(receiver.ready()) << receiver.output();
  const uint16_t opamp_port = free_tcp_port();
  const auto fallback = dir_.write_file("fallback.yaml", pipeline_yaml(free_tcp_port()));
  start(telemetry_yaml(receiver.endpoint()), "debug",
        "  startup_fallback_configs:\n    - " + fallback.string() + "\n",
        "ws://127.0.0.1:" + std::to_string(opamp_port) + "/v1/opamp");
  auto fallback_status = [&] {
    return sum_value(
        from_supervisor(receiver.received()).metric("supervisor.agent.fallback_status"));
  };
  EXPECT_TRUE(eventually([&] { return fallback_status() == 1; }, kDeadline, 200ms))
      << supervisor_->output();
  server_ = std::make_unique<OpampServerProcess>(
      std::vector<std::string>{"--opamp-listen", "127.0.0.1:" + std::to_string(opamp_port)});
  uid_ = wait_for_connected_agent(*server_, kDeadline);
  ASSERT_FALSE(uid_.empty()) << supervisor_->output();
  EXPECT_TRUE(eventually([&] { return fallback_status() == 0; }, kDeadline, 200ms))
      << supervisor_->output();
  stop_supervisor();
}

// A receiver that accepts connections and never answers: each export waits out its
// timeout. The supervisor's message handling goes on at its own pace (a remote config is
// APPLIED), and what could not be sent is dropped, counted and logged.
TEST_F(SupervisorTelemetryE2e, UnreachableEndpointDoesNotSlowTheSupervisor) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor silent(
      io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  const std::string endpoint = "http://127.0.0.1:" + std::to_string(silent.local_endpoint().port());
  start(telemetry_yaml(endpoint, "                timeout: 1000\n"));
  const auto pushed = std::chrono::steady_clock::now();
  applied_config(free_tcp_port());
  const auto took = std::chrono::steady_clock::now() - pushed;
  // About 0.1 s when idle, a few hundred ms under load; an export waited for on the loop
  // (1 s each, several per signal during an apply) would show here.
  EXPECT_LT(took, 5s) << supervisor_->output();
  EXPECT_TRUE(eventually(
      [&] {
        return supervisor_->output().find("Own telemetry: could not export") != std::string::npos;
      },
      kDeadline))
      << supervisor_->output();
  stop_supervisor();
}

// An upstream exporter this supervisor cannot honour stops `validate` (and `run`) with the
// file, line and key, instead of starting without the telemetry the operator asked for.
TEST(SupervisorTelemetryCommands, ValidateRefusesAGrpcExporterNamingFileLineAndKey) {
  TempDir dir;
  TempDir modules;
  const auto config = dir.write_file("supervisor.yaml",
                                     "server:\n  endpoint: ws://127.0.0.1:4320/v1/opamp\n"
                                     "agent:\n  executable: /bin/true\n"
                                     "storage:\n  directory: " +
                                         (dir.path() / "s").string() +
                                         "\n"
                                         "telemetry:\n"                    // 7
                                         "  traces:\n"                     // 8
                                         "    processors:\n"               // 9
                                         "      - batch:\n"                // 10
                                         "          exporter:\n"           // 11
                                         "            otlp:\n"             // 12
                                         "              protocol: grpc\n"  // 13
                                         "              endpoint: http://127.0.0.1:4317\n");
  const CommandResult result = run_supervisor_command(
      {"validate", "--config", config.string(), "--modules-dir", modules.path().string()});
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find(config.string() +
                               ":13: telemetry.traces.processors[0].batch.exporter.otlp.protocol: "
                               "\"grpc\" is not supported"),
            std::string::npos)
      << result.output;
}

}  // namespace
}  // namespace opsup::testing
