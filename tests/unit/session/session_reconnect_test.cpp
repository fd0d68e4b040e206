// Reconnects: backoff growth, Retry-After, ServerErrorResponse, oversized and malformed
// server messages, and the instance UID across restarts.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <limits>

#include "session_fixture.hpp"

namespace opsup::testing {
namespace {

using std::chrono::milliseconds;

TEST_F(SessionTest, ReconnectDelaysGrowWhileTheServerIsDownAndTheSessionRecovers) {
  auto options = options_for(server.ws_url());
  options.reconnect_initial_interval = milliseconds(200);
  options.reconnect_max_interval = milliseconds(6400);
  options.reconnect_jitter = 0.5;  // each delay in [cap/2, cap]: the trend is measurable
  start_session(options);
  ASSERT_TRUE(wait_for_messages(1));

  server.stop();
  ASSERT_TRUE(run_until(io, [&] { return !disconnect_reasons.empty(); }));
  ASSERT_TRUE(run_until(io, [&] { return failure_times.size() >= 6; }));
  std::vector<milliseconds> gaps;
  for (std::size_t i = 1; i < failure_times.size(); ++i) {
    gaps.push_back(millis_between(failure_times[i - 1], failure_times[i]));
  }
  // The cap doubles per attempt, so a delay is at least the one two attempts before.
  for (std::size_t i = 2; i < gaps.size(); ++i) {
    EXPECT_GT(gaps[i], gaps[i - 2]) << "attempt gap " << i;
  }
  EXPECT_GE(gaps.back(), 2 * gaps.front());
  for (const milliseconds gap : gaps)
    EXPECT_LE(gap, milliseconds(6400 + 1500));

  const uint64_t last_sequence = server.messages.back().message.sequence_num();
  const std::size_t before = server.messages.size();
  server.restart();  // same port
  ASSERT_TRUE(run_until(io, [&] { return connected_count == 2; }));
  ASSERT_TRUE(wait_for_messages(before + 1));
  const proto::AgentToServer &first = server.messages[before].message;
  EXPECT_TRUE(first.has_agent_description()) << "a full report after reconnecting";
  EXPECT_EQ(first.sequence_num(), last_sequence + 1);
}

TEST_F(SessionTest, RetryAfterOfARefusedWebSocketUpgradeIsHonoured) {
  bool accept = false;
  server.admit_policy = [&](const transport::RequestInfo &) -> std::optional<transport::Rejection> {
    if (accept)
      return std::nullopt;
    accept = true;
    transport::Rejection rejection;
    rejection.http_status = 503;
    rejection.retry_after = std::chrono::seconds(2);
    return rejection;
  };
  start_session(options_for(server.ws_url()));
  ASSERT_TRUE(run_until(io, [&] { return connected_count == 1; }));
  ASSERT_GE(server.requests.size(), 2u);
  EXPECT_TRUE(server.requests[0].rejected);
  EXPECT_GE(millis_between(server.requests[0].at, server.requests[1].at), milliseconds(2000));
  EXPECT_EQ(failure_reasons.size(), 1u);
}

TEST_F(SessionTest, RetryAfterOfARefusedHttpRequestIsHonoured) {
  bool accept = false;
  server.admit_policy = [&](const transport::RequestInfo &) -> std::optional<transport::Rejection> {
    if (accept)
      return std::nullopt;
    accept = true;
    transport::Rejection rejection;
    rejection.http_status = 429;
    rejection.retry_after = std::chrono::seconds(2);
    return rejection;
  };
  start_session(options_for(server.http_url()));
  ASSERT_TRUE(run_until(io, [&] { return connected_count == 1; }));
  ASSERT_GE(server.requests.size(), 2u);
  EXPECT_TRUE(server.requests[0].rejected);
  EXPECT_GE(millis_between(server.requests[0].at, server.requests[1].at), milliseconds(2000));
}

TEST_F(SessionTest, UnavailableWithRetryInfoDisconnectsAndWaits) {
  std::optional<Clock::time_point> error_sent;
  server.reply_policy = [&](const auto &connection, const proto::AgentToServer &message) {
    if (error_sent) {
      TestOpampServer::send(connection, TestOpampServer::default_reply(message));
      return;
    }
    proto::ServerToAgent reply;
    reply.mutable_error_response()->set_type(proto::ServerErrorResponseType_Unavailable);
    reply.mutable_error_response()->set_error_message("overloaded");
    reply.mutable_error_response()->mutable_retry_info()->set_retry_after_nanoseconds(
        1'500'000'000);
    TestOpampServer::send(connection, reply);
    error_sent = Clock::now();
  };
  start_session(options_for(server.ws_url()));
  ASSERT_TRUE(run_until(io, [&] { return connected_count == 2; }));
  ASSERT_TRUE(error_sent.has_value());
  ASSERT_EQ(server.requests.size(), 2u);
  EXPECT_GE(millis_between(*error_sent, server.requests[1].at), milliseconds(1500));
  ASSERT_EQ(disconnect_reasons.size(), 1u);
  EXPECT_NE(disconnect_reasons[0].find("overloaded"), std::string::npos);
  for (const std::string &message : routed) {
    proto::ServerToAgent parsed;
    ASSERT_TRUE(parsed.ParseFromString(message));
    EXPECT_FALSE(parsed.has_error_response()) << "error responses are not routed to modules";
  }
}

TEST_F(SessionTest, UnavailableWithoutRetryInfoReconnectsWithBackoff) {
  bool error_sent = false;
  server.reply_policy = [&](const auto &connection, const proto::AgentToServer &message) {
    if (error_sent) {
      TestOpampServer::send(connection, TestOpampServer::default_reply(message));
      return;
    }
    proto::ServerToAgent reply;
    reply.mutable_error_response()->set_type(proto::ServerErrorResponseType_Unavailable);
    TestOpampServer::send(connection, reply);
    error_sent = true;
  };
  start_session(options_for(server.ws_url()));
  ASSERT_TRUE(run_until(io, [&] { return connected_count == 2; }));
  EXPECT_EQ(disconnect_reasons.size(), 1u);
}

TEST_F(SessionTest, BadRequestIsNotRetriedAndTheConnectionStays) {
  start_session(options_for(server.ws_url()));
  ASSERT_TRUE(wait_for_messages(1));
  server.reply_policy = [&](const auto &connection, const proto::AgentToServer &message) {
    if (message.health().status() == "rejected") {
      proto::ServerToAgent reply;
      reply.mutable_error_response()->set_type(proto::ServerErrorResponseType_BadRequest);
      reply.mutable_error_response()->set_error_message("no thanks");
      TestOpampServer::send(connection, reply);
      return;
    }
    TestOpampServer::send(connection, TestOpampServer::default_reply(message));
  };
  ASSERT_TRUE(report_health("rejected"));
  ASSERT_TRUE(report_health("next"));
  ASSERT_EQ(server.messages.size(), 3u) << "the rejected message was not sent again";
  EXPECT_EQ(server.messages[2].message.sequence_num(), 2u);
  EXPECT_EQ(server.connects.size(), 1u);
  EXPECT_TRUE(disconnect_reasons.empty());
}

TEST_F(SessionTest, OversizedServerMessageClosesTheConnectionAndTheClientRecovers) {
  auto options = options_for(server.ws_url());
  options.max_message_bytes = 64 * 1024;
  bool oversized_sent = false;
  server.reply_policy = [&](const auto &connection, const proto::AgentToServer &message) {
    proto::ServerToAgent reply = TestOpampServer::default_reply(message);
    if (!oversized_sent) {
      reply.mutable_custom_message()->set_capability("com.example.big");
      reply.mutable_custom_message()->set_data(std::string(100 * 1024, 'x'));
      oversized_sent = true;
    }
    TestOpampServer::send(connection, reply);
  };
  start_session(options);
  ASSERT_TRUE(run_until(io, [&] { return connected_count == 2 && server.messages.size() >= 2; }));
  EXPECT_EQ(disconnect_reasons.size(), 1u);
  EXPECT_TRUE(server.messages.back().message.has_agent_description());
  for (const std::string &message : routed) {
    proto::ServerToAgent parsed;
    ASSERT_TRUE(parsed.ParseFromString(message));
    EXPECT_FALSE(parsed.has_custom_message()) << "the oversized message never reached modules";
  }
}

constexpr std::string_view kGarbage = "\x0a\xff\xff\xff\xff\x0f garbage";

TEST_F(SessionTest, MalformedWebSocketMessageDropsTheConnectionAndTheClientRecovers) {
  bool garbage_sent = false;
  server.reply_policy = [&](const auto &connection, const proto::AgentToServer &message) {
    if (!garbage_sent) {
      connection->send(std::string(kGarbage));
      garbage_sent = true;
      return;
    }
    TestOpampServer::send(connection, TestOpampServer::default_reply(message));
  };
  start_session(options_for(server.ws_url()));
  ASSERT_TRUE(
      run_until(io, [&] { return server.connects.size() >= 2 && server.messages.size() >= 2; }));
  EXPECT_EQ(disconnect_reasons.size(), 1u);
  EXPECT_NE(disconnect_reasons[0].find(server.ws_url()), std::string::npos)
      << "the error names the peer: " << disconnect_reasons[0];
  EXPECT_TRUE(server.messages.back().message.has_agent_description());
  EXPECT_EQ(std::count(routed.begin(), routed.end(), std::string(kGarbage)), 0)
      << "the undecodable message never reaches the modules";
}

TEST_F(SessionTest, MalformedHttpResponseDropsTheConnectionAndTheClientRecovers) {
  bool garbage_sent = false;
  server.reply_policy = [&](const auto &connection, const proto::AgentToServer &message) {
    if (!garbage_sent) {
      connection->send(std::string(kGarbage));
      garbage_sent = true;
      return;
    }
    TestOpampServer::send(connection, TestOpampServer::default_reply(message));
  };
  start_session(options_for(server.http_url()));
  ASSERT_TRUE(run_until(io, [&] { return server.messages.size() >= 2 && connected_count >= 2; }));
  EXPECT_TRUE(server.messages[1].message.has_agent_description());
  EXPECT_EQ(server.messages[1].message.sequence_num(), 1u);
}

TEST_F(SessionTest, GarbageAfterEveryUpgradeDoesNotResetTheBackoff) {
  // An upgrade alone is not a healthy exchange: with no jitter the delays must double
  // (100, 200, 400 ms...) instead of starting over at 100 ms after each upgrade.
  server.reply_policy = [&](const auto &connection, const proto::AgentToServer &) {
    connection->send(std::string(kGarbage));
  };
  auto options = options_for(server.ws_url());
  options.reconnect_initial_interval = milliseconds(100);
  options.reconnect_max_interval = milliseconds(3200);
  options.reconnect_jitter = 0.0;
  start_session(options);
  ASSERT_TRUE(run_until(io, [&] { return server.connects.size() >= 5; }));
  std::vector<milliseconds> gaps;
  for (std::size_t i = 1; i < server.connects.size(); ++i)
    gaps.push_back(millis_between(server.connects[i - 1], server.connects[i]));
  // 100, 200, 400, 800 ms (plus connect time); a reset would keep them all near 100.
  EXPECT_GE(gaps[3], milliseconds(800)) << gaps[0].count() << " " << gaps[1].count() << " "
                                        << gaps[2].count() << " " << gaps[3].count();
  EXPECT_GE(gaps[2], milliseconds(400));
}

TEST_F(SessionTest, AHealthyMessageResetsTheBackoff) {
  // Garbage on the first five connections, then good replies; then the server drops the
  // connection: the next delay starts again from the initial interval (100 ms, or 300 ms
  // when the first try comes before the restarted server listens) instead of the 3200 ms
  // that five failures would have reached. The wide gap keeps this true on a loaded machine.
  int garbage_left = 5;
  server.reply_policy = [&](const auto &connection, const proto::AgentToServer &message) {
    if (garbage_left > 0) {
      --garbage_left;
      connection->send(std::string(kGarbage));
      return;
    }
    TestOpampServer::send(connection, TestOpampServer::default_reply(message));
  };
  auto options = options_for(server.ws_url());
  options.reconnect_initial_interval = milliseconds(100);
  options.reconnect_max_interval = milliseconds(3200);
  options.reconnect_jitter = 0.0;
  start_session(options);
  ASSERT_TRUE(run_until(io, [&] { return server.connects.size() >= 6 && !routed.empty(); }));
  server.stop();
  ASSERT_TRUE(run_until(io, [&] { return disconnect_reasons.size() >= 6; }));
  const auto dropped_at = Clock::now();
  server.restart();
  ASSERT_TRUE(run_until(io, [&] { return server.connects.size() >= 7; }));
  EXPECT_LT(millis_between(dropped_at, server.connects[6]), milliseconds(1600));
}

TEST_F(SessionTest, AHugeRetryAfterNanosecondsIsClampedNotOverflowed) {
  std::optional<Clock::time_point> error_sent;
  server.reply_policy = [&](const auto &connection, const proto::AgentToServer &message) {
    if (error_sent) {
      TestOpampServer::send(connection, TestOpampServer::default_reply(message));
      return;
    }
    proto::ServerToAgent reply;
    reply.mutable_error_response()->set_type(proto::ServerErrorResponseType_Unavailable);
    reply.mutable_error_response()->mutable_retry_info()->set_retry_after_nanoseconds(
        std::numeric_limits<uint64_t>::max());
    TestOpampServer::send(connection, reply);
    error_sent = Clock::now();
  };
  auto options = options_for(server.ws_url());
  options.reconnect_max_server_delay = milliseconds(1000);
  start_session(options);
  ASSERT_TRUE(run_until(io, [&] { return connected_count == 2; }));
  ASSERT_EQ(server.connects.size(), 2u);
  // Not at once (the overflow reconnected ~1 ms later), not in a century: the maximum.
  EXPECT_GE(millis_between(*error_sent, server.connects[1]), milliseconds(1000));
}

TEST_F(SessionTest, InstanceUidIsStableAcrossSessionRestarts) {
  start_session(options_for(server.ws_url()));
  ASSERT_TRUE(wait_for_messages(1));
  const std::string first_uid = uid_bytes();
  stop_session();
  const std::size_t before = server.messages.size();
  start_session(options_for(server.ws_url()));
  ASSERT_TRUE(wait_for_messages(before + 1));
  EXPECT_EQ(server.messages[before].message.instance_uid(), first_uid);
}

TEST_F(SessionTest, ServerAssignedInstanceUidIsAdoptedPersistedAndUsedAfterRestart) {
  const common::Uuid assigned = common::generate_uuid_v7();
  const std::string assigned_bytes(assigned.begin(), assigned.end());
  bool assigned_sent = false;
  server.reply_policy = [&](const auto &connection, const proto::AgentToServer &message) {
    proto::ServerToAgent reply = TestOpampServer::default_reply(message);
    if (!assigned_sent) {
      reply.mutable_agent_identification()->set_new_instance_uid(assigned_bytes);
      assigned_sent = true;
    }
    TestOpampServer::send(connection, reply);
  };
  start_session(options_for(server.ws_url()));
  ASSERT_TRUE(wait_for_messages(2)) << "the description changes with the UID";
  const proto::AgentToServer &second = server.messages[1].message;
  EXPECT_EQ(second.instance_uid(), assigned_bytes);
  EXPECT_EQ(attribute(second.agent_description().identifying_attributes(), "service.instance.id"),
            common::format_uuid(assigned));
  ASSERT_EQ(uid_changes.size(), 1u);
  EXPECT_EQ(uid_changes[0], assigned);
  const YAML::Node persisted =
      YAML::LoadFile((dir.path() / "storage" / "persistent_state.yaml").string());
  EXPECT_EQ(persisted["instance_id"].as<std::string>(), common::format_uuid(assigned));

  stop_session();
  const std::size_t before = server.messages.size();
  start_session(options_for(server.ws_url()));
  ASSERT_TRUE(wait_for_messages(before + 1));
  EXPECT_EQ(server.messages[before].message.instance_uid(), assigned_bytes);
}

TEST_F(SessionTest, InstanceUidOfTheWrongLengthIsIgnored) {
  bool sent = false;
  server.reply_policy = [&](const auto &connection, const proto::AgentToServer &message) {
    proto::ServerToAgent reply = TestOpampServer::default_reply(message);
    if (!sent) {
      reply.mutable_agent_identification()->set_new_instance_uid("short");
      sent = true;
    }
    TestOpampServer::send(connection, reply);
  };
  start_session(options_for(server.ws_url()));
  ASSERT_TRUE(wait_for_messages(1));
  const std::string original = server.messages[0].message.instance_uid();
  ASSERT_TRUE(report_health("ok"));
  EXPECT_EQ(server.messages.back().message.instance_uid(), original);
  EXPECT_TRUE(uid_changes.empty());
}

}  // namespace
}  // namespace opsup::testing
