// A ClientSession against a TestOpampServer on loopback, with every callback recorded.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "common/uuid.hpp"
#include "session/client_session.hpp"
#include "test_files.hpp"
#include "test_opamp_server.hpp"

namespace opsup::testing {

constexpr uint64_t kReportsStatus = 0x1;
constexpr uint64_t kReportsHealth = 0x800;
constexpr uint64_t kReportsHeartbeat = 0x2000;
constexpr uint64_t kDefaultCapabilities = kReportsStatus | kReportsHealth;

class SessionTest : public ::testing::Test {
 protected:
  void SetUp() override { server.start(); }
  void TearDown() override {
    // Policies capture the test body's locals, which are gone by now.
    server.reply_policy = nullptr;
    server.admit_policy = nullptr;
    stop_session();
    server.stop();
    io.poll();
  }

  session::SessionOptions options_for(const std::string &endpoint) {
    session::SessionOptions options;
    options.endpoint = endpoint;
    options.storage_directory = dir.path() / "storage";
    options.capabilities = kDefaultCapabilities;
    options.reconnect_initial_interval = std::chrono::milliseconds(50);
    options.reconnect_max_interval = std::chrono::milliseconds(1000);
    options.reconnect_jitter = 0.5;
    options.connect_timeout = std::chrono::seconds(10);
    options.shutdown_timeout = std::chrono::seconds(5);
    return options;
  }

  session::SessionCallbacks callbacks() {
    session::SessionCallbacks callbacks;
    callbacks.route_server_message = [this](std::string_view message, uint64_t advertised) {
      routed.emplace_back(message);
      routed_capabilities.push_back(advertised);
    };
    callbacks.on_connected = [this] { ++connected_count; };
    callbacks.on_disconnected = [this](std::string_view reason) {
      disconnect_reasons.emplace_back(reason);
    };
    callbacks.on_connect_failed = [this](std::string_view reason) {
      failure_times.push_back(Clock::now());
      failure_reasons.emplace_back(reason);
    };
    callbacks.on_instance_uid_changed = [this](const session::InstanceUid &uid) {
      uid_changes.push_back(uid);
    };
    return callbacks;
  }

  void start_session(session::SessionOptions options) {
    session = std::make_unique<session::ClientSession>(io, std::move(options), callbacks());
    session->start();
  }

  // Shuts the session down cleanly (bounded) and destroys it.
  void stop_session() {
    if (!session)
      return;
    bool done = false;
    session->shutdown([&done] { done = true; });
    EXPECT_TRUE(run_until(
        io, [&done] { return done; }, std::chrono::seconds(15)));
    session.reset();
  }

  bool wait_for_messages(std::size_t count) {
    return run_until(io, [&] { return server.messages.size() >= count; });
  }

  // Sets this test module's health and returns once the server has it.
  bool report_health(const std::string &status) {
    proto::AgentToServer fields;
    fields.mutable_health()->set_healthy(status == "ok");
    fields.mutable_health()->set_status(status);
    const uint32_t health_field = 5;
    const std::size_t before = server.messages.size();
    session->set_agent_fields("test.health", std::span(&health_field, 1),
                              fields.SerializeAsString());
    return run_until(io, [&] {
      for (std::size_t i = before; i < server.messages.size(); ++i) {
        if (server.messages[i].message.health().status() == status)
          return true;
      }
      return false;
    });
  }

  std::string uid_bytes() const {
    const auto uid = session->instance_uid();
    return std::string(uid.begin(), uid.end());
  }

  boost::asio::io_context io;
  TempDir dir;
  TestOpampServer server{io};
  std::unique_ptr<session::ClientSession> session;

  int connected_count = 0;
  std::vector<std::string> disconnect_reasons;
  std::vector<std::string> failure_reasons;
  std::vector<Clock::time_point> failure_times;
  std::vector<std::string> routed;
  std::vector<uint64_t> routed_capabilities;
  std::vector<session::InstanceUid> uid_changes;
};

inline std::string attribute(const google::protobuf::RepeatedPtrField<proto::KeyValue> &list,
                             const std::string &key) {
  for (const auto &item : list) {
    if (item.key() == key)
      return item.value().string_value();
  }
  return "<absent>";
}

inline std::chrono::milliseconds millis_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(to - from);
}

}  // namespace opsup::testing
