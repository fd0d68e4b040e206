// Hundreds of concurrent agents: 500 WebSocket agents connect at once and every one of
// them is listed, connected and described in the JSON API.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>
#include <set>

#include "test_fixture.hpp"

namespace opsup::testing {
namespace {

namespace json = boost::json;
constexpr std::size_t kAgents = 500;

// Both this process (500 client sockets) and the server it starts (500 more, inherited
// limit) need more descriptors than the common default of 1024.
void raise_open_file_limit() {
  rlimit limit{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  rlim_t wanted = std::min<rlim_t>(limit.rlim_max, 8192);
  if (limit.rlim_cur < wanted) {
    limit.rlim_cur = wanted;
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &limit), 0);
  }
  ASSERT_GE(limit.rlim_cur, 2 * kAgents + 100) << "the hard RLIMIT_NOFILE is too low";
}

TEST(OpampServerScaleTest, FiveHundredConcurrentWebSocketAgents) {
  ASSERT_NO_FATAL_FAILURE(raise_open_file_limit());
  OpampServerProcess server;
  IoThread io;
  std::vector<std::unique_ptr<TestAgent>> agents;
  agents.reserve(kAgents);
  for (std::size_t i = 0; i < kAgents; ++i) {
    TestAgentOptions options;
    options.endpoint = server.websocket_url();
    options.service_name = "scale-agent-" + std::to_string(i);
    agents.push_back(std::make_unique<TestAgent>(io.io(), options));
  }
  for (auto &agent : agents)
    agent->start();

  json::value list;
  bool all_there = eventually(
      [&] {
        list = server.get_json("/api/agents");
        return list.is_object() && at(list, {"count"}).to_number<std::size_t>() == kAgents &&
               at(list, {"connected_count"}).to_number<std::size_t>() == kAgents;
      },
      std::chrono::seconds(90), std::chrono::milliseconds(250));
  ASSERT_TRUE(all_there) << "count " << json_text(at(list, {"count"})) << ", connected "
                         << json_text(at(list, {"connected_count"}));

  std::set<std::string> listed;
  for (const auto &entry : at(list, {"agents"}).as_array()) {
    EXPECT_EQ(at(entry, {"connection", "connected"}), json::value(true));
    EXPECT_EQ(string_at(entry, {"connection", "transport"}), "ws");
    listed.insert(string_at(entry, {"instance_uid"}));
  }
  for (const auto &agent : agents)
    EXPECT_EQ(listed.count(agent->instance_uid_string()), 1u);
  auto sample = server.agent(agents[kAgents / 2]->instance_uid_string());
  EXPECT_EQ(string_at(sample, {"description", "identifying_attributes", "service.name"}),
            "scale-agent-" + std::to_string(kAgents / 2));

  // The server still acts on one agent among many.
  const auto &target = *agents[7];
  auto answer = server.post_json("/api/agents/" + target.instance_uid_string() + "/config",
                                 R"({"config":"receivers: {}\n"})");
  ASSERT_EQ(answer.status, 200);
  auto view = wait_for_agent(server, target.instance_uid_string(), [](const json::value &v) {
    return string_at(v, {"remote_config_status", "status"}) == "APPLIED";
  });
  EXPECT_EQ(string_at(view, {"remote_config_status", "last_remote_config_hash"}),
            string_at(answer.body, {"hash"}));
  agents.clear();
}

}  // namespace
}  // namespace opsup::testing
