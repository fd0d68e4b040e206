// core/collector's LocalOpampServer against the real Collector's opamp extension, plus raw
// OpAMP clients where a second or foreign peer is needed. The real Collector (v0.149.0)
// cannot use a Unix socket (its extension has no `unix_socket` key before v0.159.0), so
// the Unix-socket tests use the in-process raw client.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <memory>
#include <string>

#include "collector/config_composition.hpp"
#include "common/uuid.hpp"
#include "local_server_harness.hpp"
#include "support/child_process.hpp"
#include "support/collector.hpp"
#include "support/ports.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace pb = opamp::proto::v1;
using opsup::collector::LocalOpampServer;
using opsup::collector::LocalOpampServerOptions;
using opsup::testing::CollectorKind;
using opsup::testing::LocalServerHarness;
using opsup::testing::RawOpampClient;
using opsup::testing::TempDir;
using Message = pb::AgentToServer;

std::string uid_bytes(const opsup::common::Uuid &uuid) {
  return std::string(uuid.begin(), uuid.end());
}

std::string attribute(const google::protobuf::RepeatedPtrField<pb::KeyValue> &list,
                      const std::string &key) {
  for (const auto &kv : list) {
    if (kv.key() == key)
      return kv.value().string_value();
  }
  return "<absent>";
}

// A small pipeline with the server's $OPAMP_EXTENSION_CONFIG, composed as the supervisor
// will compose it. Without the composition's service.instance.id: it writes
// service::telemetry::resource::attributes as a list, which v0.149.0 rejects ("expected
// type 'string'"), so the Collector keeps its own service.instance.id here.
std::string collector_config(const TempDir &dir, const std::string &extension_yaml) {
  const std::string pipeline =
      "receivers:\n"
      "  otlp:\n"
      "    protocols:\n"
      "      grpc:\n"
      "        endpoint: 127.0.0.1:" +
      std::to_string(opsup::testing::free_tcp_port()) +
      "\n"
      "exporters:\n"
      "  debug: {}\n"
      "service:\n"
      "  telemetry:\n"
      "    metrics:\n"
      "      level: none\n"
      "  pipelines:\n"
      "    traces:\n"
      "      receivers: [otlp]\n"
      "      exporters: [debug]\n";
  const auto pipeline_path = dir.write_file("pipeline.yaml", pipeline);
  opsup::collector::CompositionInput input;
  input.config_files = {pipeline_path.string()};
  input.opamp_extension_yaml = extension_yaml;
  return dir.write_file("collector.yaml", opsup::collector::compose_collector_config(input))
      .string();
}

bool healthy(const Message &m) {
  return m.has_health() && m.health().healthy();
}

class LocalServerWithCollector : public ::testing::Test {
 protected:
  void start(LocalOpampServerOptions options = {}) {
    uuid_ = opsup::common::generate_uuid_v7();
    options.instance_uid = opsup::common::format_uuid(uuid_);
    harness_ = std::make_unique<LocalServerHarness>(options);
    harness_->on_io([&](LocalOpampServer &server) {
      extension_yaml_ = server.extension_config_yaml();
      endpoint_ = server.endpoint();
      port_ = server.port();
    });
    const auto config = collector_config(dir_, extension_yaml_);
    collector_ = opsup::testing::start_collector(CollectorKind::kReal, {"--config", config});
  }

  // Waits for the Collector to connect, describe itself and report healthy.
  void expect_described_and_healthy() {
    ASSERT_TRUE(harness_->wait_connects(1)) << collector_->output();
    ASSERT_TRUE(harness_->wait_for_message([](const Message &m) {
      return m.has_agent_description();
    })) << collector_->output();
    const auto healthy_message = harness_->wait_for_message(healthy);
    ASSERT_TRUE(healthy_message) << collector_->output();
    EXPECT_EQ(healthy_message->instance_uid(), uid_bytes(uuid_));
    harness_->on_io([&](LocalOpampServer &server) {
      ASSERT_NE(server.last_agent_description(), nullptr);
      const auto &identifying = server.last_agent_description()->identifying_attributes();
      EXPECT_EQ(attribute(identifying, "service.name"), "otelcol-opsup");
      ASSERT_NE(server.last_health(), nullptr);
      EXPECT_TRUE(server.collector_connected());
    });
  }

