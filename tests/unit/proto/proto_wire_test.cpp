// Wire identity: messages encoded by hand from the opamp-spec field numbers and wire
// types must decode to the expected fields, and our encoder must produce those bytes.
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <limits>
#include <string>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "opamp.pb.h"

namespace {

namespace pb = opamp::proto::v1;

// Minimal protobuf writer so the expected bytes do not come from protobuf itself.
class RawWriter {
 public:
  RawWriter &varint_field(uint32_t field, uint64_t value) {
    key(field, 0);
    varint(value);
    return *this;
  }
  RawWriter &bytes_field(uint32_t field, const std::string &value) {
    key(field, 2);
    varint(value.size());
    bytes_ += value;
    return *this;
  }
  RawWriter &fixed64_field(uint32_t field, uint64_t value) {
    key(field, 1);
    for (int i = 0; i < 8; ++i)
      bytes_.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
    return *this;
  }
  // A proto `double` is the IEEE-754 bit pattern on the fixed64 wire type.
  RawWriter &double_field(uint32_t field, double value) {
    return fixed64_field(field, std::bit_cast<uint64_t>(value));
  }
  const std::string &bytes() const { return bytes_; }

 private:
  void key(uint32_t field, uint32_t wire_type) { varint((uint64_t{field} << 3) | wire_type); }
  void varint(uint64_t value) {
    while (value >= 0x80) {
      bytes_.push_back(static_cast<char>((value & 0x7f) | 0x80));
      value >>= 7;
    }
    bytes_.push_back(static_cast<char>(value));
  }
  std::string bytes_;
};

std::string uid16() {
  return std::string("0123456789abcdef");
}

// A map<K, V> field is a repeated message with the key as field 1 and the value as field 2.
std::string map_entry(const std::string &key, const std::string &value) {
  RawWriter entry;
  entry.bytes_field(1, key).bytes_field(2, value);
  return entry.bytes();
}

// KeyValue{key = 1, value = 2} holding AnyValue{string_value = 1}.
std::string string_attribute(const std::string &key, const std::string &value) {
  RawWriter any;
  any.bytes_field(1, value);
  RawWriter kv;
  kv.bytes_field(1, key).bytes_field(2, any.bytes());
  return kv.bytes();
}

TEST(ProtoWire, AgentToServerTopLevelFieldNumbers) {
  RawWriter health;
  health.varint_field(1, 1)
      .fixed64_field(2, 1234567890123ULL)
      .bytes_field(3, "boom")
      .bytes_field(4, "StatusOK");
  RawWriter status;
  status.bytes_field(1, "hash").varint_field(2, 3).bytes_field(3, "bad config");
  RawWriter custom;
  custom.bytes_field(1, "io.example.cap").bytes_field(2, "ping").bytes_field(3, "data");
  RawWriter components;
  components.bytes_field(2, "components-hash");
  RawWriter conn_status;
  conn_status.bytes_field(1, "cs-hash").varint_field(2, 1);

  RawWriter message;
  message.bytes_field(1, uid16())
      .varint_field(2, 42)
      .varint_field(4, 0x2001)
      .bytes_field(5, health.bytes())
      .bytes_field(7, status.bytes())
      .bytes_field(9, "")
      .varint_field(10, 1)
      .bytes_field(13, custom.bytes())
      .bytes_field(14, components.bytes())
      .bytes_field(15, conn_status.bytes());

  pb::AgentToServer decoded;
  ASSERT_TRUE(decoded.ParseFromString(message.bytes()));
  EXPECT_EQ(decoded.instance_uid(), uid16());
  EXPECT_EQ(decoded.sequence_num(), 42u);
  EXPECT_EQ(decoded.capabilities(),
            pb::AgentCapabilities_ReportsStatus | pb::AgentCapabilities_ReportsHeartbeat);
  EXPECT_TRUE(decoded.health().healthy());
  EXPECT_EQ(decoded.health().start_time_unix_nano(), 1234567890123ULL);
  EXPECT_EQ(decoded.health().last_error(), "boom");
  EXPECT_EQ(decoded.health().status(), "StatusOK");
  EXPECT_EQ(decoded.remote_config_status().last_remote_config_hash(), "hash");
  EXPECT_EQ(decoded.remote_config_status().status(), pb::RemoteConfigStatuses_FAILED);
  EXPECT_EQ(decoded.remote_config_status().error_message(), "bad config");
  EXPECT_TRUE(decoded.has_agent_disconnect());
  EXPECT_EQ(decoded.flags(), uint64_t{pb::AgentToServerFlags_RequestInstanceUid});
  EXPECT_EQ(decoded.custom_message().capability(), "io.example.cap");
  EXPECT_EQ(decoded.custom_message().type(), "ping");
  EXPECT_EQ(decoded.custom_message().data(), "data");
  EXPECT_EQ(decoded.available_components().hash(), "components-hash");
  EXPECT_EQ(decoded.connection_settings_status().last_connection_settings_hash(), "cs-hash");
  EXPECT_EQ(decoded.connection_settings_status().status(), pb::ConnectionSettingsStatuses_APPLIED);

  // Our encoder writes fields in number order, so it must reproduce the bytes exactly.
  EXPECT_EQ(decoded.SerializeAsString(), message.bytes());
}

TEST(ProtoWire, ServerToAgentOffersAndCommands) {
  RawWriter header;
  header.bytes_field(1, "Authorization").bytes_field(2, "Bearer x");
  RawWriter headers;
  headers.bytes_field(1, header.bytes());
  RawWriter tls;
  tls.bytes_field(1, "CA-PEM").varint_field(3, 1).bytes_field(4, "1.3");
  RawWriter opamp;
  opamp.bytes_field(1, "wss://example:4320/v1/opamp")
      .bytes_field(2, headers.bytes())
      .varint_field(4, 15)
      .bytes_field(5, tls.bytes());
  RawWriter telemetry;
  telemetry.bytes_field(1, "https://otlp:4318/v1/metrics");
  RawWriter other;
  other.bytes_field(1, "collector:4317");
  RawWriter other_entry;  // map entries are messages with key=1, value=2
  other_entry.bytes_field(1, "otlp/backend").bytes_field(2, other.bytes());
  RawWriter offers;
  offers.bytes_field(1, "offer-hash")
      .bytes_field(2, opamp.bytes())
      .bytes_field(3, telemetry.bytes())
      .bytes_field(6, other_entry.bytes());

  RawWriter file;
  file.bytes_field(1, "receivers: {}").bytes_field(2, "text/yaml");
  RawWriter file_entry;
  file_entry.bytes_field(1, "main.yaml").bytes_field(2, file.bytes());
  RawWriter config_map;
  config_map.bytes_field(1, file_entry.bytes());
  RawWriter remote;
  remote.bytes_field(1, config_map.bytes()).bytes_field(2, "cfg-hash");

  RawWriter retry;
  retry.varint_field(1, 2'000'000'000ULL);
  RawWriter error;
  error.varint_field(1, 2).bytes_field(2, "busy").bytes_field(3, retry.bytes());

  RawWriter identification;
  identification.bytes_field(1, uid16());

  RawWriter message;
  message.bytes_field(1, uid16())
      .bytes_field(2, error.bytes())
      .bytes_field(3, remote.bytes())
      .bytes_field(4, offers.bytes())
      .varint_field(6, 3)
      .varint_field(7, 0x7f)
      .bytes_field(8, identification.bytes());

  pb::ServerToAgent decoded;
  ASSERT_TRUE(decoded.ParseFromString(message.bytes()));
  EXPECT_EQ(decoded.error_response().type(), pb::ServerErrorResponseType_Unavailable);
  EXPECT_EQ(decoded.error_response().retry_info().retry_after_nanoseconds(), 2'000'000'000ULL);
  const auto &files = decoded.remote_config().config().config_map();
  ASSERT_EQ(files.count("main.yaml"), 1u);
  EXPECT_EQ(files.at("main.yaml").body(), "receivers: {}");
  EXPECT_EQ(files.at("main.yaml").content_type(), "text/yaml");
  EXPECT_EQ(decoded.remote_config().config_hash(), "cfg-hash");
  const auto &cs = decoded.connection_settings();
  EXPECT_EQ(cs.hash(), "offer-hash");
  EXPECT_EQ(cs.opamp().destination_endpoint(), "wss://example:4320/v1/opamp");
  ASSERT_EQ(cs.opamp().headers().headers_size(), 1);
  EXPECT_EQ(cs.opamp().headers().headers(0).key(), "Authorization");
  EXPECT_EQ(cs.opamp().heartbeat_interval_seconds(), 15u);
  EXPECT_EQ(cs.opamp().tls().ca_pem_contents(), "CA-PEM");
  EXPECT_TRUE(cs.opamp().tls().insecure_skip_verify());
  EXPECT_EQ(cs.opamp().tls().min_version(), "1.3");
  EXPECT_EQ(cs.own_metrics().destination_endpoint(), "https://otlp:4318/v1/metrics");
  ASSERT_EQ(cs.other_connections().count("otlp/backend"), 1u);
  EXPECT_EQ(cs.other_connections().at("otlp/backend").destination_endpoint(), "collector:4317");
  EXPECT_EQ(decoded.flags(), uint64_t{pb::ServerToAgentFlags_ReportFullState |
                                      pb::ServerToAgentFlags_ReportAvailableComponents});
  EXPECT_EQ(decoded.capabilities(), 0x7fu);
  EXPECT_EQ(decoded.agent_identification().new_instance_uid(), uid16());
}

TEST(ProtoWire, CapabilityAndEnumValuesMatchTheSpec) {
  EXPECT_EQ(pb::AgentCapabilities_AcceptsRemoteConfig, 0x2);
  EXPECT_EQ(pb::AgentCapabilities_AcceptsPackages, 0x8);
  EXPECT_EQ(pb::AgentCapabilities_ReportsPackageStatuses, 0x10);
  EXPECT_EQ(pb::AgentCapabilities_ReportsOwnTraces, 0x20);
  EXPECT_EQ(pb::AgentCapabilities_ReportsOwnMetrics, 0x40);
  EXPECT_EQ(pb::AgentCapabilities_ReportsOwnLogs, 0x80);
  EXPECT_EQ(pb::AgentCapabilities_AcceptsOpAMPConnectionSettings, 0x100);
  EXPECT_EQ(pb::AgentCapabilities_AcceptsOtherConnectionSettings, 0x200);
  EXPECT_EQ(pb::AgentCapabilities_AcceptsRestartCommand, 0x400);
  EXPECT_EQ(pb::AgentCapabilities_ReportsHealth, 0x800);
  EXPECT_EQ(pb::AgentCapabilities_ReportsRemoteConfig, 0x1000);
  EXPECT_EQ(pb::AgentCapabilities_ReportsHeartbeat, 0x2000);
  EXPECT_EQ(pb::AgentCapabilities_ReportsAvailableComponents, 0x4000);
  EXPECT_EQ(pb::AgentCapabilities_ReportsConnectionSettingsStatus, 0x8000);
  EXPECT_EQ(pb::ServerCapabilities_AcceptsConnectionSettingsRequest, 0x40);
  EXPECT_EQ(pb::PackageStatusEnum_Downloading, 4);
  EXPECT_EQ(pb::PackageType_Addon, 1);
  EXPECT_EQ(pb::CommandType_Restart, 0);
}

TEST(ProtoWire, PackagesAndCertificateRequest) {
  RawWriter file;
  file.bytes_field(1, "http://srv/pkg").bytes_field(2, "sha").bytes_field(3, "sig");
  RawWriter package;
  package.varint_field(1, 1)
      .bytes_field(2, "v1.2.3")
      .bytes_field(3, file.bytes())
      .bytes_field(4, "pkg-hash");
  RawWriter entry;
  entry.bytes_field(1, "").bytes_field(2, package.bytes());
  RawWriter available;
  available.bytes_field(1, entry.bytes()).bytes_field(2, "all-hash");
  RawWriter server;
  server.bytes_field(5, available.bytes());

  pb::ServerToAgent decoded;
  ASSERT_TRUE(decoded.ParseFromString(server.bytes()));
  const auto &pkg = decoded.packages_available().packages().at("");
  EXPECT_EQ(pkg.type(), pb::PackageType_Addon);
  EXPECT_EQ(pkg.version(), "v1.2.3");
  EXPECT_EQ(pkg.file().download_url(), "http://srv/pkg");
  EXPECT_EQ(pkg.file().content_hash(), "sha");
  EXPECT_EQ(pkg.file().signature(), "sig");
  EXPECT_EQ(pkg.hash(), "pkg-hash");
  EXPECT_EQ(decoded.packages_available().all_packages_hash(), "all-hash");

  RawWriter csr;
  csr.bytes_field(1, "CSR-PEM");
  RawWriter opamp_request;
  opamp_request.bytes_field(1, csr.bytes());
  RawWriter request;
  request.bytes_field(1, opamp_request.bytes());
  RawWriter agent;
  agent.bytes_field(11, request.bytes());
  pb::AgentToServer agent_decoded;
  ASSERT_TRUE(agent_decoded.ParseFromString(agent.bytes()));
  EXPECT_EQ(agent_decoded.connection_settings_request().opamp().certificate_request().csr(),
            "CSR-PEM");
}

TEST(ProtoWire, AgentToServerDescriptionEffectiveConfigPackagesAndCustomCapabilities) {
  RawWriter description;
  description.bytes_field(1, string_attribute("service.name", "otelcol-contrib"))
      .bytes_field(1, string_attribute("service.version", "0.153.0"))
      .bytes_field(2, string_attribute("os.type", "linux"));

  RawWriter file;
  file.bytes_field(1, "receivers: {}\n").bytes_field(2, "text/yaml");
  RawWriter config_map;
  config_map.bytes_field(1, map_entry("effective.yaml", file.bytes()));
  RawWriter effective;
  effective.bytes_field(1, config_map.bytes());

  RawWriter details;
  details.double_field(1, 42.5).double_field(2, 1048576.0);
  RawWriter package;
  package.bytes_field(1, "otelcol")
      .bytes_field(2, "0.152.0")
      .bytes_field(3, "have-hash")
      .bytes_field(4, "0.153.0")
      .bytes_field(5, "offer-hash")
      .varint_field(6, 4)
      .bytes_field(7, "slow mirror")
      .bytes_field(8, details.bytes());
  RawWriter statuses;
  statuses.bytes_field(1, map_entry("otelcol", package.bytes()))
      .bytes_field(2, "all-hash")
      .bytes_field(3, "partial");

  RawWriter custom;
  custom.bytes_field(1, "io.example.ping").bytes_field(1, "io.example.pong");

  RawWriter message;
  message.bytes_field(1, uid16())
      .bytes_field(3, description.bytes())
      .bytes_field(6, effective.bytes())
      .bytes_field(8, statuses.bytes())
      .bytes_field(12, custom.bytes());

  pb::AgentToServer decoded;
  ASSERT_TRUE(decoded.ParseFromString(message.bytes()));
  const auto &desc = decoded.agent_description();
  ASSERT_EQ(desc.identifying_attributes_size(), 2);
  EXPECT_EQ(desc.identifying_attributes(0).key(), "service.name");
  EXPECT_EQ(desc.identifying_attributes(0).value().string_value(), "otelcol-contrib");
  EXPECT_EQ(desc.identifying_attributes(1).value().string_value(), "0.153.0");
  ASSERT_EQ(desc.non_identifying_attributes_size(), 1);
  EXPECT_EQ(desc.non_identifying_attributes(0).key(), "os.type");
  EXPECT_EQ(desc.non_identifying_attributes(0).value().string_value(), "linux");

  const auto &files = decoded.effective_config().config_map().config_map();
  ASSERT_EQ(files.count("effective.yaml"), 1u);
  EXPECT_EQ(files.at("effective.yaml").body(), "receivers: {}\n");
  EXPECT_EQ(files.at("effective.yaml").content_type(), "text/yaml");

  const auto &packages = decoded.package_statuses();
  EXPECT_EQ(packages.server_provided_all_packages_hash(), "all-hash");
  EXPECT_EQ(packages.error_message(), "partial");
  ASSERT_EQ(packages.packages().count("otelcol"), 1u);
  const auto &status = packages.packages().at("otelcol");
  EXPECT_EQ(status.name(), "otelcol");
  EXPECT_EQ(status.agent_has_version(), "0.152.0");
  EXPECT_EQ(status.agent_has_hash(), "have-hash");
  EXPECT_EQ(status.server_offered_version(), "0.153.0");
  EXPECT_EQ(status.server_offered_hash(), "offer-hash");
  EXPECT_EQ(status.status(), pb::PackageStatusEnum_Downloading);
  EXPECT_EQ(status.error_message(), "slow mirror");
  EXPECT_DOUBLE_EQ(status.download_details().download_percent(), 42.5);
  EXPECT_DOUBLE_EQ(status.download_details().download_bytes_per_second(), 1048576.0);

  ASSERT_EQ(decoded.custom_capabilities().capabilities_size(), 2);
  EXPECT_EQ(decoded.custom_capabilities().capabilities(0), "io.example.ping");
  EXPECT_EQ(decoded.custom_capabilities().capabilities(1), "io.example.pong");

  EXPECT_EQ(decoded.SerializeAsString(), message.bytes());
}

// opamp-spec 0.20.0 renamed AgentConfigFile to AgentConfigObject and added `role` (3):
// several keys, "" among them, may be views of one config. Bytes written before the rename
// (no field 3) decode as before, and an object without a role encodes to those same bytes.
TEST(ProtoWire, AgentConfigObjectRoleAndSeveralKeysOfOneConfig) {
  RawWriter expanded;
  expanded.bytes_field(1, "receivers: {}\n").bytes_field(2, "text/yaml").bytes_field(3, "expanded");
  RawWriter raw;
  raw.bytes_field(1, "receivers: ${env:R}\n").bytes_field(2, "text/yaml").bytes_field(3, "raw");
  RawWriter config_map;  // map entries in key order, as deterministic serialization writes them
  config_map.bytes_field(1, map_entry("", expanded.bytes()))
      .bytes_field(1, map_entry("raw", raw.bytes()));
  RawWriter effective;
  effective.bytes_field(1, config_map.bytes());
  RawWriter message;
  message.bytes_field(1, uid16()).bytes_field(6, effective.bytes());

  pb::AgentToServer decoded;
  ASSERT_TRUE(decoded.ParseFromString(message.bytes()));
  const auto &objects = decoded.effective_config().config_map().config_map();
  ASSERT_EQ(objects.size(), 2u);
  const pb::AgentConfigObject &main_view = objects.at("");
  EXPECT_EQ(main_view.body(), "receivers: {}\n");
  EXPECT_EQ(main_view.content_type(), "text/yaml");
  EXPECT_EQ(main_view.role(), "expanded");
  EXPECT_EQ(objects.at("raw").role(), "raw");
  EXPECT_EQ(objects.at("raw").body(), "receivers: ${env:R}\n");

  std::string encoded;
  {
    google::protobuf::io::StringOutputStream stream(&encoded);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    ASSERT_TRUE(decoded.SerializeToCodedStream(&coded));
  }
  EXPECT_EQ(encoded, message.bytes());

  // The pre-rename layout: body and content_type only.
  RawWriter old_file;
  old_file.bytes_field(1, "exporters: {}").bytes_field(2, "text/yaml");
  RawWriter old_map;
  old_map.bytes_field(1, map_entry("main.yaml", old_file.bytes()));
  RawWriter remote;
  remote.bytes_field(1, old_map.bytes()).bytes_field(2, "cfg-hash");
  RawWriter server_message;
  server_message.bytes_field(1, uid16()).bytes_field(3, remote.bytes());
  pb::ServerToAgent old_decoded;
  ASSERT_TRUE(old_decoded.ParseFromString(server_message.bytes()));
  const pb::AgentConfigObject &old_object =
      old_decoded.remote_config().config().config_map().at("main.yaml");
  EXPECT_EQ(old_object.body(), "exporters: {}");
  EXPECT_TRUE(old_object.role().empty());
  EXPECT_EQ(old_decoded.SerializeAsString(), server_message.bytes());
}

TEST(ProtoWire, ComponentHealthStatusTimeNestedMapAndAttributes) {
  RawWriter exporter;  // two levels down
  exporter.varint_field(1, 0)
      .bytes_field(3, "connection refused")
      .bytes_field(4, "StatusRecoverableError");
  RawWriter pipeline;
  pipeline.varint_field(1, 1)
      .bytes_field(4, "StatusOK")
      .fixed64_field(5, 2222)
      .bytes_field(6, map_entry("exporter:otlp", exporter.bytes()));
  RawWriter health;
  health.varint_field(1, 1)
      .fixed64_field(2, 1111)
      .bytes_field(4, "StatusOK")
      .fixed64_field(5, 0xfedcba9876543210ULL)
      .bytes_field(6, map_entry("pipeline:traces", pipeline.bytes()))
      .bytes_field(7, string_attribute("host.name", "node-1"));
  RawWriter message;
  message.bytes_field(5, health.bytes());

  pb::AgentToServer decoded;
  ASSERT_TRUE(decoded.ParseFromString(message.bytes()));
  const auto &top = decoded.health();
  EXPECT_TRUE(top.healthy());
  EXPECT_EQ(top.start_time_unix_nano(), 1111u);
  EXPECT_EQ(top.status_time_unix_nano(), 0xfedcba9876543210ULL);
  ASSERT_EQ(top.attributes_size(), 1);
  EXPECT_EQ(top.attributes(0).key(), "host.name");
  EXPECT_EQ(top.attributes(0).value().string_value(), "node-1");
  ASSERT_EQ(top.component_health_map().count("pipeline:traces"), 1u);
  const auto &child = top.component_health_map().at("pipeline:traces");
  EXPECT_TRUE(child.healthy());
  EXPECT_EQ(child.status_time_unix_nano(), 2222u);
  ASSERT_EQ(child.component_health_map().count("exporter:otlp"), 1u);
  const auto &leaf = child.component_health_map().at("exporter:otlp");
  EXPECT_FALSE(leaf.healthy());
  EXPECT_EQ(leaf.last_error(), "connection refused");
  EXPECT_EQ(leaf.status(), "StatusRecoverableError");
  EXPECT_TRUE(leaf.component_health_map().empty());
}

TEST(ProtoWire, ServerToAgentCommandAndCustomCapabilitiesAndMessage) {
  RawWriter capabilities;
  capabilities.bytes_field(1, "io.example.ping");
  RawWriter custom;
  custom.bytes_field(1, "io.example.ping")
      .bytes_field(2, "pong")
      .bytes_field(3, std::string("\0\1", 2));
  RawWriter message;
  // CommandType_Restart is 0, so a proto3 encoder sends an empty ServerToAgentCommand.
  message.bytes_field(9, "").bytes_field(10, capabilities.bytes()).bytes_field(11, custom.bytes());

  pb::ServerToAgent decoded;
  ASSERT_TRUE(decoded.ParseFromString(message.bytes()));
  ASSERT_TRUE(decoded.has_command());
  EXPECT_EQ(decoded.command().type(), pb::CommandType_Restart);
  ASSERT_EQ(decoded.custom_capabilities().capabilities_size(), 1);
  EXPECT_EQ(decoded.custom_capabilities().capabilities(0), "io.example.ping");
  EXPECT_EQ(decoded.custom_message().capability(), "io.example.ping");
  EXPECT_EQ(decoded.custom_message().type(), "pong");
  EXPECT_EQ(decoded.custom_message().data(), std::string("\0\1", 2));
  EXPECT_EQ(decoded.SerializeAsString(), message.bytes());

  // An explicit type = 0 on the wire means the same command.
  RawWriter explicit_type;
  explicit_type.varint_field(1, 0);
  RawWriter explicit_message;
  explicit_message.bytes_field(9, explicit_type.bytes());
  pb::ServerToAgent explicit_decoded;
  ASSERT_TRUE(explicit_decoded.ParseFromString(explicit_message.bytes()));
  ASSERT_TRUE(explicit_decoded.has_command());
  EXPECT_EQ(explicit_decoded.command().type(), pb::CommandType_Restart);
}

TEST(ProtoWire, CertificatesAndProxiesInEveryConnectionSettings) {
  RawWriter certificate;
  certificate.bytes_field(1, "CERT").bytes_field(2, "KEY").bytes_field(3, "CA");
  RawWriter header;
  header.bytes_field(1, "Proxy-Authorization").bytes_field(2, "Basic eA==");
  RawWriter headers;
  headers.bytes_field(1, header.bytes());
  RawWriter proxy;
  proxy.bytes_field(1, "http://proxy:3128").bytes_field(2, headers.bytes());
  RawWriter tls;
  tls.varint_field(2, 1).bytes_field(5, "1.3").bytes_field(6, "TLS_AES_128_GCM_SHA256");

  // OpAMPConnectionSettings: certificate 3, tls 5, proxy 6.
  RawWriter opamp;
  opamp.bytes_field(1, "wss://h/v1/opamp")
      .bytes_field(3, certificate.bytes())
      .bytes_field(5, tls.bytes())
      .bytes_field(6, proxy.bytes());
  // TelemetryConnectionSettings: certificate 3, tls 4, proxy 5.
  RawWriter telemetry;
  telemetry.bytes_field(1, "https://otlp/v1/logs")
      .bytes_field(3, certificate.bytes())
      .bytes_field(4, tls.bytes())
      .bytes_field(5, proxy.bytes());
  // OtherConnectionSettings: certificate 3, other_settings 4, tls 5, proxy 6.
  RawWriter other;
  other.bytes_field(1, "kafka:9092")
      .bytes_field(3, certificate.bytes())
      .bytes_field(4, map_entry("topic", "otlp"))
      .bytes_field(5, tls.bytes())
      .bytes_field(6, proxy.bytes());
  RawWriter offers;
  offers.bytes_field(2, opamp.bytes())
      .bytes_field(4, telemetry.bytes())
      .bytes_field(5, telemetry.bytes())
      .bytes_field(6, map_entry("kafka", other.bytes()));
  RawWriter message;
  message.bytes_field(4, offers.bytes());

  pb::ServerToAgent decoded;
  ASSERT_TRUE(decoded.ParseFromString(message.bytes()));
  const auto &cs = decoded.connection_settings();
  auto expect_certificate = [](const pb::TLSCertificate &cert, const char *where) {
    EXPECT_EQ(cert.cert(), "CERT") << where;
    EXPECT_EQ(cert.private_key(), "KEY") << where;
    EXPECT_EQ(cert.ca_cert(), "CA") << where;
  };
  auto expect_proxy = [](const pb::ProxyConnectionSettings &p, const char *where) {
    EXPECT_EQ(p.url(), "http://proxy:3128") << where;
    ASSERT_EQ(p.connect_headers().headers_size(), 1) << where;
    EXPECT_EQ(p.connect_headers().headers(0).key(), "Proxy-Authorization") << where;
    EXPECT_EQ(p.connect_headers().headers(0).value(), "Basic eA==") << where;
  };
  auto expect_tls = [](const pb::TLSConnectionSettings &t, const char *where) {
    EXPECT_TRUE(t.include_system_ca_certs_pool()) << where;
    EXPECT_EQ(t.max_version(), "1.3") << where;
    ASSERT_EQ(t.cipher_suites_size(), 1) << where;
    EXPECT_EQ(t.cipher_suites(0), "TLS_AES_128_GCM_SHA256") << where;
  };
  expect_certificate(cs.opamp().certificate(), "opamp");
  expect_tls(cs.opamp().tls(), "opamp");
  expect_proxy(cs.opamp().proxy(), "opamp");
  EXPECT_FALSE(cs.has_own_metrics());
  for (const auto *own : {&cs.own_traces(), &cs.own_logs()}) {
    EXPECT_EQ(own->destination_endpoint(), "https://otlp/v1/logs");
    expect_certificate(own->certificate(), "own telemetry");
    expect_tls(own->tls(), "own telemetry");
    expect_proxy(own->proxy(), "own telemetry");
  }
  ASSERT_EQ(cs.other_connections().count("kafka"), 1u);
  const auto &kafka = cs.other_connections().at("kafka");
  EXPECT_EQ(kafka.destination_endpoint(), "kafka:9092");
  expect_certificate(kafka.certificate(), "other");
  EXPECT_EQ(kafka.other_settings().at("topic"), "otlp");
  expect_tls(kafka.tls(), "other");
  expect_proxy(kafka.proxy(), "other");
  EXPECT_EQ(decoded.SerializeAsString(), message.bytes());
}

TEST(ProtoWire, AnyValueEveryKindAndKeyValue) {
  auto decode = [](const RawWriter &raw) {
    pb::AnyValue value;
    EXPECT_TRUE(value.ParseFromString(raw.bytes()));
    return value;
  };
  RawWriter string_value;
  string_value.bytes_field(1, "text");
  EXPECT_EQ(decode(string_value).value_case(), pb::AnyValue::kStringValue);
  EXPECT_EQ(decode(string_value).string_value(), "text");

  RawWriter bool_value;
  bool_value.varint_field(2, 1);
  EXPECT_EQ(decode(bool_value).value_case(), pb::AnyValue::kBoolValue);
  EXPECT_TRUE(decode(bool_value).bool_value());

  RawWriter int_value;  // int64 (not sint64): a negative value is a 10-byte varint
  int_value.varint_field(3, static_cast<uint64_t>(int64_t{-42}));
  EXPECT_EQ(int_value.bytes().size(), 11u);
  EXPECT_EQ(decode(int_value).value_case(), pb::AnyValue::kIntValue);
  EXPECT_EQ(decode(int_value).int_value(), -42);

  RawWriter double_value;
  double_value.double_field(4, -0.125);
  EXPECT_EQ(decode(double_value).value_case(), pb::AnyValue::kDoubleValue);
  EXPECT_DOUBLE_EQ(decode(double_value).double_value(), -0.125);

  RawWriter first;
  first.bytes_field(1, "a");
  RawWriter second;
  second.varint_field(3, std::numeric_limits<int64_t>::max());
  RawWriter array;
  array.bytes_field(1, first.bytes()).bytes_field(1, second.bytes());
  RawWriter array_value;
  array_value.bytes_field(5, array.bytes());
  const pb::AnyValue decoded_array = decode(array_value);
  ASSERT_EQ(decoded_array.value_case(), pb::AnyValue::kArrayValue);
  ASSERT_EQ(decoded_array.array_value().values_size(), 2);
  EXPECT_EQ(decoded_array.array_value().values(0).string_value(), "a");
  EXPECT_EQ(decoded_array.array_value().values(1).int_value(), std::numeric_limits<int64_t>::max());

  RawWriter kvlist;
  kvlist.bytes_field(1, string_attribute("k1", "v1")).bytes_field(1, string_attribute("k2", "v2"));
  RawWriter kvlist_value;
  kvlist_value.bytes_field(6, kvlist.bytes());
  const pb::AnyValue decoded_kvlist = decode(kvlist_value);
  ASSERT_EQ(decoded_kvlist.value_case(), pb::AnyValue::kKvlistValue);
  ASSERT_EQ(decoded_kvlist.kvlist_value().values_size(), 2);
  EXPECT_EQ(decoded_kvlist.kvlist_value().values(1).key(), "k2");
  EXPECT_EQ(decoded_kvlist.kvlist_value().values(1).value().string_value(), "v2");

  RawWriter bytes_value;
  bytes_value.bytes_field(7, std::string("\xff\0", 2));
  EXPECT_EQ(decode(bytes_value).value_case(), pb::AnyValue::kBytesValue);
  EXPECT_EQ(decode(bytes_value).bytes_value(), std::string("\xff\0", 2));

  // No field: the "empty" value.
  EXPECT_EQ(decode(RawWriter{}).value_case(), pb::AnyValue::VALUE_NOT_SET);

  // Every kind round-trips to the same bytes.
  for (const RawWriter *raw : {&string_value, &bool_value, &int_value, &double_value, &array_value,
                               &kvlist_value, &bytes_value}) {
    EXPECT_EQ(decode(*raw).SerializeAsString(), raw->bytes());
  }

  pb::KeyValue kv;
  ASSERT_TRUE(kv.ParseFromString(string_attribute("service.name", "svc")));
  EXPECT_EQ(kv.key(), "service.name");
  EXPECT_EQ(kv.value().string_value(), "svc");
  EXPECT_EQ(kv.SerializeAsString(), string_attribute("service.name", "svc"));
}

TEST(ProtoWire, StatusAndServerCapabilityEnumValues) {
  EXPECT_EQ(pb::RemoteConfigStatuses_UNSET, 0);
  EXPECT_EQ(pb::RemoteConfigStatuses_APPLIED, 1);
  EXPECT_EQ(pb::RemoteConfigStatuses_APPLYING, 2);
  EXPECT_EQ(pb::RemoteConfigStatuses_FAILED, 3);
  EXPECT_EQ(pb::ConnectionSettingsStatuses_UNSET, 0);
  EXPECT_EQ(pb::ConnectionSettingsStatuses_APPLIED, 1);
  EXPECT_EQ(pb::ConnectionSettingsStatuses_APPLYING, 2);
  EXPECT_EQ(pb::ConnectionSettingsStatuses_FAILED, 3);
  EXPECT_EQ(pb::ServerCapabilities_Unspecified, 0);
  EXPECT_EQ(pb::ServerCapabilities_AcceptsStatus, 0x1);
  EXPECT_EQ(pb::ServerCapabilities_OffersRemoteConfig, 0x2);
  EXPECT_EQ(pb::ServerCapabilities_AcceptsEffectiveConfig, 0x4);
  EXPECT_EQ(pb::ServerCapabilities_OffersPackages, 0x8);
  EXPECT_EQ(pb::ServerCapabilities_AcceptsPackagesStatus, 0x10);
  EXPECT_EQ(pb::ServerCapabilities_OffersConnectionSettings, 0x20);
  EXPECT_EQ(pb::ServerCapabilities_AcceptsConnectionSettingsRequest, 0x40);
  EXPECT_EQ(pb::AgentCapabilities_ReportsStatus, 0x1);
  EXPECT_EQ(pb::AgentCapabilities_ReportsEffectiveConfig, 0x4);
  EXPECT_EQ(pb::AgentToServerFlags_RequestInstanceUid, 0x1);
  EXPECT_EQ(pb::ServerToAgentFlags_ReportFullState, 0x1);
  EXPECT_EQ(pb::ServerToAgentFlags_ReportAvailableComponents, 0x2);
  EXPECT_EQ(pb::ServerErrorResponseType_Unknown, 0);
  EXPECT_EQ(pb::ServerErrorResponseType_BadRequest, 1);
  EXPECT_EQ(pb::ServerErrorResponseType_Unavailable, 2);
  EXPECT_EQ(pb::PackageType_TopLevel, 0);
  EXPECT_EQ(pb::PackageStatusEnum_Installed, 0);
  EXPECT_EQ(pb::PackageStatusEnum_InstallPending, 1);
  EXPECT_EQ(pb::PackageStatusEnum_Installing, 2);
  EXPECT_EQ(pb::PackageStatusEnum_InstallFailed, 3);

  // And every RemoteConfigStatuses value decodes from its number on the wire.
  for (uint64_t number = 0; number <= 3; ++number) {
    RawWriter status;
    status.varint_field(2, number);
    pb::RemoteConfigStatus decoded;
    ASSERT_TRUE(decoded.ParseFromString(status.bytes()));
    EXPECT_EQ(static_cast<uint64_t>(decoded.status()), number);
  }
}

}  // namespace
