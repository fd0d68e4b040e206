// The supervisor's healthcheck endpoint with the real Collector: /health keeps upstream's
// meaning (200 while the supervisor runs), /health/ready follows the server link and the
// Collector as they go down and come back.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <csignal>

#include "e2e_support.hpp"
#include "supervisor_fixture.hpp"
#include "support/collector.hpp"
#include "support/http.hpp"
#include "support/ports.hpp"

namespace opsup::testing {
namespace {

using namespace std::chrono_literals;
constexpr auto kDeadline = 60s;

class HealthEndpoint : public ::testing::Test {
 protected:
  TempDir dir_;
  TempDir modules_;
  uint16_t health_port_ = free_tcp_port();
  std::unique_ptr<ChildProcess> supervisor_;

  void start(const std::string &endpoint) {
    supervisor_ = start_supervisor(
        {.endpoint = endpoint,
         .storage = dir_.path() / "storage",
         .modules_dir = modules_.path(),
         .extra_yaml = "healthcheck:\n  endpoint: 127.0.0.1:" + std::to_string(health_port_) + "\n",
         .collector = collector_executable(CollectorKind::kReal),
         .agent_yaml = "  config_files:\n    - " +
                       dir_.write_file("collector.yaml", pipeline_yaml(free_tcp_port())).string() +
                       "\n"},
        dir_.path());
  }

  SimpleHttpResponse get(const std::string &path) {
    return http_get("http://127.0.0.1:" + std::to_string(health_port_) + path, 5s);
  }
  bool ready_is(int status) {
    return eventually([&] { return get("/health/ready").status == status; }, kDeadline);
  }
  boost::json::value body(const std::string &path) { return boost::json::parse(get(path).body); }
};

TEST_F(HealthEndpoint, SupervisorHealthCheckServer) {
  OpampServerProcess server;
  start(server.websocket_url());
  EXPECT_TRUE(eventually([&] { return get("/health").status == 200; }, kDeadline))
      << supervisor_->output();
  EXPECT_TRUE(ready_is(200)) << get("/health/ready").body << supervisor_->output();
  const auto health = body("/health/ready");
  EXPECT_EQ(at(health, {"server", "connected"}), boost::json::value(true));
  EXPECT_EQ(string_at(health, {"collector", "health"}), "healthy");
  EXPECT_EQ(get("/health/live").status, 200);
  EXPECT_EQ(get("/nope").status, 404);
  supervisor_->send_signal(SIGTERM);
  EXPECT_EQ(supervisor_->wait_exit(kDeadline), 0);
}

TEST_F(HealthEndpoint, SupervisorHealthCheckServerBackendConnError) {
  start("ws://127.0.0.1:1/v1/opamp");
  EXPECT_TRUE(eventually([&] { return get("/health").status == 200; }, kDeadline))
      << supervisor_->output();
  EXPECT_TRUE(eventually(
      [&] {
        return !string_at(body("/health/ready"), {"server", "last_error"}).empty();
      },
      kDeadline));
  const auto response = get("/health/ready");
  EXPECT_EQ(response.status, 503) << response.body;
  EXPECT_EQ(at(boost::json::parse(response.body), {"server", "connected"}),
            boost::json::value(false));
  supervisor_->send_signal(SIGTERM);
  EXPECT_EQ(supervisor_->wait_exit(kDeadline), 0);
}

TEST_F(HealthEndpoint, ReadinessFollowsTheServerAndTheCollector) {
  const uint16_t opamp_port = free_tcp_port();
  const std::vector<std::string> listen{"--opamp-listen",
                                        "127.0.0.1:" + std::to_string(opamp_port)};
  auto server = std::make_unique<OpampServerProcess>(listen);
  start(server->websocket_url());
  ASSERT_TRUE(ready_is(200)) << get("/health/ready").body << supervisor_->output();

  server.reset();  // the server goes away
  EXPECT_TRUE(ready_is(503)) << get("/health/ready").body;
  EXPECT_EQ(get("/health").status, 200);
  server = std::make_unique<OpampServerProcess>(listen);  // and comes back
  EXPECT_TRUE(ready_is(200)) << get("/health/ready").body;

  // The Collector crashes: not ready until it runs healthy again.
  const pid_t pid = at(body("/health"), {"collector", "pid"}).to_number<pid_t>();
  ASSERT_GT(pid, 0);
  ::kill(pid, SIGKILL);
  EXPECT_TRUE(ready_is(503)) << get("/health/ready").body;
  EXPECT_TRUE(ready_is(200)) << get("/health/ready").body;
  EXPECT_GE(at(body("/health"), {"collector", "restarts"}).to_number<int>(), 1);
  EXPECT_NE(at(body("/health"), {"collector", "pid"}).to_number<pid_t>(), pid);
  supervisor_->send_signal(SIGTERM);
  EXPECT_EQ(supervisor_->wait_exit(kDeadline), 0);
}

}  // namespace
}  // namespace opsup::testing