  TempDir dir_;
  opsup::common::Uuid uuid_{};
  std::unique_ptr<LocalServerHarness> harness_;
  std::unique_ptr<opsup::testing::ChildProcess> collector_;
  std::string extension_yaml_;
  std::string endpoint_;
  uint16_t port_ = 0;
};

TEST_F(LocalServerWithCollector, RealCollectorConnectsOverWebSocketOnAFreePort) {
  start();
  EXPECT_NE(port_, 0);
  EXPECT_EQ(endpoint_, "ws://127.0.0.1:" + std::to_string(port_) + "/v1/opamp");
  expect_described_and_healthy();
  EXPECT_EQ(harness_->connected_peers().size(), 1u);
  // Healthy with the pipeline in the tree, as the extension reports it (maybe after a
  // healthy report without it).
  ASSERT_TRUE(harness_->wait_for_message([](const Message &m) {
    return healthy(m) && m.health().component_health_map().count("pipeline:traces") > 0;
  })) << collector_->output();
  harness_->on_io([&](LocalOpampServer &server) {
    EXPECT_TRUE(server.last_health()->healthy());
    EXPECT_GT(server.last_health()->component_health_map().count("pipeline:traces"), 0u);
  });
  // The effective config comes in the first message or a later one.
  ASSERT_TRUE(harness_->wait_for_message([](const Message &m) { return m.has_effective_config(); }))
      << collector_->output();
  harness_->on_io([&](LocalOpampServer &server) {
    ASSERT_NE(server.last_effective_config(), nullptr);
    const auto &files = server.last_effective_config()->config_map().config_map();
    ASSERT_EQ(files.count(""), 1u);
    EXPECT_NE(files.at("").body().find("opamp"), std::string::npos);
    ASSERT_NE(server.last_available_components(), nullptr);
    EXPECT_FALSE(server.last_available_components()->hash().empty());
  });
}

TEST_F(LocalServerWithCollector, ConfiguredPortIsHonoured) {
  LocalOpampServerOptions options;
  options.port = opsup::testing::free_tcp_port();
  start(options);
  EXPECT_EQ(port_, options.port);
  EXPECT_NE(extension_yaml_.find("ws://127.0.0.1:" + std::to_string(options.port) + "/v1/opamp"),
            std::string::npos)
      << extension_yaml_;
  expect_described_and_healthy();
}

TEST_F(LocalServerWithCollector, ReportFullStateMakesTheCollectorDescribeItselfAgain) {
  start();
  expect_described_and_healthy();
  const std::size_t before = harness_->message_count();
  pb::ServerToAgent request;
  request.set_instance_uid(uid_bytes(uuid_));
  request.set_flags(pb::ServerToAgentFlags_ReportFullState);
  bool sent = false;
  harness_->on_io([&](LocalOpampServer &server) { sent = server.send(request); });
  ASSERT_TRUE(sent);
  std::size_t index = 0;
  const auto again = harness_->wait_for_message(
      [&](const Message &m) { return index++ >= before && m.has_agent_description(); });
  ASSERT_TRUE(again) << collector_->output();
  EXPECT_EQ(attribute(again->agent_description().identifying_attributes(), "service.name"),
            "otelcol-opsup");
}

