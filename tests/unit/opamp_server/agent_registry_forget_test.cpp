// AgentRegistry::forget_disconnected: disconnected agents go after the forget time, the
// longest disconnected go first beyond the cap, connected agents stay, and creating agents
// sweeps once the list has grown enough.
#include <gtest/gtest.h>

#include "agent_registry.hpp"
#include "encoding.hpp"
#include "transport/server_transport.hpp"

namespace opsup::opamp_server {
namespace {

using namespace std::chrono_literals;

class FakeWebSocket final : public transport::ServerConnection {
 public:
  explicit FakeWebSocket(uint64_t id) : id_(id) { request_.peer = "127.0.0.1:1"; }
  uint64_t id() const override { return id_; }
  const transport::RequestInfo &request() const override { return request_; }
  bool is_websocket() const override { return true; }
  void send(std::string) override {}
  void close(uint16_t, std::string) override {}

 private:
  uint64_t id_;
  transport::RequestInfo request_;
};

std::string uid(int n) {
  std::string bytes(16, '\0');
  bytes[15] = static_cast<char>(n);
  bytes[14] = static_cast<char>(n >> 8);
  return bytes;
}

std::string uid_key(int n) {
  return uid_to_string(uid(n));
}

// An agent that reported once at `seen` and said goodbye at `gone`.
AgentRecord &departed(AgentRegistry &registry, int n, SystemTime seen, SystemTime gone) {
  bool created = false;
  AgentRecord &agent = registry.find_or_create(uid(n), created);
  proto::AgentToServer message;
  message.set_sequence_num(1);
  agent.reported.apply(message, seen);
  agent.connection.disconnect_seen = true;
  agent.connection.disconnected_at = gone;
  return agent;
}

const SystemTime kStart = SystemTime(std::chrono::hours(24 * 365 * 50));

TEST(AgentRegistryForgetTest, ForgetsAgentsDisconnectedLongerThanTheForgetTime) {
  AgentRegistry registry(RegistryOptions{200, 30s, 60s, 100});
  departed(registry, 1, kStart, kStart);
  departed(registry, 2, kStart, kStart + 50s);
  EXPECT_EQ(registry.forget_disconnected(kStart + 59s), 0u);
  EXPECT_EQ(registry.forget_disconnected(kStart + 60s), 1u);
  EXPECT_EQ(registry.find(uid_key(1)), nullptr);
  EXPECT_NE(registry.find(uid_key(2)), nullptr);
}

TEST(AgentRegistryForgetTest, BeyondTheCapTheLongestDisconnectedGoFirst) {
  AgentRegistry registry(RegistryOptions{200, 30s, 3600s, 2});
  for (int n = 1; n <= 5; ++n)
    departed(registry, n, kStart, kStart + std::chrono::seconds(n));
  EXPECT_EQ(registry.forget_disconnected(kStart + 10s), 3u);
  ASSERT_EQ(registry.agents().size(), 2u);
  EXPECT_NE(registry.find(uid_key(4)), nullptr);
  EXPECT_NE(registry.find(uid_key(5)), nullptr);
}

TEST(AgentRegistryForgetTest, NeverForgetsConnectedAgents) {
  AgentRegistry registry(RegistryOptions{200, 30s, 1s, 0});
  bool created = false;
  AgentRecord &agent = registry.find_or_create(uid(1), created);
  auto connection = std::make_shared<FakeWebSocket>(7);
  registry.attach(agent, connection);
  proto::AgentToServer message;
  message.set_sequence_num(1);
  agent.reported.apply(message, kStart);
  departed(registry, 2, kStart, kStart);
  EXPECT_EQ(registry.forget_disconnected(kStart + 3600s), 1u);
  EXPECT_NE(registry.find(uid_key(1)), nullptr);
  EXPECT_EQ(registry.find_by_connection(7), registry.find(uid_key(1)));

  // Once its WebSocket closed, it goes like any other.
  registry.detach(7);
  registry.find(uid_key(1))->connection.disconnected_at = kStart;
  EXPECT_EQ(registry.forget_disconnected(kStart + 3600s), 1u);
  EXPECT_TRUE(registry.agents().empty());
}

TEST(AgentRegistryForgetTest, CreatingAgentsSweepsOnceTheListHasGrown) {
  AgentRegistry registry(RegistryOptions{200, 30s, 3600s, 10});
  const SystemTime long_ago = std::chrono::system_clock::now() - 60s;
  for (int n = 1; n <= 1000; ++n) {
    AgentRecord &agent = departed(registry, n, long_ago, long_ago + std::chrono::milliseconds(n));
    EXPECT_EQ(agent.uid_key, uid_key(n));  // the new record itself is never swept
  }
  // Sweeps keep the 10 newest each time the list reaches twice its size after the last
  // sweep and at least 256 more: never beyond 10 + 256.
  EXPECT_LE(registry.agents().size(), 10u + 256u);
  EXPECT_NE(registry.find(uid_key(1000)), nullptr);
  EXPECT_EQ(registry.find(uid_key(1)), nullptr);
}

}  // namespace
}  // namespace opsup::opamp_server
