// Item 7 of issue 16: agents with huge descriptions. Summaries in GET /api/agents do not
// carry the large values (the response stays small), the agent view still has them whole,
// the list pages with limit/after, and agents keep getting answers while lists render.
#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include <atomic>
#include <iostream>
#include <thread>

#include "hostile_support.hpp"
#include "support/http.hpp"
#include "test_fixture.hpp"

namespace opsup::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kAgents = 12;
constexpr std::size_t kBlobBytes = 2 * 1024 * 1024;
constexpr std::size_t kSummaryStringBytes = 256;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

class OpampServerBigDescriptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (std::size_t i = 0; i < kAgents; ++i) {
      uids.push_back(random_instance_uid());
      auto message = first_message(uids.back(), "big-" + std::to_string(i));
      auto *blob = message.mutable_agent_description()->add_non_identifying_attributes();
      blob->set_key("blob");
      blob->mutable_value()->set_string_value(
          std::string(kBlobBytes, static_cast<char>('a' + i % 26)));
      auto answer = post_agent_message(server.http_url(), message);
      ASSERT_EQ(answer.status, 200) << answer.error;
    }
  }

  OpampServerProcess server;
  std::vector<std::string> uids;
};

TEST_F(OpampServerBigDescriptionTest, SummariesLeaveLargeValuesOut) {
  auto start = Clock::now();
  auto response = http_get(server.ui_url() + "/api/agents", 30s);
  const double list_ms = ms_since(start);
  ASSERT_EQ(response.status, 200) << response.error;
  EXPECT_LT(response.body.size(), kAgents * 4096) << "summaries carry the large descriptions";
  auto list = json::parse(response.body);
  EXPECT_EQ(at(list, {"count"}).to_number<std::size_t>(), kAgents);
  for (const auto &entry : at(list, {"agents"}).as_array()) {
    const auto &blob = at(entry, {"description", "non_identifying_attributes", "blob"});
    ASSERT_TRUE(blob.is_string());
    EXPECT_LE(blob.as_string().size(), kSummaryStringBytes + 3);
    EXPECT_EQ(string_at(entry, {"description", "identifying_attributes", "service.name"})
                  .rfind("big-", 0),
              0u);
  }
  // The agent view still has the whole value.
  auto view = server.agent(uid_to_uuid_string(uids.front()));
  EXPECT_EQ(string_at(view, {"description", "non_identifying_attributes", "blob"}).size(),
            kBlobBytes);
  std::cout << "[ measured ] GET /api/agents with " << kAgents << " agents of " << kBlobBytes / 1024
            << " KiB descriptions: " << list_ms << " ms, " << response.body.size() << " bytes\n";
}

TEST_F(OpampServerBigDescriptionTest, ListPagesWithLimitAndAfter) {
  std::vector<std::string> listed;
  std::string after;
  for (int page = 0; page < 10; ++page) {
    auto list = server.get_json("/api/agents?limit=5" + (after.empty() ? "" : "&after=" + after));
    ASSERT_TRUE(list.is_object());
    const auto &agents = at(list, {"agents"}).as_array();
    EXPECT_LE(agents.size(), 5u);
    for (const auto &entry : agents)
      listed.push_back(string_at(entry, {"instance_uid"}));
    after = string_at(list, {"next_after"});
    if (after.empty())
      break;
    EXPECT_EQ(after, listed.back());
  }
  EXPECT_EQ(listed.size(), kAgents);
  EXPECT_TRUE(std::is_sorted(listed.begin(), listed.end()));
}

TEST_F(OpampServerBigDescriptionTest, AgentsGetAnswersWhileListsRender) {
  std::atomic<bool> stop{false};
  std::atomic<int> renders{0};
  std::thread lister([&] {
    while (!stop && renders < 200) {
      auto response = http_get(server.ui_url() + "/api/agents", 30s);
      if (response.status == 200)
        ++renders;
    }
  });
  const std::string uid = random_instance_uid();
  auto message = first_message(uid, "busy");
  double worst_ms = 0;
  // Round trips go on until several whole lists were rendered meanwhile (bounded in count
  // and time).
  const auto deadline = Clock::now() + 60s;
  uint64_t round_trips = 0;
  while ((round_trips < 20 || renders < 5) && round_trips < 5000 && Clock::now() < deadline) {
    message.set_sequence_num(++round_trips);
    if (round_trips > 1)
      message.clear_agent_description();
    auto start = Clock::now();
    auto answer = post_agent_message(server.http_url(), message);
    worst_ms = std::max(worst_ms, ms_since(start));
    EXPECT_EQ(answer.status, 200) << answer.error;
    if (answer.status != 200)
      break;
  }
  stop = true;
  lister.join();
  EXPECT_GE(renders.load(), 5);
  std::cout << "[ measured ] worst agent round trip while /api/agents renders: " << worst_ms
            << " ms (" << renders.load() << " renders)\n";
}

}  // namespace
}  // namespace opsup::testing
