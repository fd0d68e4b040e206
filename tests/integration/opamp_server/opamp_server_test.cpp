// opamp-server as a real process, driven by test agents built on ClientTransport: agents
// are tracked over WebSocket and plain HTTP, every action reaches the agent and the
// agent's answer shows in the JSON API, and the protocol duties (capabilities in every
// reply, ReportFullState on a sequence gap, ReportAvailableComponents) hold.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <boost/json/parse.hpp>

#include <csignal>
#include <fstream>

#include "support/http.hpp"
#include "support/paths.hpp"
#include "support/temp_dir.hpp"
#include "test_fixture.hpp"

namespace opsup::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

constexpr uint64_t kServerCapabilities = 0x7f;

std::string hex(const std::string &bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char byte : bytes) {
    out.push_back(kDigits[byte >> 4]);
    out.push_back(kDigits[byte & 0x0f]);
  }
  return out;
}

std::string sha256_hex(const std::string &data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  return hex(std::string(reinterpret_cast<char *>(digest), length));
}

std::string base64(const std::string &bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int written = EVP_EncodeBlock(reinterpret_cast<unsigned char *>(out.data()),
                                reinterpret_cast<const unsigned char *>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

// The documented config hash: files sorted by name, name NUL content_type NUL length NUL body.
std::string expected_config_hash(const std::map<std::string, std::string> &yaml_files) {
  std::string canonical;
  for (const auto &[name, body] : yaml_files) {
    canonical += name;
    canonical.push_back('\0');
    canonical += "text/yaml";
    canonical.push_back('\0');
    canonical += std::to_string(body.size());
    canonical.push_back('\0');
    canonical += body;
  }
  return sha256_hex(canonical);
}

bool has_flag(const proto::ServerToAgent &message, uint64_t flag) {
  return (message.flags() & flag) != 0;
}

class OpampServerTest : public ::testing::TestWithParam<std::string> {
 protected:
  bool http() const { return GetParam() == "http"; }
  std::string endpoint() const { return http() ? server.http_url() : server.websocket_url(); }

  std::unique_ptr<TestAgent> start_agent(TestAgentOptions options = {}) {
    options.endpoint = endpoint();
    auto agent = std::make_unique<TestAgent>(io.io(), options);
    agent->start();
    return agent;
  }

  // Waits until the agent is listed as connected and has a description.
  json::value wait_connected(const TestAgent &agent) {
    auto view = wait_for_agent(server, agent.instance_uid_string(), [](const json::value &v) {
      return at(v, {"connection", "connected"}) == json::value(true) &&
             !at(v, {"description"}).is_null();
    });
    EXPECT_EQ(at(view, {"connection", "connected"}), json::value(true)) << json_text(view);
    return view;
  }

  json::value post(const std::string &path, const std::string &body) {
    auto answer = server.post_json(path, body);
    EXPECT_EQ(answer.status, 200) << path << ": " << json_text(answer.body);
    return answer.body;
  }

  OpampServerProcess server;
  IoThread io;
};

INSTANTIATE_TEST_SUITE_P(Transports, OpampServerTest, ::testing::Values("ws", "http"),
                         [](const auto &info) { return info.param; });

TEST_P(OpampServerTest, TracksAgentWithEverythingItReports) {
  auto agent = start_agent();
  json::value view = wait_connected(*agent);

  EXPECT_EQ(string_at(view, {"instance_uid"}), agent->instance_uid_string());
  EXPECT_EQ(string_at(view, {"connection", "transport"}), GetParam());
  EXPECT_NE(string_at(view, {"connection", "peer"}).find("127.0.0.1:"), std::string::npos);
  EXPECT_EQ(string_at(view, {"description", "identifying_attributes", "service.name"}),
            "opamp-test-agent");
  EXPECT_EQ(string_at(view, {"description", "non_identifying_attributes", "os.type"}), "linux");
  EXPECT_EQ(at(view, {"capabilities", "value"}).to_number<uint64_t>(), 0xffffu);
  const auto &names = at(view, {"capabilities", "names"}).as_array();
  EXPECT_EQ(names.size(), 16u);
  EXPECT_NE(std::find(names.begin(), names.end(), json::value("AcceptsRemoteConfig")), names.end());
  EXPECT_EQ(at(view, {"health", "healthy"}), json::value(true));
  EXPECT_EQ(at(view, {"health", "components", "pipeline:traces", "components", "receiver:otlp",
                      "status"}),
            json::value("StatusOK"));
  EXPECT_NE(string_at(view, {"effective_config", "files", "", "body"}).find("otlp"),
            std::string::npos);
  EXPECT_EQ(json_text(at(view, {"custom_capabilities"})), R"(["io.opsup.test.echo"])");
  EXPECT_GE(at(view, {"sequence_num"}).to_number<uint64_t>(), 1u);
  EXPECT_FALSE(string_at(view, {"last_seen"}).empty());

  // The first report carried only the components hash: the server asks for the map, and
  // once the agent sent it, the map is in the API.
  EXPECT_TRUE(eventually(
      [&] {
        return agent->count_received([](const proto::ServerToAgent &m) {
          return has_flag(m, proto::ServerToAgentFlags_ReportAvailableComponents);
        }) >= 1;
      },
      kDeadline));
  view = wait_for_agent(server, agent->instance_uid_string(), [](const json::value &v) {
    return at(v, {"available_components", "full_map_received"}) == json::value(true);
  });
  EXPECT_EQ(at(view, {"available_components", "components"}).as_object().size(), 5u)
      << json_text(view);
  EXPECT_FALSE(
      at(view, {"available_components", "components", "extensions", "sub_components", "opamp"})
          .is_null());

  // Every ServerToAgent carries the server's capabilities and the agent's UID.
  auto seen = agent->observations();
  ASSERT_FALSE(seen.messages.empty());
  for (const auto &message : seen.messages) {
    EXPECT_EQ(message.capabilities(), kServerCapabilities);
    EXPECT_EQ(message.instance_uid(), agent->instance_uid());
  }

  // The list shows the agent too.
  json::value list = server.get_json("/api/agents");
  ASSERT_TRUE(list.is_object());
  ASSERT_EQ(at(list, {"agents"}).as_array().size(), 1u);
  EXPECT_EQ(string_at(at(list, {"agents"}).as_array()[0], {"instance_uid"}),
            agent->instance_uid_string());
}

TEST_P(OpampServerTest, RepliesToEveryMessage) {
  TestAgentOptions quiet;
  quiet.http_poll_interval = std::chrono::hours(1);  // no polls racing the two reads below
  auto agent = start_agent(quiet);
  wait_connected(*agent);
  for (int i = 0; i < 5; ++i) {
    agent->send([i](proto::AgentToServer &message) {
      message.mutable_health()->set_healthy(i % 2 == 0);
      message.mutable_health()->set_status("round " + std::to_string(i));
    });
  }
  auto view = wait_for_agent(server, agent->instance_uid_string(), [](const json::value &v) {
    return string_at(v, {"health", "status"}) == "round 4";
  });
  EXPECT_EQ(at(view, {"health", "healthy"}), json::value(true));
  // Each received message has a reply (WebSocket pushes come on top of those).
  auto sent = server.get_json("/api/agents/" + agent->instance_uid_string() + "/sent");
  auto received = server.get_json("/api/agents/" + agent->instance_uid_string() + "/messages");
  std::size_t replies = 0;
  for (const auto &entry : at(sent, {"messages"}).as_array()) {
    if (at(entry, {"reply"}) == json::value(true))
      ++replies;
  }
  EXPECT_EQ(replies, at(received, {"messages"}).as_array().size());
  EXPECT_GE(replies, 6u);
}

TEST_P(OpampServerTest, DisconnectIsSeen) {
  auto agent = start_agent();
  wait_connected(*agent);
  agent->stop();
  auto view = wait_for_agent(server, agent->instance_uid_string(), [](const json::value &v) {
    return at(v, {"connection", "connected"}) == json::value(false);
  });
  EXPECT_EQ(at(view, {"connection", "connected"}), json::value(false)) << json_text(view);
  EXPECT_EQ(at(view, {"connection", "disconnect_seen"}), json::value(true));
  EXPECT_EQ(at(view, {"connection", "disconnect_count"}).to_number<int>(), 1);
  auto messages = server.get_json("/api/agents/" + agent->instance_uid_string() + "/messages");
  EXPECT_EQ(at(messages.as_object().at("messages").as_array().back(), {"agent_disconnect"}),
            json::value(true));
}

TEST_P(OpampServerTest, RemoteConfigIsAppliedAndVisible) {
  auto agent = start_agent();
  wait_connected(*agent);
  const std::string yaml = "receivers:\n  otlp: {}\nexporters:\n  debug: {}\n";
  const std::string extra = "processors:\n  batch: {}\n";
  json::object body{{"files", json::object{{"", yaml}, {"extra.yaml", extra}}}};
  auto answer =
      post("/api/agents/" + agent->instance_uid_string() + "/config", json::serialize(body));
  const std::string hash = string_at(answer, {"hash"});
  EXPECT_EQ(hash, expected_config_hash({{"", yaml}, {"extra.yaml", extra}}));
  EXPECT_EQ(string_at(answer, {"delivery"}), http() ? "pending" : "sent");

  ASSERT_TRUE(eventually(
      [&] {
        return agent->count_received(
                   [](const proto::ServerToAgent &m) { return m.has_remote_config(); }) >= 1;
      },
      kDeadline));
  auto seen = agent->observations();
  const proto::ServerToAgent *with_config = nullptr;
  for (const auto &message : seen.messages) {
    if (message.has_remote_config())
      with_config = &message;
  }
  ASSERT_NE(with_config, nullptr);
  EXPECT_EQ(hex(with_config->remote_config().config_hash()), hash);
  EXPECT_EQ(with_config->remote_config().config().config_map().at("").body(), yaml);
  EXPECT_EQ(with_config->remote_config().config().config_map().at("extra.yaml").body(), extra);

  auto view = wait_for_agent(server, agent->instance_uid_string(), [&](const json::value &v) {
    return string_at(v, {"remote_config_status", "status"}) == "APPLIED";
  });
  EXPECT_EQ(string_at(view, {"remote_config_status", "last_remote_config_hash"}), hash);
  EXPECT_EQ(string_at(view, {"effective_config", "files", "", "body"}), yaml);
  EXPECT_EQ(string_at(view, {"effective_config", "files", "extra.yaml", "body"}), extra);
  EXPECT_EQ(string_at(view, {"remote_config", "hash"}), hash);

  // The agent has the desired config: it is not sent again. The server logs its reply
  // before it counts the next message, so once the full report is counted its reply is in
  // the /sent log.
  agent->send_full_state();
  wait_for_agent(server, agent->instance_uid_string(), [&](const json::value &v) {
    return at(v, {"message_count"}).to_number<uint64_t>() >=
           at(view, {"message_count"}).to_number<uint64_t>() + 1;
  });
  auto sent = server.get_json("/api/agents/" + agent->instance_uid_string() + "/sent");
  std::size_t config_messages = 0;
  for (const auto &entry : at(sent, {"messages"}).as_array()) {
    if (string_at(entry, {"remote_config_hash"}) == hash)
      ++config_messages;
  }
  EXPECT_EQ(config_messages, 1u) << json_text(sent);
}

TEST_P(OpampServerTest, RestartCommandArrivesAlone) {
  auto agent = start_agent();
  auto before = wait_connected(*agent);
  const auto start_time_before =
      at(before, {"health", "start_time_unix_nano"}).to_number<uint64_t>();
  auto answer = post("/api/agents/" + agent->instance_uid_string() + "/restart", "{}");
  EXPECT_EQ(string_at(answer, {"action"}), "restart");
  ASSERT_TRUE(eventually([&] { return agent->observations().restarts == 1; }, kDeadline));
  for (const auto &message : agent->observations().messages) {
    if (!message.has_command())
      continue;
    EXPECT_EQ(message.command().type(), proto::CommandType_Restart);
    EXPECT_FALSE(message.has_remote_config());
    EXPECT_FALSE(message.has_connection_settings());
    EXPECT_FALSE(message.has_custom_message());
    EXPECT_EQ(message.flags(), 0u);
  }
  auto sent = server.get_json("/api/agents/" + agent->instance_uid_string() + "/sent");
  bool command_logged = false;
  for (const auto &entry : at(sent, {"messages"}).as_array()) {
    command_logged = command_logged || string_at(entry, {"command"}) == "Restart";
  }
  EXPECT_TRUE(command_logged) << json_text(sent);
  // The agent's answer, a report with a new start time, is what the API shows now.
  auto view = wait_for_agent(server, agent->instance_uid_string(), [&](const json::value &v) {
    return at(v, {"health", "start_time_unix_nano"}).to_number<uint64_t>() > start_time_before;
  });
  EXPECT_GT(at(view, {"health", "start_time_unix_nano"}).to_number<uint64_t>(), start_time_before)
      << json_text(view);
  EXPECT_EQ(at(view, {"health", "healthy"}), json::value(true));
  EXPECT_EQ(at(view, {"pending", "restart"}), json::value(false));
}

TEST_P(OpampServerTest, ConnectionSettingsOffersReachTheAgent) {
  auto agent = start_agent();
  wait_connected(*agent);
  const std::string uid = agent->instance_uid_string();
  json::object opamp{
      {"destination_endpoint", "wss://example.test:4320/v1/opamp"},
      {"headers", json::object{{"Authorization", "Bearer abc"}}},
      {"heartbeat_interval_seconds", 7},
      {"certificate",
       json::object{{"ca_cert", "CA PEM"}, {"cert", "CERT PEM"}, {"private_key", "KEY PEM"}}}};
  auto answer = post("/api/agents/" + uid + "/connection-settings", json::serialize(opamp));
  const std::string first_hash = string_at(answer, {"hash"});
  ASSERT_EQ(first_hash.size(), 64u);

  ASSERT_TRUE(eventually(
      [&] {
        return agent->count_received([](const proto::ServerToAgent &m) {
          return m.has_connection_settings() && m.connection_settings().has_opamp();
        }) == 1;
      },
      kDeadline));
  for (const auto &message : agent->observations().messages) {
    if (!message.has_connection_settings())
      continue;
    const auto &offer = message.connection_settings().opamp();
    EXPECT_EQ(offer.destination_endpoint(), "wss://example.test:4320/v1/opamp");
    ASSERT_EQ(offer.headers().headers_size(), 1);
    EXPECT_EQ(offer.headers().headers(0).key(), "Authorization");
    EXPECT_EQ(offer.headers().headers(0).value(), "Bearer abc");
    EXPECT_EQ(offer.heartbeat_interval_seconds(), 7u);
    EXPECT_EQ(offer.certificate().ca_cert(), "CA PEM");
    EXPECT_EQ(offer.certificate().cert(), "CERT PEM");
    EXPECT_EQ(offer.certificate().private_key(), "KEY PEM");
    EXPECT_EQ(hex(message.connection_settings().hash()), first_hash);
  }
  auto view = wait_for_agent(server, uid, [&](const json::value &v) {
    return string_at(v, {"connection_settings_status", "last_connection_settings_hash"}) ==
           first_hash;
  });
  EXPECT_EQ(string_at(view, {"connection_settings_status", "status"}), "APPLIED");

  // Own telemetry: only the new parts travel, under a new overall hash.
  json::object telemetry{
      {"metrics", json::object{{"destination_endpoint", "http://collector:4318/v1/metrics"},
                               {"headers", json::object{{"X-Tenant", "t1"}}}}},
      {"logs", json::object{{"destination_endpoint", "http://collector:4318/v1/logs"}}}};
  answer = post("/api/agents/" + uid + "/own-telemetry", json::serialize(telemetry));
  const std::string second_hash = string_at(answer, {"hash"});
  EXPECT_NE(second_hash, first_hash);
  ASSERT_TRUE(eventually(
      [&] {
        return agent->count_received([](const proto::ServerToAgent &m) {
          return m.has_connection_settings() && m.connection_settings().has_own_metrics();
        }) == 1;
      },
      kDeadline));
  for (const auto &message : agent->observations().messages) {
    if (!message.has_connection_settings() || !message.connection_settings().has_own_metrics()) {
      continue;
    }
    const auto &offers = message.connection_settings();
    EXPECT_FALSE(offers.has_opamp()) << "the unchanged opamp part was sent again";
    EXPECT_FALSE(offers.has_own_traces());
    EXPECT_EQ(offers.own_metrics().destination_endpoint(), "http://collector:4318/v1/metrics");
    EXPECT_EQ(offers.own_metrics().headers().headers(0).value(), "t1");
    EXPECT_EQ(offers.own_logs().destination_endpoint(), "http://collector:4318/v1/logs");
    EXPECT_EQ(hex(offers.hash()), second_hash);
  }
  // The agent's status for the new offers.
  view = wait_for_agent(server, uid, [&](const json::value &v) {
    return string_at(v, {"connection_settings_status", "last_connection_settings_hash"}) ==
           second_hash;
  });
  EXPECT_EQ(string_at(view, {"connection_settings_status", "last_connection_settings_hash"}),
            second_hash)
      << json_text(view);
  EXPECT_EQ(string_at(view, {"connection_settings_status", "status"}), "APPLIED");
  EXPECT_EQ(string_at(view, {"connection_settings_offers", "own_metrics", "destination_endpoint"}),
            "http://collector:4318/v1/metrics");

  // Other connections.
  json::object others{
      {"connections",
       json::object{
           {"backup",
            json::object{{"destination_endpoint", "https://backup:4317"},
                         {"headers", json::array{json::object{{"key", "K"}, {"value", "V"}}}},
                         {"other_settings", json::object{{"compression", "gzip"}}},
                         {"proxy", json::object{{"url", "http://user:pw@proxy:3128"}}}}}}}};
  answer = post("/api/agents/" + uid + "/other-connections", json::serialize(others));
  const std::string third_hash = string_at(answer, {"hash"});
  ASSERT_TRUE(eventually(
      [&] {
        return agent->count_received([](const proto::ServerToAgent &m) {
          return m.has_connection_settings() &&
                 m.connection_settings().other_connections().count("backup") == 1;
        }) == 1;
      },
      kDeadline));
  for (const auto &message : agent->observations().messages) {
    const auto &connections = message.connection_settings().other_connections();
    if (connections.count("backup") == 0)
      continue;
    EXPECT_EQ(connections.at("backup").destination_endpoint(), "https://backup:4317");
    EXPECT_EQ(connections.at("backup").headers().headers(0).key(), "K");
    EXPECT_EQ(connections.at("backup").other_settings().at("compression"), "gzip");
    EXPECT_EQ(connections.at("backup").proxy().url(), "http://user:pw@proxy:3128");
  }
  view = wait_for_agent(server, uid, [&](const json::value &v) {
    return string_at(v, {"connection_settings_status", "last_connection_settings_hash"}) ==
           third_hash;
  });
  EXPECT_EQ(string_at(view, {"connection_settings_offers", "hash"}), third_hash);
  const std::string proxy_url = string_at(
      view, {"connection_settings_offers", "other_connections", "backup", "proxy", "url"});
  EXPECT_EQ(proxy_url.find("pw"), std::string::npos) << proxy_url;
  EXPECT_NE(proxy_url.find("proxy:3128"), std::string::npos) << proxy_url;
  EXPECT_EQ(at(view, {"connection_settings_offers", "opamp", "certificate", "has_private_key"}),
            json::value(true));
}

// The web page adds one connection at a time with "merge": the server keeps the others as
// they were set, including certificates and TLS settings the API view does not fully show.
TEST_P(OpampServerTest, OtherConnectionsMergeByNameKeepsTlsMaterial) {
  auto agent = start_agent();
  wait_connected(*agent);
  const std::string uid = agent->instance_uid_string();
  json::object secure{
      {"connections",
       json::object{{"secure", json::object{{"destination_endpoint", "https://secure:4317"},
                                            {"certificate", json::object{{"cert", "CERT PEM"},
                                                                         {"private_key", "KEY PEM"},
                                                                         {"ca_cert", "CA PEM"}}},
                                            {"tls", json::object{{"ca_pem_contents", "TLS CA PEM"},
                                                                 {"insecure_skip_verify", false},
                                                                 {"min_version", "1.3"}}}}}}}};
  post("/api/agents/" + uid + "/other-connections", json::serialize(secure));
  json::object backup{
      {"merge", true},
      {"connections",
       json::object{{"backup", json::object{{"destination_endpoint", "https://backup:4317"}}}}}};
  auto answer = post("/api/agents/" + uid + "/other-connections", json::serialize(backup));
  const std::string merged_hash = string_at(answer, {"hash"});

  // The agent gets both, the first with everything it was given.
  auto merged_offer_received = [&] {
    return agent->count_received([&](const proto::ServerToAgent &m) {
      return hex(m.connection_settings().hash()) == merged_hash &&
             m.connection_settings().other_connections().size() == 2;
    });
  };
  ASSERT_TRUE(eventually([&] { return merged_offer_received() >= 1; }, kDeadline));
  for (const auto &message : agent->observations().messages) {
    if (hex(message.connection_settings().hash()) != merged_hash)
      continue;
    const auto &connections = message.connection_settings().other_connections();
    ASSERT_EQ(connections.count("secure"), 1u);
    const auto &kept = connections.at("secure");
    EXPECT_EQ(kept.destination_endpoint(), "https://secure:4317");
    EXPECT_EQ(kept.certificate().cert(), "CERT PEM");
    EXPECT_EQ(kept.certificate().private_key(), "KEY PEM");
    EXPECT_EQ(kept.certificate().ca_cert(), "CA PEM");
    EXPECT_EQ(kept.tls().ca_pem_contents(), "TLS CA PEM");
    EXPECT_EQ(kept.tls().min_version(), "1.3");
    EXPECT_EQ(connections.at("backup").destination_endpoint(), "https://backup:4317");
  }
  auto view = wait_for_agent(server, uid, [&](const json::value &v) {
    return string_at(v, {"connection_settings_status", "last_connection_settings_hash"}) ==
           merged_hash;
  });
  const auto &others = at(view, {"connection_settings_offers", "other_connections"});
  EXPECT_EQ(at(others, {"secure", "certificate", "has_private_key"}), json::value(true))
      << json_text(view);
  EXPECT_EQ(string_at(others, {"secure", "tls", "ca_pem_contents"}), "TLS CA PEM");
  EXPECT_EQ(string_at(others, {"backup", "destination_endpoint"}), "https://backup:4317");

  // A merge can drop a connection by name; without merge the map is replaced.
  answer =
      post("/api/agents/" + uid + "/other-connections", R"({"merge": true, "remove": ["backup"]})");
  view = server.agent(uid);
  EXPECT_TRUE(at(view, {"connection_settings_offers", "other_connections", "backup"}).is_null());
  EXPECT_EQ(at(view, {"connection_settings_offers", "other_connections", "secure", "certificate",
                      "has_private_key"}),
            json::value(true))
      << json_text(view);
  post("/api/agents/" + uid + "/other-connections",
       R"({"connections": {"only": {"destination_endpoint": "https://only:4317"}}})");
  view = server.agent(uid);
  EXPECT_EQ(at(view, {"connection_settings_offers", "other_connections"}).as_object().size(), 1u)
      << json_text(view);
  EXPECT_EQ(
      server.post_json("/api/agents/" + uid + "/other-connections", R"({"remove": ["x"]})").status,
      400);
}

TEST_P(OpampServerTest, PackagesAreOfferedAndServed) {
  auto agent = start_agent();
  wait_connected(*agent);
  const std::string uid = agent->instance_uid_string();
  TempDir dir;
  const std::string local_content(300000, 'x');
  {
    std::ofstream out(dir.path() / "addon.bin", std::ios::binary);
    out << local_content;
  }
  const std::string uploaded = "#!/bin/sh\necho collector 2.0\n";
  json::object body{
      {"packages",
       json::object{{"otelcol", json::object{{"version", "2.0.0"},
                                             {"content_base64", base64(uploaded)},
                                             {"signature_base64", base64("SIGNATURE")}}},
                    {"addon", json::object{{"version", "0.1"},
                                           {"type", "Addon"},
                                           {"file_path", (dir.path() / "addon.bin").string()}}}}}};
  auto answer = post("/api/agents/" + uid + "/packages", json::serialize(body));
  const std::string all_hash = string_at(answer, {"all_packages_hash"});
  ASSERT_EQ(all_hash.size(), 64u) << json_text(answer);
  EXPECT_EQ(string_at(answer, {"packages", "otelcol", "content_hash"}), sha256_hex(uploaded));

  ASSERT_TRUE(eventually(
      [&] {
        return agent->count_received(
                   [](const proto::ServerToAgent &m) { return m.has_packages_available(); }) == 1;
      },
      kDeadline));
  proto::PackagesAvailable offer;
  for (const auto &message : agent->observations().messages) {
    if (message.has_packages_available())
      offer = message.packages_available();
  }
  EXPECT_EQ(hex(offer.all_packages_hash()), all_hash);
  ASSERT_EQ(offer.packages().size(), 2u);
  const auto &collector = offer.packages().at("otelcol");
  EXPECT_EQ(collector.version(), "2.0.0");
  EXPECT_EQ(collector.type(), proto::PackageType_TopLevel);
  EXPECT_EQ(collector.file().signature(), "SIGNATURE");
  EXPECT_EQ(hex(collector.file().content_hash()), sha256_hex(uploaded));
  EXPECT_EQ(collector.file().download_url(), server.ui_url() + "/packages/otelcol");
  EXPECT_EQ(offer.packages().at("addon").type(), proto::PackageType_Addon);

  // The server serves what it offers.
  auto download = http_get(collector.file().download_url());
  EXPECT_EQ(download.status, 200);
  EXPECT_EQ(download.body, uploaded);
  auto addon = http_get(offer.packages().at("addon").file().download_url());
  EXPECT_EQ(addon.status, 200);
  EXPECT_EQ(sha256_hex(addon.body), hex(offer.packages().at("addon").file().content_hash()));
  EXPECT_EQ(addon.body.size(), local_content.size());

  auto view = wait_for_agent(server, uid, [&](const json::value &v) {
    return string_at(v, {"package_statuses", "server_provided_all_packages_hash"}) == all_hash;
  });
  EXPECT_EQ(string_at(view, {"package_statuses", "packages", "otelcol", "status"}), "Installed");
  EXPECT_EQ(string_at(view, {"package_statuses", "packages", "addon", "agent_has_version"}), "0.1");

  auto packages = server.get_json("/api/packages");
  ASSERT_EQ(at(packages, {"packages"}).as_array().size(), 2u);
}

// The web page offers one package at a time with "merge": the server keeps the other
// offered packages exactly as they were offered, including the download headers and the
// signature the API view does not fully show.
TEST_P(OpampServerTest, PackagesMergeByNameKeepsDownloadDetails) {
  auto agent = start_agent();
  wait_connected(*agent);
  const std::string uid = agent->instance_uid_string();
  auto last_offer_with_hash = [&](const std::string &all_hash) {
    std::optional<proto::PackagesAvailable> offer;
    for (const auto &message : agent->observations().messages) {
      if (message.has_packages_available() &&
          hex(message.packages_available().all_packages_hash()) == all_hash)
        offer = message.packages_available();
    }
    return offer;
  };
  auto offers_received = [&](const std::string &all_hash) {
    return agent->count_received([&](const proto::ServerToAgent &m) {
      return m.has_packages_available() &&
             hex(m.packages_available().all_packages_hash()) == all_hash;
    });
  };

  const std::string collector_content = "#!/bin/sh\necho collector 3.0\n";
  json::object first{
      {"packages",
       json::object{{"otelcol", json::object{{"version", "3.0.0"},
                                             {"content_base64", base64(collector_content)},
                                             {"signature_base64", base64("COLLECTOR SIGNATURE")},
                                             {"headers", json::object{{"Authorization",
                                                                       "Bearer download"}}}}}}}};
  auto answer = post("/api/agents/" + uid + "/packages", json::serialize(first));
  const std::string first_hash = string_at(answer, {"all_packages_hash"});
  ASSERT_EQ(first_hash.size(), 64u) << json_text(answer);
  ASSERT_TRUE(eventually([&] { return offers_received(first_hash) >= 1; }, kDeadline));
  const proto::PackageAvailable collector =
      last_offer_with_hash(first_hash)->packages().at("otelcol");
  ASSERT_EQ(collector.file().headers().headers().size(), 1);
  EXPECT_EQ(collector.file().headers().headers(0).value(), "Bearer download");
  EXPECT_EQ(collector.file().signature(), "COLLECTOR SIGNATURE");

  // Offer a second package with merge: the agent gets both, the first unchanged.
  const std::string addon_content = "addon bytes";
  json::object second{
      {"merge", true},
      {"packages", json::object{{"addon", json::object{{"version", "0.2"},
                                                       {"type", "Addon"},
                                                       {"content", addon_content}}}}}};
  answer = post("/api/agents/" + uid + "/packages", json::serialize(second));
  const std::string merged_hash = string_at(answer, {"all_packages_hash"});
  ASSERT_NE(merged_hash, first_hash);
  EXPECT_EQ(at(answer, {"packages"}).as_object().size(), 2u) << json_text(answer);
  ASSERT_TRUE(eventually([&] { return offers_received(merged_hash) >= 1; }, kDeadline));
  auto merged = last_offer_with_hash(merged_hash);
  ASSERT_TRUE(merged);
  ASSERT_EQ(merged->packages().size(), 2u);
  const auto &kept = merged->packages().at("otelcol");
  EXPECT_EQ(kept.SerializeAsString(), collector.SerializeAsString());
  EXPECT_EQ(kept.hash(), collector.hash());
  EXPECT_EQ(kept.version(), "3.0.0");
  EXPECT_EQ(kept.file().signature(), "COLLECTOR SIGNATURE");
  EXPECT_EQ(hex(kept.file().content_hash()), sha256_hex(collector_content));
  EXPECT_EQ(kept.file().download_url(), server.ui_url() + "/packages/otelcol");
  ASSERT_EQ(kept.file().headers().headers().size(), 1);
  EXPECT_EQ(kept.file().headers().headers(0).key(), "Authorization");
  EXPECT_EQ(kept.file().headers().headers(0).value(), "Bearer download");
  const auto &addon = merged->packages().at("addon");
  EXPECT_EQ(addon.type(), proto::PackageType_Addon);
  EXPECT_EQ(addon.version(), "0.2");
  EXPECT_EQ(hex(addon.file().content_hash()), sha256_hex(addon_content));
  EXPECT_EQ(http_get(kept.file().download_url()).body, collector_content);
  EXPECT_EQ(http_get(addon.file().download_url()).body, addon_content);

  // A merge can drop a package by name: the offer is the first one again.
  answer = post("/api/agents/" + uid + "/packages", R"({"merge": true, "remove": ["addon"]})");
  EXPECT_EQ(string_at(answer, {"all_packages_hash"}), first_hash) << json_text(answer);
  ASSERT_TRUE(eventually([&] { return offers_received(first_hash) >= 2; }, kDeadline));
  auto after_remove = last_offer_with_hash(first_hash);
  ASSERT_EQ(after_remove->packages().size(), 1u);
  EXPECT_EQ(after_remove->packages().at("otelcol").SerializeAsString(),
            collector.SerializeAsString());
  auto view = wait_for_agent(server, uid, [&](const json::value &v) {
    return string_at(v, {"package_statuses", "server_provided_all_packages_hash"}) == first_hash;
  });
  EXPECT_EQ(at(view, {"packages_offer", "packages"}).as_object().size(), 1u) << json_text(view);

  // Bad input is refused with the key named, and leaves the offer as it was.
  auto refused = [&](const std::string &body, const std::string &key) {
    auto bad = server.post_json("/api/agents/" + uid + "/packages", body);
    EXPECT_EQ(bad.status, 400) << body;
    EXPECT_NE(string_at(bad.body, {"error"}).find(key), std::string::npos)
        << body << ": " << json_text(bad.body);
  };
  refused(R"({"remove": ["otelcol"]})", "remove");
  refused(R"({"merge": "yes", "packages": {}})", "merge");
  refused(R"({"merge": true, "remove": "otelcol"})", "remove");
  refused(R"({"merge": true, "remove": [1]})", "remove");
  refused(R"({"merge": true, "packages": 42})", "packages");
  refused(R"({"merge": true, "packages": {"missing": {"version": "1"}}})", "missing");
  refused(R"({})", "packages");
  EXPECT_EQ(string_at(server.agent(uid), {"packages_offer", "all_packages_hash"}), first_hash);

  // Without merge the given packages replace the whole offer.
  answer =
      post("/api/agents/" + uid + "/packages", R"({"packages": {"addon": {"version": "0.2"}}})");
  EXPECT_EQ(at(answer, {"packages"}).as_object().size(), 1u) << json_text(answer);
  EXPECT_FALSE(at(answer, {"packages", "addon"}).is_null()) << json_text(answer);
}

TEST_P(OpampServerTest, CustomMessagesBothWays) {
  auto agent = start_agent();
  wait_connected(*agent);
  const std::string uid = agent->instance_uid_string();
  json::object body{{"capability", "io.opsup.test.echo"}, {"type", "ping"}, {"data", "hello"}};
  post("/api/agents/" + uid + "/custom-message", json::serialize(body));
  ASSERT_TRUE(eventually(
      [&] {
        return agent->count_received([](const proto::ServerToAgent &m) {
          return m.custom_message().type() == "ping" && m.custom_message().data() == "hello" &&
                 m.custom_message().capability() == "io.opsup.test.echo";
        }) == 1;
      },
      kDeadline));
  auto view = wait_for_agent(server, uid, [](const json::value &v) {
    return at(v, {"custom_message_count"}).to_number<int>() >= 1;
  });
  const auto &messages = at(view, {"custom_messages"}).as_array();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(string_at(messages[0], {"capability"}), "io.opsup.test.echo");
  EXPECT_EQ(string_at(messages[0], {"type"}), "ping.reply");
  EXPECT_EQ(string_at(messages[0], {"data"}), "echo:hello");
}

TEST_P(OpampServerTest, FullStateOnRequest) {
  auto agent = start_agent();
  wait_connected(*agent);
  auto full_state_requests = [&] {
    return agent->count_received([](const proto::ServerToAgent &m) {
      return has_flag(m, proto::ServerToAgentFlags_ReportFullState);
    });
  };
  EXPECT_EQ(full_state_requests(), 0u);
  const std::string uid = agent->instance_uid_string();
  auto before = server.agent(uid);
  const auto count_before = at(before, {"message_count"}).to_number<uint64_t>();
  const auto sequence_before = at(before, {"sequence_num"}).to_number<uint64_t>();
  post("/api/agents/" + uid + "/full-state", "{}");
  EXPECT_TRUE(eventually([&] { return full_state_requests() == 1; }, kDeadline));
  // The agent's full report is what the server received next.
  auto full_report_logged = [&] {
    auto received = server.get_json("/api/agents/" + uid + "/messages");
    for (const auto &entry : at(received, {"messages"}).as_array()) {
      if (at(entry, {"sequence_num"}).to_number<uint64_t>() <= sequence_before)
        continue;
      const auto &fields = at(entry, {"fields"}).as_array();
      auto has = [&](const char *name) {
        return std::find(fields.begin(), fields.end(), json::value(name)) != fields.end();
      };
      if (has("agent_description") && has("health") && has("effective_config"))
        return true;
    }
    return false;
  };
  EXPECT_TRUE(eventually(full_report_logged, kDeadline))
      << json_text(server.get_json("/api/agents/" + uid + "/messages"));
  auto view = wait_for_agent(server, uid, [&](const json::value &v) {
    return at(v, {"message_count"}).to_number<uint64_t>() > count_before;
  });
  EXPECT_GT(at(view, {"message_count"}).to_number<uint64_t>(), count_before);
  EXPECT_EQ(at(view, {"pending", "report_full_state"}), json::value(false)) << json_text(view);
  EXPECT_EQ(string_at(view, {"description", "identifying_attributes", "service.name"}),
            "opamp-test-agent");
}

TEST_P(OpampServerTest, SequenceGapAsksForFullState) {
  auto agent = start_agent();
  auto view = wait_connected(*agent);
  const std::string uid = agent->instance_uid_string();
  auto full_state_requests = [&] {
    return agent->count_received([](const proto::ServerToAgent &m) {
      return has_flag(m, proto::ServerToAgentFlags_ReportFullState);
    });
  };
  // Contiguous messages: no request.
  agent->send([](proto::AgentToServer &m) { m.mutable_health()->set_status("one"); });
  wait_for_agent(server, uid, [](const json::value &v) {
    return string_at(v, {"health", "status"}) == "one";
  });
  EXPECT_EQ(full_state_requests(), 0u);

  agent->skip_sequence_number();
  agent->send([](proto::AgentToServer &m) { m.mutable_health()->set_status("after gap"); });
  ASSERT_TRUE(eventually([&] { return full_state_requests() == 1; }, kDeadline));
  // The agent answered with a full report, which the server took without asking again.
  view = wait_for_agent(server, uid, [](const json::value &v) {
    return string_at(v, {"health", "status"}) == "StatusOK";
  });
  EXPECT_EQ(full_state_requests(), 1u);
  auto sent = server.get_json("/api/agents/" + uid + "/sent");
  std::size_t flagged = 0;
  for (const auto &entry : at(sent, {"messages"}).as_array()) {
    for (const auto &name : at(entry, {"flag_names"}).as_array()) {
      if (name == json::value("ReportFullState"))
        ++flagged;
    }
  }
  EXPECT_EQ(flagged, 1u);
}

TEST_P(OpampServerTest, SequenceGapAcrossReconnectAsksForFullState) {
  TestAgentOptions options;
  options.instance_uid = random_instance_uid();
  const std::string uid = uid_to_uuid_string(options.instance_uid);
  // ReportFullState flags in the server's own log of what it sent this agent (it logs a
  // reply before the API shows the message it answers).
  auto full_state_flags_sent = [&] {
    std::size_t flagged = 0;
    auto sent = server.get_json("/api/agents/" + uid + "/sent");
    for (const auto &entry : at(sent, {"messages"}).as_array()) {
      const auto &names = at(entry, {"flag_names"}).as_array();
      if (std::find(names.begin(), names.end(), json::value("ReportFullState")) != names.end())
        ++flagged;
    }
    return flagged;
  };
  // Stops the agent and returns the last sequence_num the server saw from it.
  auto stop_and_last_sequence = [&](std::unique_ptr<TestAgent> &agent) {
    agent->stop();
    auto view = wait_for_agent(server, uid, [](const json::value &v) {
      return at(v, {"connection", "connected"}) == json::value(false);
    });
    EXPECT_EQ(at(view, {"connection", "connected"}), json::value(false)) << json_text(view);
    agent.reset();
    return at(view, {"sequence_num"}).to_number<uint64_t>();
  };
  auto agent = start_agent(options);
  wait_connected(*agent);
  uint64_t last_sequence = stop_and_last_sequence(agent);

  // Back on a new connection, continuing the sequence without a full report: nothing was
  // lost, nothing to ask.
  options.full_report_on_connect = false;
  options.first_sequence_num = last_sequence + 1;
  agent = start_agent(options);
  agent->send([](proto::AgentToServer &m) { m.mutable_health()->set_status("continued"); });
  auto view = wait_for_agent(server, uid, [](const json::value &v) {
    return string_at(v, {"health", "status"}) == "continued";
  });
  EXPECT_EQ(at(view, {"connection", "connection_count"}).to_number<int>(), 2) << json_text(view);
  EXPECT_EQ(full_state_flags_sent(), 0u);
  last_sequence = stop_and_last_sequence(agent);

  // A jump on a new connection whose first message is the usual full report: no request.
  options.full_report_on_connect = true;
  options.first_sequence_num = last_sequence + 10;
  agent = start_agent(options);
  view = wait_for_agent(server, uid, [&](const json::value &v) {
    return at(v, {"sequence_num"}).to_number<uint64_t>() >= last_sequence + 10;
  });
  EXPECT_EQ(string_at(view, {"health", "status"}), "StatusOK") << json_text(view);
  EXPECT_EQ(full_state_flags_sent(), 0u);
  last_sequence = stop_and_last_sequence(agent);

  // A jump on a new connection without a description: messages were lost, ask for all.
  options.full_report_on_connect = false;
  options.first_sequence_num = last_sequence + 10;
  agent = start_agent(options);
  agent->send([](proto::AgentToServer &m) { m.mutable_health()->set_status("after jump"); });
  ASSERT_TRUE(eventually(
      [&] {
        return agent->count_received([](const proto::ServerToAgent &m) {
          return has_flag(m, proto::ServerToAgentFlags_ReportFullState);
        }) == 1;
      },
      kDeadline))
      << json_text(server.get_json("/api/agents/" + uid + "/sent"));
  EXPECT_EQ(full_state_flags_sent(), 1u);
  // The agent's full report arrives and is taken without asking again.
  view = wait_for_agent(server, uid, [&](const json::value &v) {
    return at(v, {"sequence_num"}).to_number<uint64_t>() > last_sequence + 10 &&
           string_at(v, {"health", "status"}) == "StatusOK";
  });
  EXPECT_EQ(string_at(view, {"health", "status"}), "StatusOK") << json_text(view);
  EXPECT_EQ(full_state_flags_sent(), 1u);
}

TEST_P(OpampServerTest, OfflineAgentGetsDesiredStateOnReconnect) {
  TestAgentOptions options;
  options.instance_uid = random_instance_uid();
  auto agent = start_agent(options);
  wait_connected(*agent);
  const std::string uid = agent->instance_uid_string();
  agent->stop();
  wait_for_agent(server, uid, [](const json::value &v) {
    return at(v, {"connection", "connected"}) == json::value(false);
  });
  agent.reset();

  const std::string yaml = "exporters:\n  debug: {}\n";
  auto answer =
      post("/api/agents/" + uid + "/config", json::serialize(json::object{{"config", yaml}}));
  EXPECT_EQ(string_at(answer, {"delivery"}), "pending");
  EXPECT_EQ(at(answer, {"agent_connected"}), json::value(false));
  post("/api/agents/" + uid + "/custom-message",
       R"({"capability":"io.opsup.test.echo","type":"later","data":"x"})");

  auto again = start_agent(options);
  auto view = wait_for_agent(server, uid, [&](const json::value &v) {
    return string_at(v, {"remote_config_status", "status"}) == "APPLIED" &&
           at(v, {"custom_message_count"}).to_number<int>() >= 1;
  });
  EXPECT_EQ(string_at(view, {"remote_config_status", "last_remote_config_hash"}),
            string_at(answer, {"hash"}));
  EXPECT_EQ(at(view, {"connection", "connection_count"}).to_number<int>(), 2);
  EXPECT_EQ(at(view, {"connection", "disconnect_seen"}), json::value(false));
}

TEST_P(OpampServerTest, AssignsInstanceUidOnRequest) {
  auto agent = start_agent();
  const std::string temporary = agent->instance_uid_string();
  wait_connected(*agent);
  agent->send(
      [](proto::AgentToServer &m) { m.set_flags(proto::AgentToServerFlags_RequestInstanceUid); });
  ASSERT_TRUE(eventually([&] { return agent->instance_uid_string() != temporary; }, kDeadline));
  agent->send_full_state();
  auto view = wait_for_agent(server, agent->instance_uid_string(), [](const json::value &v) {
    return !at(v, {"description"}).is_null();
  });
  EXPECT_EQ(string_at(view, {"description", "identifying_attributes", "service.name"}),
            "opamp-test-agent");
}

TEST_P(OpampServerTest, UnknownAgentAndBadRequestsAreRefused) {
  EXPECT_EQ(
      server.post_json("/api/agents/0190a1b2-0000-7000-8000-000000000000/restart", "{}").status,
      404);
  auto agent = start_agent();
  wait_connected(*agent);
  const std::string uid = agent->instance_uid_string();
  auto answer = server.post_json("/api/agents/" + uid + "/config", "{not json");
  EXPECT_EQ(answer.status, 400);
  EXPECT_NE(string_at(answer.body, {"error"}).find("JSON"), std::string::npos);
  answer = server.post_json("/api/agents/" + uid + "/config", R"({"files":{"a":42}})");
  EXPECT_EQ(answer.status, 400);
  EXPECT_NE(string_at(answer.body, {"error"}).find("files.a"), std::string::npos);
  answer = server.post_json("/api/agents/" + uid + "/custom-message", R"({"type":"x"})");
  EXPECT_EQ(answer.status, 400);
  EXPECT_NE(string_at(answer.body, {"error"}).find("capability"), std::string::npos);
  answer = server.post_json("/api/agents/" + uid + "/packages",
                            R"({"packages":{"missing":{"version":"1"}}})");
  EXPECT_EQ(answer.status, 400);
  // The UID may be given in upper case.
  std::string upper = uid;
  for (char &c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(string_at(server.agent(upper), {"instance_uid"}), uid);
}

// ---- not parameterized by transport ----

TEST(OpampServerProcessTest, HelpAndBadArguments) {
  ChildProcess help({binary("opamp-server"), {"--help"}, {}, {}});
  EXPECT_EQ(help.wait_exit(kDeadline), 0);
  EXPECT_TRUE(help.wait_for_line("--opamp-listen", 5s));
  ChildProcess bad({binary("opamp-server"), {"--opamp-listen", "nonsense"}, {}, {}});
  EXPECT_EQ(bad.wait_exit(kDeadline), 2);
  EXPECT_TRUE(bad.wait_for_line("--opamp-listen: expected host:port", 5s));
}

TEST(OpampServerProcessTest, StopsCleanlyOnSigtermAndSigint) {
  for (int signal_number : {SIGTERM, SIGINT}) {
    OpampServerProcess server;
    IoThread io;
    TestAgentOptions options;
    options.endpoint = server.websocket_url();
    TestAgent agent(io.io(), options);
    agent.start();
    wait_for_agent(server, agent.instance_uid_string(),
                   [](const json::value &v) { return !at(v, {"description"}).is_null(); });
    server.process().send_signal(signal_number);
    EXPECT_EQ(server.process().wait_exit(kDeadline), 0) << "signal " << signal_number;
  }
}

// The agent page's first HTML already shows the agent (the script only refreshes it), with
// everything the agent sent escaped, and config file rows that start as the desired config.
TEST(OpampServerProcessTest, AgentPageIsRenderedWithTheAgentsState) {
  OpampServerProcess server;
  IoThread io;
  TestAgentOptions options;
  options.endpoint = server.websocket_url();
  options.service_name = "agent <b>&\"x\"</b> {{SCRIPT}}";
  TestAgent agent(io.io(), options);
  agent.start();
  const std::string uid = agent.instance_uid_string();
  wait_for_agent(server, uid, [](const json::value &v) {
    return at(v, {"connection", "connected"}) == json::value(true) &&
           !at(v, {"description"}).is_null();
  });
  const std::string main_yaml = "receivers:\n  otlp: {}\n";
  const std::string extra_yaml = "processors:\n  batch: {} # <i>&</i>\n";
  auto answer = server.post_json(
      "/api/agents/" + uid + "/config",
      json::serialize(
          json::object{{"files", json::object{{"", main_yaml}, {"extra.yaml", extra_yaml}}}}));
  ASSERT_EQ(answer.status, 200);
  const std::string hash = string_at(answer.body, {"hash"});
  wait_for_agent(server, uid, [](const json::value &v) {
    return string_at(v, {"remote_config_status", "status"}) == "APPLIED";
  });

  auto page = http_get(server.ui_url() + "/agents/" + uid);
  ASSERT_EQ(page.status, 200);
  const std::string &html = page.body;
  auto has = [&](const std::string &fragment) { return html.find(fragment) != std::string::npos; };
  // Escaped, never raw; placeholders in agent data stay text.
  EXPECT_TRUE(has("agent &lt;b&gt;&amp;&quot;x&quot;&lt;/b&gt; {{SCRIPT}}")) << html;
  EXPECT_FALSE(has("<b>&")) << html;
  EXPECT_TRUE(has("# &lt;i&gt;&amp;&lt;/i&gt;")) << html;
  EXPECT_FALSE(has("<i>&</i>"));
  // State sections, filled on the server.
  EXPECT_TRUE(has("id=\"status-line\" class=\"muted\">connected over ws from 127.0.0.1:")) << html;
  EXPECT_TRUE(has("<span class=\"pill\">AcceptsRemoteConfig</span>"));
  EXPECT_TRUE(has("<strong>receiver:otlp</strong> StatusOK"));
  EXPECT_TRUE(has("<strong id=\"remote-config-status\">APPLIED</strong>"));
  EXPECT_TRUE(has("<code id=\"remote-config-hash\">" + hash + "</code>"));
  EXPECT_TRUE(has("<code id=\"remote-config-desired-hash\">" + hash + "</code>"));
  EXPECT_TRUE(has("<h3>extra.yaml</h3><pre>processors:"));
  EXPECT_TRUE(has("<span class=\"pill\">io.opsup.test.echo</span>"));
  // One config row per desired file.
  EXPECT_TRUE(has("class=\"config-file-name\" value=\"extra.yaml\"")) << html;
  EXPECT_TRUE(has("class=\"config-file-name\" value=\"\"")) << html;
  std::size_t rows = 0;
  for (auto at = html.find("<fieldset class=\"config-file\""); at != std::string::npos;
       at = html.find("<fieldset class=\"config-file\"", at + 1)) {
    ++rows;
  }
  EXPECT_EQ(rows, 2u);
  // HTML drops the newline right after <textarea>: the page adds one, so the config's own
  // text (escaped) comes back unchanged when pushed from the page.
  EXPECT_TRUE(has("spellcheck=\"false\">\nreceivers:\n  otlp: {}\n</textarea>")) << html;
  // The script is inlined once, where the template puts it.
  EXPECT_TRUE(has("wireConfigRows"));
  auto count = [&](const std::string &fragment) {
    std::size_t found = 0;
    for (auto at = html.find(fragment); at != std::string::npos; at = html.find(fragment, at + 1))
      ++found;
    return found;
  };
  for (const char *name :
       {"STATUS_LINE", "DESCRIPTION", "CAPABILITIES", "HEALTH", "STYLE", "UID",
        "REMOTE_CONFIG_STATUS", "EFFECTIVE_CONFIG", "CUSTOM", "CONFIG_FILE_ROWS"}) {
    EXPECT_EQ(count("{{" + std::string(name) + "}}"), 0u) << name;
  }
  // "{{SCRIPT}}" only where the agent's name shows, not replaced by the script.
  EXPECT_EQ(count("{{SCRIPT}}"), count("&lt;/b&gt; {{SCRIPT}}"));
  EXPECT_GE(count("&lt;/b&gt; {{SCRIPT}}"), 1u);
}

TEST(OpampServerProcessTest, HttpAgentIsDisconnectedWhenPollsStop) {
  OpampServerProcess server({"--http-poll-interval", "1"});
  IoThread io;
  TestAgentOptions options;
  options.endpoint = server.http_url();
  auto agent = std::make_unique<TestAgent>(io.io(), options);
  agent->start();
  const std::string uid = agent->instance_uid_string();
  auto view = wait_for_agent(server, uid, [](const json::value &v) {
    return at(v, {"connection", "connected"}) == json::value(true);
  });
  EXPECT_EQ(at(view, {"connection", "http_poll_interval_seconds"}).to_number<int>(), 1);
  // Polls keep it connected across several intervals.
  auto count_before = at(view, {"message_count"}).to_number<uint64_t>();
  view = wait_for_agent(server, uid, [&](const json::value &v) {
    return at(v, {"message_count"}).to_number<uint64_t>() >= count_before + 10;
  });
  EXPECT_EQ(at(view, {"connection", "connected"}), json::value(true));
  // Gone without agent_disconnect: disconnected once the polls are overdue.
  agent.reset();
  view = wait_for_agent(server, uid, [](const json::value &v) {
    return at(v, {"connection", "connected"}) == json::value(false);
  });
  EXPECT_EQ(at(view, {"connection", "connected"}), json::value(false));
  EXPECT_EQ(at(view, {"connection", "disconnect_seen"}), json::value(false));
}

TEST(OpampServerProcessTest, SelfSignedTlsServesWss) {
  TempDir dir;
  const auto ca_file = dir.path() / "ca.pem";
  OpampServerProcess server({"--tls-self-signed", "--tls-ca-out", ca_file.string()});
  ASSERT_EQ(server.websocket_url().rfind("wss://", 0), 0u) << server.websocket_url();
  ASSERT_EQ(server.http_url().rfind("https://", 0), 0u) << server.http_url();
  ASSERT_TRUE(std::filesystem::exists(ca_file));
  IoThread io;
  for (const auto &endpoint : {server.websocket_url(), server.http_url()}) {
    TestAgentOptions options;
    options.endpoint = endpoint;
    options.tls.ca_file = ca_file.string();
    TestAgent agent(io.io(), options);
    agent.start();
    auto view = wait_for_agent(server, agent.instance_uid_string(), [](const json::value &v) {
      return at(v, {"connection", "connected"}) == json::value(true);
    });
    EXPECT_EQ(at(view, {"connection", "connected"}), json::value(true)) << endpoint;
  }
  // Without the CA, verification fails and the agent never shows up.
  TestAgentOptions untrusting;
  untrusting.endpoint = server.websocket_url();
  TestAgent stranger(io.io(), untrusting);
  stranger.start();
  EXPECT_TRUE(eventually([&] { return stranger.observations().disconnects >= 1; }, kDeadline));
  EXPECT_EQ(stranger.observations().connects, 0);
  EXPECT_TRUE(server.agent(stranger.instance_uid_string()).is_null());
}

}  // namespace
}  // namespace opsup::testing