TEST_F(LocalServerWithCollector, SecondConnectionIsRefusedWhileTheFirstKeepsWorking) {
  start();
  expect_described_and_healthy();

  RawOpampClient second(endpoint_);
  const auto refused = second.wait_disconnected();
  ASSERT_TRUE(refused) << "the second WebSocket connection was not refused";
  EXPECT_EQ(refused->http_status, 409) << refused->reason;

  RawOpampClient second_http("http://127.0.0.1:" + std::to_string(port_) + "/v1/opamp");
  Message hello;
  hello.set_instance_uid(uid_bytes(opsup::common::generate_uuid_v7()));
  second_http.send(hello);
  const auto refused_http = second_http.wait_disconnected();
  ASSERT_TRUE(refused_http) << "the second HTTP client was not refused";
  EXPECT_EQ(refused_http->http_status, 409) << refused_http->reason;

  EXPECT_EQ(harness_->connects(), 1u);
  EXPECT_EQ(harness_->disconnects(), 0u);
  // The Collector still answers on its connection.
  const std::size_t before = harness_->message_count();
  pb::ServerToAgent request;
  request.set_instance_uid(uid_bytes(uuid_));
  request.set_flags(pb::ServerToAgentFlags_ReportFullState);
  harness_->on_io([&](LocalOpampServer &server) { ASSERT_TRUE(server.send(request)); });
  std::size_t index = 0;
  EXPECT_TRUE(harness_->wait_for_message([&](const Message &m) {
    return index++ >= before && m.has_agent_description();
  })) << collector_->output();
  harness_->on_io([](LocalOpampServer &server) { EXPECT_TRUE(server.collector_connected()); });
}

TEST_F(LocalServerWithCollector, CollectorStopIsReportedAsADisconnect) {
  start();
  expect_described_and_healthy();
  collector_->send_signal(SIGTERM);
  ASSERT_TRUE(collector_->wait_exit(opsup::testing::kGenerousTimeout));
  ASSERT_TRUE(harness_->wait_disconnects(1));
  harness_->on_io([](LocalOpampServer &server) {
    EXPECT_FALSE(server.collector_connected());
    // What it reported stays known.
    EXPECT_NE(server.last_agent_description(), nullptr);
  });
}

// A raw client on loopback, for what the real Collector does not do.
class LocalServerOnLoopback : public ::testing::Test {
 protected:
  void start(std::size_t max_message_bytes = opsup::collector::kLocalServerMaxMessageBytes) {
    LocalOpampServerOptions options;
    options.instance_uid = opsup::common::format_uuid(opsup::common::generate_uuid_v7());
    options.max_message_bytes = max_message_bytes;
    harness_ = std::make_unique<LocalServerHarness>(options);
    harness_->on_io([&](LocalOpampServer &server) { port_ = server.port(); });
  }
  std::string ws_url() const { return "ws://127.0.0.1:" + std::to_string(port_) + "/v1/opamp"; }
  std::string http_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1/opamp"; }

  std::unique_ptr<LocalServerHarness> harness_;
  uint16_t port_ = 0;
};

Message described(const std::string &service_name) {
  Message message;
  message.set_instance_uid(uid_bytes(opsup::common::generate_uuid_v7()));
  auto *name = message.mutable_agent_description()->add_identifying_attributes();
  name->set_key("service.name");
  name->mutable_value()->set_string_value(service_name);
  return message;
}

TEST_F(LocalServerOnLoopback, PlainHttpCollectorGetsQueuedMessagesAsReplies) {
  start();
  RawOpampClient client(http_url());
  client.send(described("first"));
  ASSERT_TRUE(
      harness_->wait_for_message([](const Message &m) { return m.has_agent_description(); }));
  pb::ServerToAgent down;
  down.set_flags(pb::ServerToAgentFlags_ReportFullState);
  bool sent = false;
  harness_->on_io([&](LocalOpampServer &server) {
    EXPECT_TRUE(server.collector_connected());
    sent = server.send(down);
  });
  ASSERT_TRUE(sent);
  client.send(described("second"));  // the next poll carries the reply
  EXPECT_TRUE(client.wait_for_message([](const pb::ServerToAgent &m) {
    return (m.flags() & pb::ServerToAgentFlags_ReportFullState) != 0;
  }));
  EXPECT_EQ(harness_->connects(), 1u);
}

TEST_F(LocalServerOnLoopback, NothingIsSentWithoutACollector) {
  start();
  bool sent = true;
  harness_->on_io([&](LocalOpampServer &server) { sent = server.send(pb::ServerToAgent()); });
  EXPECT_FALSE(sent);
}

