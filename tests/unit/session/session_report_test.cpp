// Connecting, status reporting, sequence numbers, ReportFullState, heartbeats, routing and
// shutdown, against a real server on loopback.
#include <gtest/gtest.h>

#include "raw_http_capture.hpp"
#include "session_fixture.hpp"

namespace opsup::testing {
namespace {

using std::chrono::milliseconds;

TEST_F(SessionTest, WebSocketSessionConnectsWithAFullFirstReport) {
  start_session(options_for(server.ws_url()));
  ASSERT_TRUE(wait_for_messages(1));
  const proto::AgentToServer &first = server.messages[0].message;
  EXPECT_EQ(first.sequence_num(), 0u);
  EXPECT_EQ(first.instance_uid(), uid_bytes());
  EXPECT_EQ(first.capabilities(), kDefaultCapabilities);
  ASSERT_TRUE(first.has_agent_description());
  const auto &description = first.agent_description();
  EXPECT_EQ(attribute(description.identifying_attributes(), "service.instance.id"),
            common::format_uuid(session->instance_uid()));
  EXPECT_EQ(attribute(description.identifying_attributes(), "service.name"),
            "io.opentelemetry.collector");
  EXPECT_EQ(attribute(description.non_identifying_attributes(), "os.type"), "linux");
  EXPECT_NE(attribute(description.non_identifying_attributes(), "host.name"), "<absent>");
  EXPECT_NE(attribute(description.non_identifying_attributes(), "host.arch"), "<absent>");
  EXPECT_TRUE(run_until(
      io, [&] { return session->server_capabilities() == TestOpampServer::kServerCapabilities; }));
  EXPECT_EQ(connected_count, 1);
  EXPECT_TRUE(session->is_connected());
  ASSERT_FALSE(routed.empty()) << "server messages reach the modules";
  EXPECT_EQ(routed_capabilities[0], kDefaultCapabilities);
}

TEST_F(SessionTest, HttpSessionReportsWithTheInstanceUidHeader) {
  start_session(options_for(server.http_url()));
  ASSERT_TRUE(wait_for_messages(1));
  const ReceivedMessage &first = server.messages[0];
  EXPECT_EQ(first.message.sequence_num(), 0u);
  EXPECT_TRUE(first.message.has_agent_description());
  EXPECT_EQ(first.request.header("OpAMP-Instance-UID"),
            common::format_uuid(session->instance_uid()));
  EXPECT_EQ(first.request.header("Content-Type"), "application/x-protobuf");
  EXPECT_TRUE(run_until(io, [&] { return connected_count == 1; }));
}

TEST_F(SessionTest, SequenceNumbersIncreaseByOneAndOnlyChangesAreSent) {
  start_session(options_for(server.ws_url()));
  ASSERT_TRUE(wait_for_messages(1));
  ASSERT_TRUE(report_health("starting"));
  ASSERT_TRUE(report_health("ok"));
  ASSERT_TRUE(report_health("degraded"));
  ASSERT_EQ(server.messages.size(), 4u);
  for (std::size_t i = 0; i < server.messages.size(); ++i) {
    const proto::AgentToServer &message = server.messages[i].message;
    EXPECT_EQ(message.sequence_num(), i);
    EXPECT_EQ(message.capabilities(), kDefaultCapabilities) << "capabilities are always set";
    EXPECT_EQ(message.instance_uid(), uid_bytes());
    if (i > 0) {
      EXPECT_FALSE(message.has_agent_description()) << "unchanged fields are left out";
      EXPECT_TRUE(message.has_health());
    }
  }
}

TEST_F(SessionTest, HttpRequestBodiesAreGzippedWhenEnabled) {
  RawHttpCapture capture(io);  // sees the body as sent, before any inflating
  auto options = options_for(capture.url());
  options.gzip_http_requests = true;
  start_session(options);
  ASSERT_TRUE(run_until(io, [&] { return !capture.requests().empty(); }));
  const auto &request = capture.requests()[0];
  EXPECT_EQ(request[boost::beast::http::field::content_encoding], "gzip");
  proto::AgentToServer first;
  ASSERT_TRUE(first.ParseFromString(gunzip(request.body())));
  EXPECT_TRUE(first.has_agent_description());
  EXPECT_EQ(first.instance_uid(), uid_bytes());
}

TEST_F(SessionTest, HttpRequestBodiesArePlainByDefault) {
  RawHttpCapture capture(io);
  start_session(options_for(capture.url()));
  ASSERT_TRUE(run_until(io, [&] { return !capture.requests().empty(); }));
  EXPECT_EQ(capture.requests()[0].count(boost::beast::http::field::content_encoding), 0u);
  proto::AgentToServer first;
  EXPECT_TRUE(first.ParseFromString(capture.requests()[0].body()));
}

TEST_F(SessionTest, ReportFullStateRequestsInsideTheWindowAreCoalescedIntoOneDeferredReport) {
  auto options = options_for(server.ws_url());
  const milliseconds window(1000);
  options.full_state_coalescing_window = window;
  start_session(options);
  ASSERT_TRUE(wait_for_messages(1));
  ASSERT_TRUE(report_health("ok"));  // health is known now, so a full report carries it

  // Let the window of the connect report pass: this is the behaviour under test.
  run_for(io, milliseconds(1200));
  const std::size_t before = server.messages.size();
  int extra_requests_sent = 0;
  server.reply_policy = [&](const auto &connection, const proto::AgentToServer &message) {
    proto::ServerToAgent reply = TestOpampServer::default_reply(message);
    // Answer the first full report with two more ReportFullState: both inside the window.
    if (message.has_agent_description() && extra_requests_sent == 0) {
      reply.set_flags(proto::ServerToAgentFlags_ReportFullState);
      TestOpampServer::send(connection, reply);
      extra_requests_sent = 2;
    }
    TestOpampServer::send(connection, reply);
  };
  proto::ServerToAgent request;
  request.set_flags(proto::ServerToAgentFlags_ReportFullState);
  TestOpampServer::send(server.last_connection, request);

  ASSERT_TRUE(wait_for_messages(before + 1));
  const proto::AgentToServer &full = server.messages[before].message;
  EXPECT_TRUE(full.has_agent_description());
  EXPECT_TRUE(full.has_health());
  EXPECT_EQ(full.sequence_num(), before);

  // Inside the window, changes still go out at once and carry only what changed.
  const std::size_t routed_before = routed.size();
  ASSERT_TRUE(run_until(io, [&] { return routed.size() >= routed_before + 2; }))
      << "both extra ReportFullState requests reached the session";
  ASSERT_TRUE(report_health("degraded"));
  ASSERT_EQ(server.messages.size(), before + 2);
  EXPECT_FALSE(server.messages.back().message.has_agent_description());

  // The requests are answered once, by one full report when the window ends.
  ASSERT_TRUE(wait_for_messages(before + 3));
  const auto &deferred = server.messages[before + 2];
  EXPECT_TRUE(deferred.message.has_agent_description());
  EXPECT_EQ(deferred.message.health().status(), "degraded");
  EXPECT_GE(millis_between(server.messages[before].at, deferred.at), window - milliseconds(50));
  run_for(io, milliseconds(1500));  // observing that no second deferred report comes
  EXPECT_EQ(server.messages.size(), before + 3);
}

TEST_F(SessionTest, HeartbeatIntervalOfferIsHonouredAndZeroDisablesHeartbeats) {
  auto options = options_for(server.ws_url());
  options.capabilities = kDefaultCapabilities | kReportsHeartbeat;
  std::optional<uint64_t> offer = 1;
  server.reply_policy = [&](const auto &connection, const proto::AgentToServer &message) {
    proto::ServerToAgent reply = TestOpampServer::default_reply(message);
    if (offer) {
      reply.mutable_connection_settings()->mutable_opamp()->set_heartbeat_interval_seconds(*offer);
      offer.reset();
    }
    TestOpampServer::send(connection, reply);
  };
  start_session(options);
  ASSERT_TRUE(wait_for_messages(4)) << "three heartbeats after the first report";
  for (std::size_t i = 1; i < 4; ++i) {
    EXPECT_TRUE(is_heartbeat(server.messages[i].message)) << i;
    const auto gap = millis_between(server.messages[i - 1].at, server.messages[i].at);
    EXPECT_GE(gap, milliseconds(900)) << i;
    EXPECT_LE(gap, milliseconds(5000)) << i;
  }

  offer = 0;  // answered with the next heartbeat
  ASSERT_TRUE(run_until(io, [&] { return !offer.has_value(); }));
  const std::size_t count = server.messages.size();
  run_for(io, milliseconds(2500));  // observing that nothing more comes
  EXPECT_EQ(server.messages.size(), count);
}

TEST_F(SessionTest, AnyMessageSentRestartsTheHeartbeatInterval) {
  auto options = options_for(server.ws_url());
  options.capabilities = kDefaultCapabilities | kReportsHeartbeat;
  options.heartbeat_interval = std::chrono::seconds(2);
  start_session(options);
  ASSERT_TRUE(wait_for_messages(1));
  // Changes every ~0.7 s: without the restart a heartbeat would fall between them.
  for (int i = 0; i < 5; ++i) {
    run_for(io, milliseconds(700));
    ASSERT_TRUE(report_health("step " + std::to_string(i)));
  }
  ASSERT_TRUE(run_until(io, [&] { return is_heartbeat(server.messages.back().message); }));
  int heartbeats = 0;
  for (std::size_t i = 1; i < server.messages.size(); ++i) {
    if (!is_heartbeat(server.messages[i].message))
      continue;
    ++heartbeats;
    // Load only delays timers, so a heartbeat never comes sooner (less network jitter).
    EXPECT_GE(millis_between(server.messages[i - 1].at, server.messages[i].at), milliseconds(1700))
        << "heartbeat #" << i << " came too soon after the previous message";
  }
  EXPECT_GE(heartbeats, 1);
}

// SIGHUP with a changed server.heartbeat_interval: the new interval is used at once.
TEST_F(SessionTest, AChangedHeartbeatIntervalIsUsedAtOnce) {
  auto options = options_for(server.ws_url());
  options.capabilities = kDefaultCapabilities | kReportsHeartbeat;
  options.heartbeat_interval = std::chrono::seconds(30);
  start_session(options);
  ASSERT_TRUE(wait_for_messages(1));
  session->set_heartbeat_interval(std::chrono::seconds(1));
  ASSERT_TRUE(wait_for_messages(3)) << "heartbeats at the new interval";
  for (std::size_t i = 1; i < 3; ++i) {
    EXPECT_TRUE(is_heartbeat(server.messages[i].message)) << i;
    EXPECT_GE(millis_between(server.messages[i - 1].at, server.messages[i].at), milliseconds(900))
        << i;
  }
}

// SIGHUP with changed agent.description overrides: the description is sent again with them.
TEST_F(SessionTest, ChangedDescriptionOverridesAreSentAgain) {
  start_session(options_for(server.ws_url()));
  ASSERT_TRUE(wait_for_messages(1));
  session->set_description_overrides({{{"service.namespace", "reloaded"}}, {{"team", "b"}}});
  ASSERT_TRUE(wait_for_messages(2));
  const proto::AgentToServer &second = server.messages[1].message;
  ASSERT_TRUE(second.has_agent_description());
  EXPECT_EQ(attribute(second.agent_description().identifying_attributes(), "service.namespace"),
            "reloaded");
  EXPECT_EQ(attribute(second.agent_description().non_identifying_attributes(), "team"), "b");
  EXPECT_EQ(attribute(second.agent_description().identifying_attributes(), "service.name"),
            "io.opentelemetry.collector");
  // The same overrides again change nothing, so nothing is sent.
  session->set_description_overrides({{{"service.namespace", "reloaded"}}, {{"team", "b"}}});
  run_for(io, milliseconds(300));  // observing that nothing more comes
  EXPECT_EQ(server.messages.size(), 2u);
}

TEST_F(SessionTest, HttpIgnoresTheHeartbeatIntervalWhenHeartbeatsAreOff) {
  // It polls every 30 s then; too long to wait for here, so only "not at 1 s" is checked.
  auto options = options_for(server.http_url());
  options.capabilities = kDefaultCapabilities;  // no ReportsHeartbeat
  options.heartbeat_interval = std::chrono::seconds(1);
  start_session(options);
  ASSERT_TRUE(wait_for_messages(1));
  run_for(io, milliseconds(2500));  // observing that the 1 s setting does not apply
  EXPECT_EQ(server.messages.size(), 1u);
}

TEST_F(SessionTest, HttpPollsAtTheOfferedHeartbeatInterval) {
  auto options = options_for(server.http_url());
  options.capabilities = kDefaultCapabilities | kReportsHeartbeat;
  bool offered = false;
  server.reply_policy = [&](const auto &connection, const proto::AgentToServer &message) {
    proto::ServerToAgent reply = TestOpampServer::default_reply(message);
    if (!offered) {
      reply.mutable_connection_settings()->mutable_opamp()->set_heartbeat_interval_seconds(1);
      offered = true;
    }
    TestOpampServer::send(connection, reply);
  };
  start_session(options);
  ASSERT_TRUE(wait_for_messages(4));
  for (std::size_t i = 1; i < 4; ++i) {
    EXPECT_TRUE(is_heartbeat(server.messages[i].message));
    EXPECT_GE(millis_between(server.messages[i - 1].at, server.messages[i].at), milliseconds(900));
  }
}

TEST_F(SessionTest, WebSocketShutdownSendsAgentDisconnect) {
  start_session(options_for(server.ws_url()));
  ASSERT_TRUE(wait_for_messages(1));
  bool done = false;
  session->shutdown([&] { done = true; });
  ASSERT_TRUE(run_until(io, [&] { return done; }));
  ASSERT_TRUE(run_until(io, [&] { return !server.closes.empty(); }));
  ASSERT_EQ(server.messages.size(), 2u);
  EXPECT_TRUE(server.messages.back().message.has_agent_disconnect());
  EXPECT_EQ(server.messages.back().message.sequence_num(), 1u);
  EXPECT_EQ(server.messages.back().message.capabilities(), kDefaultCapabilities);
  session.reset();
}

TEST_F(SessionTest, HttpShutdownSendsAgentDisconnect) {
  start_session(options_for(server.http_url()));
  ASSERT_TRUE(wait_for_messages(1));
  ASSERT_TRUE(run_until(io, [&] { return session->is_connected(); }));
  bool done = false;
  session->shutdown([&] { done = true; });
  ASSERT_TRUE(run_until(io, [&] { return done; }));
  ASSERT_EQ(server.messages.size(), 2u);
  EXPECT_TRUE(server.messages.back().message.has_agent_disconnect());
  session.reset();
}

TEST_F(SessionTest, ShutdownWhileDisconnectedStillCompletes) {
  server.stop();
  start_session(options_for(server.ws_url()));
  ASSERT_TRUE(run_until(io, [&] { return !failure_reasons.empty(); }));
  bool done = false;
  session->shutdown([&] { done = true; });
  ASSERT_TRUE(run_until(io, [&] { return done; }));
  const std::size_t failures = failure_reasons.size();
  run_for(io, milliseconds(300));
  EXPECT_EQ(failure_reasons.size(), failures) << "no reconnect attempts after shutdown";
  session.reset();
}

TEST_F(SessionTest, ModuleFieldsAreMergedAndCommandsAreRoutedAlone) {
  start_session(options_for(server.ws_url()));
  ASSERT_TRUE(wait_for_messages(1));
  const uint32_t custom_capabilities = 12;
  proto::AgentToServer first;
  first.mutable_custom_capabilities()->add_capabilities("com.example.b");
  proto::AgentToServer second;
  second.mutable_custom_capabilities()->add_capabilities("com.example.a");
  second.mutable_custom_capabilities()->add_capabilities("com.example.b");
  // Both in one handler: they leave as one message.
  session->set_agent_fields("module.one", std::span(&custom_capabilities, 1),
                            first.SerializeAsString());
  session->set_agent_fields("module.two", std::span(&custom_capabilities, 1),
                            second.SerializeAsString());
  ASSERT_TRUE(wait_for_messages(2));
  run_for(io, milliseconds(200));
  ASSERT_EQ(server.messages.size(), 2u);
  const auto &capabilities = server.messages[1].message.custom_capabilities().capabilities();
  EXPECT_EQ(std::vector<std::string>(capabilities.begin(), capabilities.end()),
            (std::vector<std::string>{"com.example.a", "com.example.b"}));

  const std::size_t routed_before = routed.size();
  proto::ServerToAgent command;
  command.mutable_command()->set_type(proto::CommandType_Restart);
  command.mutable_remote_config()->set_config_hash("ignored with a command");
  TestOpampServer::send(server.last_connection, command);
  ASSERT_TRUE(run_until(io, [&] { return routed.size() > routed_before; }));
  proto::ServerToAgent delivered;
  ASSERT_TRUE(delivered.ParseFromString(routed.back()));
  EXPECT_TRUE(delivered.has_command());
  EXPECT_FALSE(delivered.has_remote_config());
}

TEST_F(SessionTest, CollectorDescriptionReplacesHostFactsWithOverrides) {
  auto options = options_for(server.ws_url());
  options.description_overrides.identifying_attributes = {{"deployment.environment", "prod"}};
  options.description_overrides.non_identifying_attributes = {{"host.name", "override"}};
  start_session(options);
  ASSERT_TRUE(wait_for_messages(1));
  EXPECT_EQ(attribute(server.messages[0].message.agent_description().non_identifying_attributes(),
                      "host.name"),
            "override");

  proto::AgentDescription collector;
  auto *name = collector.add_identifying_attributes();
  name->set_key("service.name");
  name->mutable_value()->set_string_value("otelcol-contrib");
  auto *host = collector.add_non_identifying_attributes();
  host->set_key("host.name");
  host->mutable_value()->set_string_value("collector-host");
  session->set_agent_description(collector.SerializeAsString());
  ASSERT_TRUE(wait_for_messages(2));
  const auto &description = server.messages[1].message.agent_description();
  ASSERT_EQ(description.identifying_attributes_size(), 2);
  EXPECT_EQ(description.identifying_attributes(0).key(), "deployment.environment");
  EXPECT_EQ(description.identifying_attributes(1).value().string_value(), "otelcol-contrib");
  EXPECT_EQ(attribute(description.non_identifying_attributes(), "host.name"), "override");
  EXPECT_EQ(attribute(description.non_identifying_attributes(), "os.type"), "<absent>")
      << "the host facts are gone";
  EXPECT_THROW(session->set_agent_description("\xff\xff\xff"), std::invalid_argument);
}

TEST_F(SessionTest, InvalidOptionsAreRejectedAtConstruction) {
  auto bad_scheme = options_for("ftp://127.0.0.1:1/v1/opamp");
  EXPECT_THROW(session::ClientSession(io, bad_scheme, callbacks()), std::invalid_argument);
  auto no_token = options_for(server.ws_url());
  no_token.auth = session::BearerTokenAuth{};
  EXPECT_THROW(session::ClientSession(io, no_token, callbacks()), std::invalid_argument);
  auto no_storage = options_for(server.ws_url());
  no_storage.storage_directory.clear();
  EXPECT_THROW(session::ClientSession(io, no_storage, callbacks()), std::invalid_argument);
}

void write_go_supervisor_state(const std::filesystem::path &storage) {
  std::filesystem::create_directories(storage);
  write_text(storage / "persistent_state.yaml",
             "instance_id: 0190f1a8-6b1c-7c3e-9d1f-2b5c4e6a7f80\n"
             "last_remote_config_status:\n"
             "    status: 3\n"
             "    last_remote_config_hash: 9f86d081\n"
             "    error_message: bad config\n");
}

TEST_F(SessionTest, PersistedRemoteConfigStatusIsReportedWhenTheCapabilityIsSetBeforeStart) {
  // The supervisor's order: the session exists before modules decide the capabilities.
  write_go_supervisor_state(dir.path() / "storage");
  session = std::make_unique<session::ClientSession>(io, options_for(server.ws_url()), callbacks());
  session->set_capabilities(kDefaultCapabilities | 0x1000);  // ReportsRemoteConfig
  session->start();
  ASSERT_TRUE(wait_for_messages(1));
  const proto::AgentToServer &first = server.messages[0].message;
  EXPECT_EQ(first.capabilities(), kDefaultCapabilities | 0x1000);
  ASSERT_TRUE(first.has_remote_config_status());
  EXPECT_EQ(first.remote_config_status().status(), proto::RemoteConfigStatuses_FAILED);
}

TEST_F(SessionTest, PersistedRemoteConfigStatusIsNotReportedWithoutTheCapability) {
  write_go_supervisor_state(dir.path() / "storage");
  start_session(options_for(server.ws_url()));
  ASSERT_TRUE(wait_for_messages(1));
  EXPECT_FALSE(server.messages[0].message.has_remote_config_status());
}

TEST_F(SessionTest, PersistedRemoteConfigStatusOfAGoSupervisorIsReportedAtOnce) {
  std::filesystem::create_directories(dir.path() / "storage");
  write_text(dir.path() / "storage" / "persistent_state.yaml",
             "instance_id: 0190f1a8-6b1c-7c3e-9d1f-2b5c4e6a7f80\n"
             "last_remote_config_status:\n"
             "    status: 3\n"
             "    last_remote_config_hash: 9f86d081\n"
             "    error_message: bad config\n");
  auto options = options_for(server.ws_url());
  options.capabilities = kDefaultCapabilities | 0x1000;  // ReportsRemoteConfig
  start_session(options);
  ASSERT_TRUE(wait_for_messages(1));
  const proto::AgentToServer &first = server.messages[0].message;
  EXPECT_EQ(common::format_uuid(session->instance_uid()), "0190f1a8-6b1c-7c3e-9d1f-2b5c4e6a7f80");
  ASSERT_TRUE(first.has_remote_config_status());
  EXPECT_EQ(first.remote_config_status().status(), proto::RemoteConfigStatuses_FAILED);
  EXPECT_EQ(first.remote_config_status().last_remote_config_hash(), "\x9f\x86\xd0\x81");
  EXPECT_EQ(first.remote_config_status().error_message(), "bad config");
}

}  // namespace
}  // namespace opsup::testing
