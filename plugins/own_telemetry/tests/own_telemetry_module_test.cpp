// The built own_telemetry.so in the SDK's FakeHost: the server's own_metrics, own_logs and
// own_traces offers become one Collector config layer (OTLP/HTTP exporters in
// service::telemetry, TLS material as PEM files), kept in last_recv_own_telemetry_config.dat
// and applied again at start.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <opsup/testing/loaded_module.hpp>
#include "opamp.pb.h"

namespace {

namespace proto = ::opamp::proto::v1;
namespace fs = std::filesystem;

constexpr const char *kPersisted = "last_recv_own_telemetry_config.dat";
constexpr const char *kLayer = "own_telemetry";

struct Offer {
  std::string endpoint;
  std::vector<std::pair<std::string, std::string>> headers = {};
  std::string ca_pem = {};       // tls.ca_pem_contents
  std::string ca_cert = {};      // certificate.ca_cert
  std::string cert = {};         // certificate.cert
  std::string private_key = {};  // certificate.private_key
};

void fill(proto::TelemetryConnectionSettings &settings, const Offer &offer) {
  settings.set_destination_endpoint(offer.endpoint);
  for (const auto &[key, value] : offer.headers) {
    proto::Header *header = settings.mutable_headers()->add_headers();
    header->set_key(key);
    header->set_value(value);
  }
  if (!offer.ca_pem.empty())
    settings.mutable_tls()->set_ca_pem_contents(offer.ca_pem);
  if (!offer.ca_cert.empty())
    settings.mutable_certificate()->set_ca_cert(offer.ca_cert);
  if (!offer.cert.empty())
    settings.mutable_certificate()->set_cert(offer.cert);
  if (!offer.private_key.empty())
    settings.mutable_certificate()->set_private_key(offer.private_key);
}

struct Offers {
  std::optional<Offer> metrics = std::nullopt;
  std::optional<Offer> logs = std::nullopt;
  std::optional<Offer> traces = std::nullopt;
};

proto::ConnectionSettingsOffers offers_message(const Offers &offers) {
  proto::ConnectionSettingsOffers message;
  message.set_hash("offer-hash");
  if (offers.metrics)
    fill(*message.mutable_own_metrics(), *offers.metrics);
  if (offers.logs)
    fill(*message.mutable_own_logs(), *offers.logs);
  if (offers.traces)
    fill(*message.mutable_own_traces(), *offers.traces);
  return message;
}

std::string server_message(const proto::ConnectionSettingsOffers &offers) {
  proto::ServerToAgent message;
  message.set_instance_uid(std::string(16, '\x01'));
  *message.mutable_connection_settings() = offers;
  return message.SerializeAsString();
}

std::string server_message(const Offers &offers) {
  return server_message(offers_message(offers));
}

// The exporter map under a signal's reader or processor.
YAML::Node exporter_of(const YAML::Node &layer, const std::string &signal) {
  const YAML::Node telemetry = layer["service"]["telemetry"];
  if (signal == "metrics")
    return telemetry["metrics"]["readers"][0]["periodic"]["exporter"]["otlp"];
  return telemetry[signal]["processors"][0]["batch"]["exporter"]["otlp"];
}

class OwnTelemetryModule : public opsup::testing::LoadedModule {
 protected:
  OwnTelemetryModule() : LoadedModule(OPSUP_OWN_TELEMETRY_MODULE) {}