TEST_F(LocalServerOnLoopback, AnUndecodableMessageClosesTheConnection) {
  start();
  RawOpampClient client(ws_url());
  ASSERT_TRUE(client.wait_connected());
  // Field 1 (instance_uid, bytes) announcing 100 bytes that never come.
  client.send_raw(std::string("\x0a\x64", 2));
  ASSERT_TRUE(client.wait_disconnected());
  EXPECT_TRUE(harness_->wait_disconnects(1));
  EXPECT_EQ(harness_->message_count(), 0u);
}

TEST_F(LocalServerOnLoopback, AnOversizedMessageIsRefused) {
  start(4096);
  RawOpampClient client(ws_url());
  ASSERT_TRUE(client.wait_connected());
  client.send(described(std::string(8192, 'x')));
  const auto closed = client.wait_disconnected();
  ASSERT_TRUE(closed);
  EXPECT_TRUE(closed->message_too_large) << closed->reason;
  EXPECT_EQ(harness_->message_count(), 0u);
}

class LocalServerOnUnixSocket : public ::testing::Test {
 protected:
  void start(uint32_t mode = 0600) {
    LocalOpampServerOptions options;
    options.instance_uid = opsup::common::format_uuid(opsup::common::generate_uuid_v7());
    options.unix_socket_path = socket_path_;
    options.unix_socket_mode = mode;
    harness_ = std::make_unique<LocalServerHarness>(options);
    harness_->on_io([&](LocalOpampServer &server) {
      endpoint_ = server.endpoint();
      extension_yaml_ = server.extension_config_yaml();
    });
  }

  TempDir dir_;
  std::filesystem::path socket_path_ = dir_.path() / "run" / "opamp.sock";
  std::unique_ptr<LocalServerHarness> harness_;
  std::string endpoint_;
  std::string extension_yaml_;
};

TEST_F(LocalServerOnUnixSocket, TheCollectorPidIsServed) {
  start(0660);
  EXPECT_EQ(endpoint_, "ws://localhost/v1/opamp");
  const YAML::Node config = YAML::Load(extension_yaml_);
  EXPECT_EQ(config["extensions"]["opamp"]["server"]["ws"]["unix_socket"].as<std::string>(),
            socket_path_.string());

  struct stat socket_info {};
  ASSERT_EQ(lstat(socket_path_.c_str(), &socket_info), 0);
  EXPECT_TRUE(S_ISSOCK(socket_info.st_mode));
  EXPECT_EQ(socket_info.st_mode & 0777, 0660u);
  struct stat dir_info {};
  ASSERT_EQ(stat(socket_path_.parent_path().c_str(), &dir_info), 0);
  EXPECT_EQ(dir_info.st_mode & 0777, 0700u);

  // This test process plays the Collector.
  harness_->on_io([](LocalOpampServer &server) { server.expect_collector_pid(getpid()); });
  RawOpampClient client(endpoint_, socket_path_.string());
  ASSERT_TRUE(client.wait_connected());
  Message message;
  message.set_instance_uid(uid_bytes(opsup::common::generate_uuid_v7()));
  auto *name = message.mutable_agent_description()->add_identifying_attributes();
  name->set_key("service.name");
  name->mutable_value()->set_string_value("otelcol-opsup");
  message.mutable_health()->set_healthy(true);
  client.send(message);
  ASSERT_TRUE(harness_->wait_for_message([](const Message &m) { return healthy(m); }));
  harness_->on_io([](LocalOpampServer &server) {
    ASSERT_NE(server.last_agent_description(), nullptr);
    EXPECT_EQ(attribute(server.last_agent_description()->identifying_attributes(), "service.name"),
              "otelcol-opsup");
    EXPECT_TRUE(server.collector_connected());
  });
  ASSERT_EQ(harness_->connected_peers().size(), 1u);
  EXPECT_NE(harness_->connected_peers()[0].find(std::to_string(getpid())), std::string::npos)
      << harness_->connected_peers()[0];

  // A custom message goes down to it.
  pb::ServerToAgent down;
  down.mutable_custom_message()->set_capability("io.opsup.test");
  down.mutable_custom_message()->set_type("ping");
  harness_->on_io([&](LocalOpampServer &server) { ASSERT_TRUE(server.send(down)); });
  EXPECT_TRUE(client.wait_for_message([](const pb::ServerToAgent &m) {
    return m.has_custom_message() && m.custom_message().type() == "ping";
  }));
}

