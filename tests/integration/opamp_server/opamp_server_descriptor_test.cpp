// Item 8 of issue 16: descriptors. Under a low descriptor limit, idle TCP connections that
// never send a request cannot lock agents or the API out, and the server closes such
// connections after --handshake-timeout-ms while established agents stay connected.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <filesystem>

#include "hostile_support.hpp"
#include "support/http.hpp"
#include "test_fixture.hpp"

namespace opsup::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

constexpr std::size_t kServerDescriptors = 256;
constexpr std::size_t kIdleConnections = 300;

void raise_own_descriptor_limit(std::size_t wanted) {
  rlimit limit{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_cur < wanted && limit.rlim_max >= wanted) {
    limit.rlim_cur = wanted;
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &limit), 0);
  }
  ASSERT_GE(limit.rlim_cur, wanted) << "the hard RLIMIT_NOFILE is too low for this test";
}

TEST(OpampServerDescriptorTest, IdleConnectionsDoNotLockAgentsAndTheApiOut) {
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/prlimit")) << "prlimit (util-linux) is missing";
  ASSERT_NO_FATAL_FAILURE(raise_own_descriptor_limit(kIdleConnections + 256));
  // A long handshake timeout: what lets agents in here is the descriptor reserve.
  OpampServerProcess server(
      {"--handshake-timeout-ms", "120000"},
      {"/usr/bin/prlimit",
       "--nofile=" + std::to_string(kServerDescriptors) + ":" + std::to_string(kServerDescriptors),
       "--"});
  const uint16_t opamp_port = port_of(server.http_url());
  std::vector<RawConnection> idle;
  for (std::size_t i = 0; i < kIdleConnections; ++i) {
    idle.emplace_back(opamp_port);
    ASSERT_TRUE(idle.back().connected()) << "connection " << i;
  }

  const std::string uid = random_instance_uid();
  AgentRoundTrip answer;
  EXPECT_TRUE(eventually(
      [&] {
        answer = post_agent_message(server.http_url(), first_message(uid, "gets-through"), 20s);
        return answer.status == 200;
      },
      60s, 200ms))
      << "a new agent got no answer: " << answer.error;
  // The agent's connection queued behind the idle ones, so they have all been accepted by
  // now: the OpAMP listener kept its reserve (default 64) free, and the API answers at once.
  const std::size_t open_descriptors =
      std::distance(std::filesystem::directory_iterator(
                        "/proc/" + std::to_string(server.process().pid()) + "/fd"),
                    std::filesystem::directory_iterator());
  EXPECT_LE(open_descriptors, kServerDescriptors - 64 + 8);
  auto api = http_get(server.ui_url() + "/api/server", 20s);
  EXPECT_EQ(api.status, 200) << "the API is unreachable: " << api.error;
  EXPECT_EQ(string_at(server.agent(uid_to_uuid_string(uid)),
                      {"description", "identifying_attributes", "service.name"}),
            "gets-through");
  EXPECT_TRUE(server.process().running());
}

TEST(OpampServerDescriptorTest, ConnectionsWithoutARequestAreClosedAfterTheHandshakeTimeout) {
  OpampServerProcess server({"--handshake-timeout-ms", "300"});
  IoThread io;
  TestAgentOptions options;
  options.endpoint = server.websocket_url();
  TestAgent established(io.io(), options);
  established.start();
  wait_for_agent(server, established.instance_uid_string(), [](const json::value &view) {
    return at(view, {"connection", "connected"}) == true;
  });

  const uint16_t opamp_port = port_of(server.http_url());
  RawConnection silent(opamp_port);
  RawConnection half_header(opamp_port);
  ASSERT_TRUE(silent.connected() && half_header.connected());
  ASSERT_TRUE(half_header.send_all("POST /v1/opamp HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
  EXPECT_TRUE(silent.read_until_closed(30s).has_value()) << "the silent connection stays open";
  EXPECT_TRUE(half_header.read_until_closed(30s).has_value())
      << "the connection with half a header stays open";

  // The established agent has been connected longer than the handshake timeout by now.
  EXPECT_TRUE(established.observations().connected);
  EXPECT_EQ(at(server.agent(established.instance_uid_string()), {"connection", "connected"}),
            json::value(true));
  EXPECT_EQ(established.observations().disconnects, 0);
  established.stop();
}

}  // namespace
}  // namespace opsup::testing