  void SetUp() override {
    LoadedModule::SetUp();
    storage_ = fs::temp_directory_path() /
               ("own_telemetry_test_" + std::to_string(::getpid()) + "_" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(storage_);
    fs::create_directories(storage_);
  }
  void TearDown() override {
    LoadedModule::TearDown();
    fs::remove_all(storage_);
  }

  std::string config_yaml(const std::string &capabilities =
                              "  reports_own_metrics: true\n  reports_own_logs: true\n"
                              "  reports_own_traces: true\n") {
    return "storage:\n  directory: " + storage_.string() + "\ncapabilities:\n" + capabilities;
  }

  opsup::testing::FakeHost &start_with(const std::string &yaml) {
    EXPECT_EQ(host().create(yaml), OPSUP_OK) << host().last_error();
    EXPECT_EQ(host().start(), OPSUP_OK) << host().last_error();
    return host();
  }
  opsup::testing::FakeHost &start_all() { return start_with(config_yaml()); }

  // Completes every pending change and returns the layer in force (null when none).
  YAML::Node applied_layer() {
    while (host().pending_config_changes() > 0)
      EXPECT_TRUE(host().complete_config_change());
    const auto &layers = host().config_layers();
    const auto found = layers.find(kLayer);
    if (found == layers.end())
      return YAML::Node();  // null
    return YAML::Load(found->second);
  }

  proto::ConnectionSettingsOffers persisted() {
    proto::ConnectionSettingsOffers offers;
    EXPECT_EQ(host().storage().count(kPersisted), 1u);
    EXPECT_TRUE(offers.ParseFromString(host().storage()[kPersisted]));
    return offers;
  }

  std::string path_of(const std::string &name) const { return (storage_ / name).string(); }

  fs::path storage_;
};

TEST_F(OwnTelemetryModule, OwnsTheThreeOwnTelemetryCapabilitiesAndConnectionSettings) {
  const opsup_module_descriptor &descriptor = host().descriptor();
  EXPECT_STREQ(descriptor.id, "own_telemetry");
  EXPECT_EQ(descriptor.capabilities, OPSUP_CAP_REPORTS_OWN_METRICS | OPSUP_CAP_REPORTS_OWN_LOGS |
                                         OPSUP_CAP_REPORTS_OWN_TRACES);
  ASSERT_EQ(descriptor.server_to_agent_field_count, 1u);
  EXPECT_EQ(descriptor.server_to_agent_fields[0], uint32_t{OPSUP_S2A_CONNECTION_SETTINGS});
}

TEST_F(OwnTelemetryModule, AMetricsOfferBecomesAPeriodicOtlpHttpReaderWithItsHeaders) {
  start_all();
  EXPECT_TRUE(host().config_changes().empty()) << "nothing is offered or persisted yet";
  host().deliver_server_message(
      server_message({.metrics = Offer{"https://otlp.example.com:4318/v1/metrics",
                                       {{"Authorization", "Bearer abc"}, {"X-Tenant", "t1"}}}}));
  ASSERT_EQ(host().config_changes().size(), 1u);
  EXPECT_EQ(host().config_changes()[0].layer_name, kLayer);
  EXPECT_EQ(host().config_changes()[0].flags, uint32_t{OPSUP_CONFIG_OWN_TELEMETRY});

  const YAML::Node layer = applied_layer();
  const YAML::Node otlp = exporter_of(layer, "metrics");
  EXPECT_EQ(otlp["protocol"].as<std::string>(), "http/protobuf");
  EXPECT_EQ(otlp["endpoint"].as<std::string>(), "https://otlp.example.com:4318/v1/metrics");
  ASSERT_EQ(otlp["headers"].size(), 2u);
  EXPECT_EQ(otlp["headers"][0]["name"].as<std::string>(), "Authorization");
  EXPECT_EQ(otlp["headers"][0]["value"].as<std::string>(), "Bearer abc");
  EXPECT_EQ(otlp["headers"][1]["name"].as<std::string>(), "X-Tenant");
  EXPECT_FALSE(otlp["certificate"]) << "no TLS material was offered";
  EXPECT_FALSE(layer["service"]["telemetry"]["metrics"]["readers"][0]["periodic"]["interval"]);
  EXPECT_FALSE(layer["service"]["telemetry"]["logs"]);
  EXPECT_FALSE(layer["service"]["telemetry"]["traces"]);
  EXPECT_TRUE(host().logged("layer applied (config generation 1)", OPSUP_LOG_INFO));
  EXPECT_FALSE(host().logged("Bearer abc")) << "header values are secrets";
}

TEST_F(OwnTelemetryModule, LogsAndTracesBecomeBatchProcessorsAndOnlyTheOwnPartsArePersisted) {
  start_all();
  proto::ConnectionSettingsOffers offers =
      offers_message({.logs = Offer{"http://127.0.0.1:4318/v1/logs"},
                      .traces = Offer{"http://127.0.0.1:4318/v1/traces", {{"k", "v"}}}});
  offers.mutable_opamp()->set_destination_endpoint("wss://elsewhere/v1/opamp");
  host().deliver_server_message(server_message(offers));

  const YAML::Node layer = applied_layer();
  EXPECT_EQ(exporter_of(layer, "logs")["endpoint"].as<std::string>(),
            "http://127.0.0.1:4318/v1/logs");
  EXPECT_EQ(exporter_of(layer, "logs")["protocol"].as<std::string>(), "http/protobuf");
  EXPECT_EQ(exporter_of(layer, "traces")["endpoint"].as<std::string>(),
            "http://127.0.0.1:4318/v1/traces");
  EXPECT_EQ(exporter_of(layer, "traces")["headers"][0]["value"].as<std::string>(), "v");
  EXPECT_FALSE(layer["service"]["telemetry"]["metrics"]);

  const proto::ConnectionSettingsOffers kept = persisted();
  EXPECT_FALSE(kept.has_opamp());
  EXPECT_TRUE(kept.hash().empty());
  EXPECT_FALSE(kept.has_own_metrics());
  EXPECT_EQ(kept.own_logs().destination_endpoint(), "http://127.0.0.1:4318/v1/logs");
  EXPECT_EQ(kept.own_traces().headers().headers(0).key(), "k");
}

TEST_F(OwnTelemetryModule, APartLeftOutKeepsItsSignalAndAnEmptyEndpointRemovesIt) {
  start_all();
  host().deliver_server_message(server_message(
      {.metrics = Offer{"http://m:4318/v1/metrics"}, .logs = Offer{"http://l:4318/v1/logs"}}));
  applied_layer();
  // Only traces: metrics and logs stay.
  host().deliver_server_message(server_message({.traces = Offer{"http://t:4318/v1/traces"}}));
  YAML::Node layer = applied_layer();
  EXPECT_TRUE(exporter_of(layer, "metrics")) << host().config_layers().at(kLayer);
  EXPECT_TRUE(exporter_of(layer, "logs"));
  EXPECT_TRUE(exporter_of(layer, "traces"));
  // An empty endpoint for logs removes logs, nothing else.
  host().deliver_server_message(server_message({.logs = Offer{""}}));
  layer = applied_layer();
  EXPECT_TRUE(exporter_of(layer, "metrics"));
  EXPECT_FALSE(layer["service"]["telemetry"]["logs"]);
  EXPECT_TRUE(exporter_of(layer, "traces"));
  EXPECT_FALSE(persisted().has_own_logs());
  EXPECT_TRUE(persisted().has_own_traces());
}

TEST_F(OwnTelemetryModule, RemovingEverySignalRemovesTheLayer) {
  start_all();
  host().deliver_server_message(server_message({.metrics = Offer{"http://m:4318/v1/metrics"}}));
  ASSERT_TRUE(applied_layer().IsMap());
  host().deliver_server_message(
      server_message({.metrics = Offer{""}, .logs = Offer{""}, .traces = Offer{""}}));
  ASSERT_EQ(host().config_changes().size(), 2u);
  EXPECT_FALSE(host().config_changes()[1].yaml.has_value()) << "the layer is removed";
  EXPECT_FALSE(applied_layer().IsMap());
  EXPECT_TRUE(host().logged("layer removed", OPSUP_LOG_INFO));
  EXPECT_EQ(persisted().ByteSizeLong(), 0u);
}

TEST_F(OwnTelemetryModule, TheSameOfferAgainChangesNothing) {
  start_all();
  const std::string message = server_message({.metrics = Offer{"http://m:4318/v1/metrics"}});
  host().deliver_server_message(message);
  applied_layer();
  host().storage().erase(kPersisted);
  host().deliver_server_message(message);
  EXPECT_EQ(host().config_changes().size(), 1u);
  EXPECT_EQ(host().storage().count(kPersisted), 0u) << "not even persisted again";
  // A message without own_* parts (say only the opamp part) changes nothing either.
  proto::ConnectionSettingsOffers opamp_only;
  opamp_only.mutable_opamp()->set_destination_endpoint("ws://x/v1/opamp");
  host().deliver_server_message(server_message(opamp_only));
  EXPECT_EQ(host().config_changes().size(), 1u);
}

TEST_F(OwnTelemetryModule, ThePersistedOfferIsAppliedAtStartBeforeTheServerAnswers) {
  proto::ConnectionSettingsOffers kept =
      offers_message({.metrics = Offer{"http://m:4318/v1/metrics"},
                      .logs = Offer{"http://l:4318/v1/logs", {{"X-Key", "1"}}}});
  kept.mutable_opamp()->set_destination_endpoint("ws://ignored/v1/opamp");  // upstream keeps it
  host().storage()[kPersisted] = kept.SerializeAsString();
  start_all();
  ASSERT_EQ(host().config_changes().size(), 1u) << "applied in start, before any message";
  const YAML::Node layer = applied_layer();
  EXPECT_EQ(exporter_of(layer, "metrics")["endpoint"].as<std::string>(),
            "http://m:4318/v1/metrics");
  EXPECT_EQ(exporter_of(layer, "logs")["headers"][0]["name"].as<std::string>(), "X-Key");
  EXPECT_TRUE(host().logged("applying the offer kept in last_recv_own_telemetry_config.dat"));
}

TEST_F(OwnTelemetryModule, APersistedSignalWhoseCapabilityIsNowOffIsNotApplied) {
  host().storage()[kPersisted] = offers_message({.metrics = Offer{"http://m:4318/v1/metrics"},
                                                 .logs = Offer{"http://l:4318/v1/logs"}})
                                     .SerializeAsString();
  // The Go supervisor's defaults: own metrics on, own logs and traces off.
  start_with("storage:\n  directory: " + storage_.string() + "\n");
  const YAML::Node layer = applied_layer();
  EXPECT_TRUE(exporter_of(layer, "metrics"));
  EXPECT_FALSE(layer["service"]["telemetry"]["logs"]);
  EXPECT_TRUE(host().logged("reports_own_logs is off"));
}

TEST_F(OwnTelemetryModule, AnUnreadablePersistedOfferIsIgnoredWithAWarning) {
  host().storage()[kPersisted] = std::string("\xff\xff\xff", 3);
  start_all();
  EXPECT_TRUE(host().config_changes().empty());
  EXPECT_TRUE(host().logged("cannot be read or parsed", OPSUP_LOG_WARN));
  host().deliver_server_message(server_message({.metrics = Offer{"http://m:4318/v1/metrics"}}));
  EXPECT_TRUE(applied_layer().IsMap());
}

TEST_F(OwnTelemetryModule, OfferedTlsMaterialBecomesPemFilesTheLayerNamesByPath) {
  start_all();
  host().deliver_server_message(server_message(
      {.metrics = Offer{.endpoint = "https://otlp:4318/v1/metrics",
                        .ca_pem = "CA-ONE\n",
                        .ca_cert = "CA-TWO",
                        .cert = "CLIENT-CERT\n",
                        .private_key = "CLIENT-KEY\n"},
       .logs = Offer{.endpoint = "https://otlp:4318/v1/logs", .ca_cert = "LOGS-CA\n"}}));
  // The files are written before the layer that names them is handed over.
  auto &files = host().storage();
  EXPECT_EQ(files["own_telemetry_metrics_ca.pem"], "CA-ONE\nCA-TWO\n");
  EXPECT_EQ(files["own_telemetry_metrics_cert.pem"], "CLIENT-CERT\n");
  EXPECT_EQ(files["own_telemetry_metrics_key.pem"], "CLIENT-KEY\n");
  EXPECT_EQ(files["own_telemetry_logs_ca.pem"], "LOGS-CA\n");
  EXPECT_EQ(files.count("own_telemetry_logs_cert.pem"), 0u);

  const YAML::Node layer = applied_layer();
  const YAML::Node metrics = exporter_of(layer, "metrics");
  EXPECT_EQ(metrics["certificate"].as<std::string>(), path_of("own_telemetry_metrics_ca.pem"));
  EXPECT_EQ(metrics["client_certificate"].as<std::string>(),
            path_of("own_telemetry_metrics_cert.pem"));
  EXPECT_EQ(metrics["client_key"].as<std::string>(), path_of("own_telemetry_metrics_key.pem"));
  const YAML::Node logs = exporter_of(layer, "logs");
  EXPECT_EQ(logs["certificate"].as<std::string>(), path_of("own_telemetry_logs_ca.pem"));
  EXPECT_FALSE(logs["client_certificate"]);
  EXPECT_FALSE(host().logged("CLIENT-KEY")) << "key material never reaches the log";
}

TEST_F(OwnTelemetryModule, NewCertificatesUnderAnUnchangedLayerRestartTheCollector) {
  host().set_composed_config("service: {}\n");  // the Collector has a config to restart on
  start_all();
  host().deliver_server_message(server_message(
      {.metrics = Offer{.endpoint = "https://otlp:4318/v1/metrics", .ca_pem = "CA-ONE\n"}}));
  applied_layer();
  EXPECT_EQ(host().restart_requests(), 0u);
  host().deliver_server_message(server_message(
      {.metrics = Offer{.endpoint = "https://otlp:4318/v1/metrics", .ca_pem = "CA-ROTATED\n"}}));
  EXPECT_EQ(host().config_changes().size(), 1u) << "same paths: the layer text is unchanged";
  EXPECT_EQ(host().storage()["own_telemetry_metrics_ca.pem"], "CA-ROTATED\n");
  EXPECT_EQ(host().restart_requests(), 1u) << "the Collector reads the files at start";
  EXPECT_TRUE(host().logged("certificates changed; restarting the Collector", OPSUP_LOG_INFO));
}

TEST_F(OwnTelemetryModule, TlsSettingsTheCollectorCannotTakeAreReportedNotDroppedSilently) {
  start_all();
  proto::ConnectionSettingsOffers offers =
      offers_message({.metrics = Offer{"https://otlp:4318/v1/metrics"},
                      .logs = Offer{.endpoint = "http://plain:4318/v1/logs", .ca_pem = "CA\n"}});
  offers.mutable_own_metrics()->mutable_tls()->set_insecure_skip_verify(true);
  offers.mutable_own_metrics()->mutable_tls()->set_min_version("1.3");
  offers.mutable_own_metrics()->mutable_proxy()->set_url("http://proxy:3128");
  offers.mutable_own_metrics()->mutable_certificate()->set_cert("CERT-WITHOUT-KEY");
  host().deliver_server_message(server_message(offers));
  EXPECT_TRUE(host().logged("metrics: tls.insecure_skip_verify is not applied", OPSUP_LOG_WARN));
  EXPECT_TRUE(
      host().logged("metrics: tls.min_version, max_version and cipher_suites are not "
                    "applied",
                    OPSUP_LOG_WARN));
  EXPECT_TRUE(host().logged("metrics: the proxy is not applied", OPSUP_LOG_WARN));
  EXPECT_TRUE(host().logged("metrics: certificate.cert and certificate.private_key come together",
                            OPSUP_LOG_WARN));
  EXPECT_TRUE(
      host().logged("logs: TLS settings are not used with an http:// endpoint", OPSUP_LOG_WARN));
  const YAML::Node layer = applied_layer();
  EXPECT_FALSE(exporter_of(layer, "metrics")["client_certificate"]);
  EXPECT_FALSE(exporter_of(layer, "logs")["certificate"]);
  // The Collector's schema would refuse these keys: they never reach the layer.
  EXPECT_FALSE(exporter_of(layer, "metrics")["insecure_skip_verify"]);
  EXPECT_FALSE(exporter_of(layer, "metrics")["tls"]);
}

TEST_F(OwnTelemetryModule, IncludeSystemCaCertsPoolTrustsTheSystemBundleBesideTheOfferedCa) {
  start_all();
  proto::ConnectionSettingsOffers offers = offers_message(
      {.metrics = Offer{.endpoint = "https://otlp:4318/v1/metrics", .ca_pem = "OFFERED-CA\n"}});
  offers.mutable_own_metrics()->mutable_tls()->set_include_system_ca_certs_pool(true);
  host().deliver_server_message(server_message(offers));
  const std::string &trusted = host().storage()["own_telemetry_metrics_ca.pem"];
  if (fs::exists("/etc/ssl/certs/ca-certificates.crt")) {
    EXPECT_GT(trusted.size(), std::string("OFFERED-CA\n").size());
    EXPECT_NE(trusted.find("BEGIN CERTIFICATE"), std::string::npos);
    EXPECT_EQ(trusted.substr(trusted.size() - 11), "OFFERED-CA\n");
  } else {
    EXPECT_EQ(trusted, "OFFERED-CA\n");
    EXPECT_TRUE(host().logged("no system CA bundle was found", OPSUP_LOG_WARN));
  }
}

TEST_F(OwnTelemetryModule, AnEndpointThatIsNotAnHttpUrlIsNotExportedAndTheOthersStillAre) {
  start_all();
  host().deliver_server_message(server_message(
      {.metrics = Offer{"otlp.example.com:4318"}, .logs = Offer{"http://l:4318/v1/logs"}}));
  EXPECT_TRUE(
      host().logged("metrics: the endpoint \"otlp.example.com:4318\" is not an http:// "
                    "or https:// URL with a host; metrics are not exported",
                    OPSUP_LOG_WARN));
  const YAML::Node layer = applied_layer();
  EXPECT_FALSE(layer["service"]["telemetry"]["metrics"]);
  EXPECT_TRUE(exporter_of(layer, "logs"));
}

TEST_F(OwnTelemetryModule, HeaderValuesAndEndpointsKeepTheirTextThroughYaml) {
  start_all();
  host().deliver_server_message(
      server_message({.metrics = Offer{"http://m:4318/v1/metrics?a=1&b=\"2\"",
                                       {{"X-Bool", "true"},
                                        {"X-Number", "0123"},
                                        {"X-Quote", "a \"b\" \\c"},
                                        {"X-Empty", ""},
                                        {"X-Line", "one\ntwo"}}}}));
  const std::string &text = host().config_changes().at(0).yaml.value();
  const YAML::Node otlp = exporter_of(YAML::Load(text), "metrics");
  EXPECT_EQ(otlp["endpoint"].as<std::string>(), "http://m:4318/v1/metrics?a=1&b=\"2\"");
  const YAML::Node headers = otlp["headers"];
  ASSERT_EQ(headers.size(), 5u);
  EXPECT_EQ(headers[0]["value"].Tag(), "!") << "quoted, so it stays a string: " << text;
  EXPECT_EQ(headers[0]["value"].as<std::string>(), "true");
  EXPECT_EQ(headers[1]["value"].as<std::string>(), "0123");
  EXPECT_EQ(headers[2]["value"].as<std::string>(), "a \"b\" \\c");
  EXPECT_EQ(headers[3]["value"].as<std::string>(), "");
  EXPECT_EQ(headers[4]["value"].as<std::string>(), "one\ntwo");
}

TEST_F(OwnTelemetryModule, MetricsIntervalSetsThePeriodicReadersInterval) {
  host().set_own_settings_yaml("metrics_interval: 1500ms\n");
  host().set_setting("metrics_interval", "1500ms");
  start_all();
  host().deliver_server_message(server_message({.metrics = Offer{"http://m:4318/v1/metrics"}}));
  const YAML::Node layer = applied_layer();
  EXPECT_EQ(
      layer["service"]["telemetry"]["metrics"]["readers"][0]["periodic"]["interval"].as<int>(),
      1500);
}

TEST_F(OwnTelemetryModule, BadSettingsAreRefusedNamingTheKey) {
  host().set_own_settings_yaml("metrics_intervall: 1s\n");
  EXPECT_EQ(host().create(config_yaml()), OPSUP_ERR_INVALID_ARGUMENT);
  EXPECT_NE(host().last_error().find("plugins.own_telemetry.metrics_intervall: unknown key"),
            std::string::npos)
      << host().last_error();
}

TEST_F(OwnTelemetryModule, AZeroMetricsIntervalIsRefused) {
  host().set_own_settings_yaml("metrics_interval: 0s\n");
  host().set_setting("metrics_interval", "0s");
  EXPECT_EQ(host().create(config_yaml()), OPSUP_ERR_INVALID_ARGUMENT);
  EXPECT_NE(host().last_error().find("plugins.own_telemetry.metrics_interval: must be positive"),
            std::string::npos)
      << host().last_error();
}

TEST_F(OwnTelemetryModule, WithdrawnPemFilesAreRemovedOnceNoLayerInForceNamesThem) {
  start_all();
  // Files as an earlier run left them on disk (the fake host keeps storage in memory).
  std::ofstream(storage_ / "own_telemetry_metrics_key.pem") << "OLD-KEY";
  std::ofstream(storage_ / "own_telemetry_logs_ca.pem") << "OLD-CA";
  std::ofstream(storage_ / "unrelated.pem") << "keep";
  host().deliver_server_message(
      server_message({.logs = Offer{.endpoint = "https://l:4318/v1/logs", .ca_pem = "LOGS-CA\n"}}));
  EXPECT_TRUE(fs::exists(storage_ / "own_telemetry_metrics_key.pem")) << "not before it applies";
  applied_layer();
  EXPECT_FALSE(fs::exists(storage_ / "own_telemetry_metrics_key.pem"));
  EXPECT_TRUE(fs::exists(storage_ / "own_telemetry_logs_ca.pem")) << "the layer names it";
  EXPECT_TRUE(fs::exists(storage_ / "unrelated.pem"));
  // Logs withdrawn: its CA goes once the layer is gone.
  host().deliver_server_message(server_message({.logs = Offer{""}}));
  EXPECT_TRUE(fs::exists(storage_ / "own_telemetry_logs_ca.pem"));
  applied_layer();
  EXPECT_FALSE(fs::exists(storage_ / "own_telemetry_logs_ca.pem"));
}

TEST_F(OwnTelemetryModule, ARefusedLayerIsReportedAndTheNextOfferIsComparedWithTheLayerInForce) {
  start_all();
  host().deliver_server_message(server_message({.metrics = Offer{"http://m:4318/v1/metrics"}}));
  ASSERT_TRUE(host().complete_config_change(OPSUP_ERR_VETO, 0, "config_policy: denied"));
  EXPECT_TRUE(host().logged("was not applied (status 6): config_policy: denied", OPSUP_LOG_ERROR));
  EXPECT_TRUE(host().config_layers().empty());
  // Withdrawing the refused offer: nothing is in force, so nothing to remove... but a new
  // endpoint is tried.
  host().deliver_server_message(server_message({.metrics = Offer{"http://n:4318/v1/metrics"}}));
  EXPECT_EQ(exporter_of(applied_layer(), "metrics")["endpoint"].as<std::string>(),
            "http://n:4318/v1/metrics");
}

TEST_F(OwnTelemetryModule, ARelativeStorageDirectoryIsMadeAbsoluteForTheCollector) {
  start_with("storage:\n  directory: relative/dir\ncapabilities:\n  reports_own_metrics: true\n");
  host().deliver_server_message(
      server_message({.metrics = Offer{.endpoint = "https://m:4318/v1/metrics", .ca_pem = "CA"}}));
  const YAML::Node layer = applied_layer();
  EXPECT_EQ(exporter_of(layer, "metrics")["certificate"].as<std::string>(),
            (fs::current_path() / "relative/dir/own_telemetry_metrics_ca.pem").string());
}

}  // namespace