TEST_F(LocalServerOnUnixSocket, AForeignPeerIsRefused) {
  start();
  // The Collector is another process; this test process is a foreign peer.
  opsup::testing::ChildProcess collector({"/bin/sleep", {"600"}, {}, {}});
  const pid_t collector_pid = collector.pid();
  ASSERT_NE(collector_pid, getpid());
  harness_->on_io([&](LocalOpampServer &server) { server.expect_collector_pid(collector_pid); });
  RawOpampClient foreign(endpoint_, socket_path_.string());
  const auto refused = foreign.wait_disconnected();
  ASSERT_TRUE(refused) << "the foreign peer was not refused";
  EXPECT_EQ(refused->http_status, 403) << refused->reason;
  EXPECT_EQ(harness_->connects(), 0u);
}

TEST_F(LocalServerOnUnixSocket, EveryPeerIsRefusedWhileNoCollectorRuns) {
  start();
  RawOpampClient peer(endpoint_, socket_path_.string());
  const auto refused = peer.wait_disconnected();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->http_status, 403) << refused->reason;
  EXPECT_EQ(harness_->connects(), 0u);
}

TEST_F(LocalServerOnUnixSocket, AForeignPlainHttpPeerIsRefusedToo) {
  start();
  harness_->on_io([](LocalOpampServer &server) { server.expect_collector_pid(getpid() + 1); });
  RawOpampClient peer("http://localhost/v1/opamp", socket_path_.string());
  Message hello;
  hello.set_instance_uid(uid_bytes(opsup::common::generate_uuid_v7()));
  peer.send(hello);
  const auto refused = peer.wait_disconnected();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->http_status, 403) << refused->reason;
  EXPECT_EQ(harness_->connects(), 0u);
  EXPECT_EQ(harness_->message_count(), 0u);
}

TEST_F(LocalServerOnUnixSocket, TheConnectedPeerIsClosedWhenTheCollectorPidChanges) {
  start();
  harness_->on_io([](LocalOpampServer &server) { server.expect_collector_pid(getpid()); });
  RawOpampClient client(endpoint_, socket_path_.string());
  ASSERT_TRUE(client.wait_connected());
  ASSERT_TRUE(harness_->wait_connects(1));
  harness_->on_io([](LocalOpampServer &server) { server.expect_collector_pid(getpid() + 1); });
  EXPECT_TRUE(client.wait_disconnected());
  EXPECT_TRUE(harness_->wait_disconnects(1));
}

// The real Collector here (v0.149.0) cannot follow the Unix-socket form: its extension
// learnt `server.ws.unix_socket` in v0.159.0. When this fails, the Collector in tools/otelcol
// was upgraded: run the Unix-socket tests above with the real Collector instead.
TEST_F(LocalServerOnUnixSocket, TheRealCollectorDoesNotKnowTheUnixSocketKeyYet) {
  start();
  TempDir config_dir;
  const auto config = collector_config(config_dir, extension_yaml_);
  auto collector = opsup::testing::start_collector(CollectorKind::kReal, {"--config", config});
  EXPECT_EQ(collector->wait_exit(opsup::testing::kGenerousTimeout), 1) << collector->output();
  EXPECT_TRUE(collector->wait_for_line("'server.ws' has invalid keys: unix_socket",
                                       opsup::testing::kGenerousTimeout))
      << collector->output();
  EXPECT_EQ(harness_->connects(), 0u);
}

}  // namespace
