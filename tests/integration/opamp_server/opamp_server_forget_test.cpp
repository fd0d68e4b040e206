// Item 6 of issue 16: the agent list shrinks. Disconnected agents are forgotten after
// --forget-disconnected-after-seconds, and beyond --max-disconnected-agents the longest
// disconnected go first, so agent churn leaves a bounded registry.
#include <gtest/gtest.h>

#include <iostream>

#include "hostile_support.hpp"
#include "test_fixture.hpp"

namespace opsup::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

// One plain-HTTP agent that reports and says goodbye in a single message.
void come_and_go(const OpampServerProcess &server, const std::string &uid,
                 const std::string &name) {
  auto message = first_message(uid, name);
  message.mutable_agent_disconnect();
  auto answer = post_agent_message(server.http_url(), message);
  ASSERT_EQ(answer.status, 200) << answer.error;
}

TEST(OpampServerForgetTest, ForgetsDisconnectedAgentsAfterTheConfiguredTime) {
  OpampServerProcess server({"--forget-disconnected-after-seconds", "1"});
  IoThread io;
  TestAgentOptions options;
  options.endpoint = server.websocket_url();
  options.service_name = "stays";
  TestAgent staying(io.io(), options);
  staying.start();
  wait_for_agent(server, staying.instance_uid_string(), [](const json::value &view) {
    return at(view, {"connection", "connected"}) == true;
  });

  const std::string leaving = random_instance_uid();
  ASSERT_NO_FATAL_FAILURE(come_and_go(server, leaving, "leaves"));
  ASSERT_FALSE(server.agent(uid_to_uuid_string(leaving)).is_null());

  EXPECT_TRUE(
      eventually([&] { return server.agent(uid_to_uuid_string(leaving)).is_null(); }, 30s, 100ms))
      << "the disconnected agent is still listed";
  auto kept = server.agent(staying.instance_uid_string());
  EXPECT_EQ(at(kept, {"connection", "connected"}), json::value(true));
  staying.stop();
}

TEST(OpampServerForgetTest, ChurnKeepsAtMostTheNewestDisconnectedAgents) {
  constexpr std::size_t kMaxDisconnected = 20;
  constexpr std::size_t kChurnedAgents = 1000;
  // Lazy sweeps run when the registry has doubled since the last one (at least 256 more).
  constexpr std::size_t kBound = kMaxDisconnected + 2 * 256;
  OpampServerProcess server({"--max-disconnected-agents", std::to_string(kMaxDisconnected)});
  const uint64_t rss_before = proc_status_kib(server.process().pid(), "VmRSS");

  std::vector<std::string> uids;
  for (std::size_t i = 0; i < kChurnedAgents; ++i) {
    uids.push_back(random_instance_uid());
    ASSERT_NO_FATAL_FAILURE(come_and_go(server, uids.back(), "churn-" + std::to_string(i)));
  }

  auto list = server.get_json("/api/agents");
  ASSERT_TRUE(list.is_object());
  const auto count = at(list, {"count"}).to_number<std::size_t>();
  EXPECT_LE(count, kBound);
  EXPECT_EQ(at(list, {"connected_count"}).to_number<std::size_t>(), 0u);
  // Oldest disconnected first: the newest agent is kept, the first ones are gone.
  EXPECT_FALSE(server.agent(uid_to_uuid_string(uids.back())).is_null());
  for (std::size_t i = 0; i < 10; ++i)
    EXPECT_TRUE(server.agent(uid_to_uuid_string(uids[i])).is_null()) << "agent " << i;
  std::cout << "[ measured ] " << kChurnedAgents << " churned agents: " << count << " kept, VmRSS "
            << rss_before << " -> " << proc_status_kib(server.process().pid(), "VmRSS") << " KiB\n";
}

}  // namespace
}  // namespace opsup::testing
