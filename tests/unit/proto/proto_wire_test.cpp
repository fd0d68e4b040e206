// Wire identity: messages encoded by hand from the opamp-spec field numbers and wire
// types must decode to the expected fields, and our encoder must produce those bytes.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

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
    for (int i = 0; i < 8; ++i) bytes_.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
    return *this;
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

std::string uid16() { return std::string("0123456789abcdef"); }

TEST(ProtoWire, AgentToServerTopLevelFieldNumbers) {
  RawWriter health;
  health.varint_field(1, 1).fixed64_field(2, 1234567890123ULL).bytes_field(3, "boom").bytes_field(
      4, "StatusOK");
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
  EXPECT_EQ(decoded.capabilities(), pb::AgentCapabilities_ReportsStatus |
                                        pb::AgentCapabilities_ReportsHeartbeat);
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
  package.varint_field(1, 1).bytes_field(2, "v1.2.3").bytes_field(3, file.bytes()).bytes_field(
      4, "pkg-hash");
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

}  // namespace
