// The server.auth extensions end to end, against an in-process OpAMP server that records each
// connect's headers, with the real Collector: bearer token, basic auth, and an OAuth2
// client-credentials token from a token endpoint (tools/oauth2_token_server.py) that is
// renewed before it expires and used on the next connect. Named after the upstream scenarios.
#include <gtest/gtest.h>

#include <csignal>
#include <memory>
#include <string>

#include "supervisor_fixture.hpp"
#include "support/collector.hpp"
#include "support/opamp_test_server.hpp"

namespace opsup::testing {
namespace {

using namespace std::chrono_literals;
constexpr auto kDeadline = 60s;

class AuthExtensionsE2e : public ::testing::Test {
 protected:
  TempDir dir_;
  TempDir modules_;
  std::unique_ptr<OpampTestServer> server_ = std::make_unique<OpampTestServer>();

  SupervisorRun run_with(const std::string &auth, const std::string &extensions_yaml) {
    SupervisorRun run{.endpoint = server_->ws_url(),
                      .storage = dir_.path() / "storage",
                      .modules_dir = modules_.path()};
    run.server_yaml = "  auth: " + auth + "\n";
    run.extra_yaml = "extensions:\n" + extensions_yaml;
    run.extra_args = {"--feature-gates", "opampsupervisor.Extensions"};
    run.collector = collector_executable(CollectorKind::kReal);
    return run;
  }

  // Waits until a connect carried `Authorization: <value>`.
  bool connected_with(const std::string &value) {
    return eventually(
        [&] {
          for (const auto &header : server_->request_headers("Authorization")) {
            if (header == value)
              return true;
          }
          return false;
        },
        kDeadline);
  }
};

// Upstream refuses `extensions` unless the opampsupervisor.Extensions gate is on, naming it;
// with the gate the supervisor connects.
TEST_F(AuthExtensionsE2e, SupervisorExtensionsFeatureGateRequired) {
  SupervisorRun run = run_with("bearertokenauth", "  bearertokenauth:\n    token: gated\n");
  run.extra_args.clear();
  auto refused = start_supervisor(run, dir_.path());
  EXPECT_EQ(refused->wait_exit(kDeadline), 1) << refused->output();
  refused->wait_output_closed(10s);
  EXPECT_EQ(refused->count_lines("opampsupervisor.Extensions"), 1u) << refused->output();
  EXPECT_EQ(server_->connections_opened(), 0u);

  auto supervisor = start_supervisor(
      run_with("bearertokenauth", "  bearertokenauth:\n    token: gated\n"), dir_.path());
  EXPECT_TRUE(connected_with("Bearer gated")) << supervisor->output();
  supervisor->send_signal(SIGTERM);
  EXPECT_EQ(supervisor->wait_exit(kDeadline), 0) << supervisor->output();
}

TEST_F(AuthExtensionsE2e, SupervisorAuthExtensionsBearerToken) {
  auto supervisor = start_supervisor(
      run_with("bearertokenauth/main", "  bearertokenauth/main:\n    token: e2e-token\n"),
      dir_.path());
  EXPECT_TRUE(connected_with("Bearer e2e-token")) << supervisor->output();
  supervisor->send_signal(SIGTERM);
  EXPECT_EQ(supervisor->wait_exit(kDeadline), 0) << supervisor->output();
}

TEST_F(AuthExtensionsE2e, SupervisorAuthExtensionsBasicAuth) {
  auto supervisor =
      start_supervisor(run_with("basicauth",
                                "  basicauth:\n    client_auth:\n      username: collector\n"
                                "      password: b4sic\n"),
                       dir_.path());
  // base64("collector:b4sic")
  EXPECT_TRUE(connected_with("Basic Y29sbGVjdG9yOmI0c2lj")) << supervisor->output();
  supervisor->send_signal(SIGTERM);
  EXPECT_EQ(supervisor->wait_exit(kDeadline), 0) << supervisor->output();
}

// The token endpoint's tokens live one second: the supervisor renews before expiry, and a
// reconnect (the server restarted on its port) carries a renewed token.
TEST_F(AuthExtensionsE2e, SupervisorAuthExtensionsOAuth2TokenRenewedForTheReconnect) {
  ChildProcess token_server({"/usr/bin/python3",
                             {OPSUP_OAUTH2_TOKEN_SERVER, "--client-id", "supervisor",
                              "--client-secret", "cl1ent-s3cret", "--expires-in", "1"},
                             {},
                             {}});
  const auto listening = token_server.wait_for_line("^listening on [0-9]+", kDeadline);
  ASSERT_TRUE(listening) << token_server.output();
  const std::string port = listening->substr(listening->rfind(' ') + 1);
  auto supervisor = start_supervisor(
      run_with("oauth2client",
               "  oauth2client:\n    client_id: supervisor\n    client_secret: cl1ent-s3cret\n"
               "    token_url: http://127.0.0.1:" +
                   port + "/oauth2/token\n"),
      dir_.path());
  ASSERT_TRUE(connected_with("Bearer token-1")) << supervisor->output() << token_server.output();

  // Renewed in the background before it expires; then the server goes away and comes back.
  ASSERT_TRUE(token_server.wait_for_line("^issued token-2$", kDeadline)) << supervisor->output();
  const uint16_t opamp_port = server_->port();
  server_.reset();
  OpampTestServerOptions same_port;
  same_port.port = opamp_port;
  // The old listener may take a moment to let the port go.
  ASSERT_TRUE(eventually(
      [&] {
        try {
          server_ = std::make_unique<OpampTestServer>(same_port);
          return true;
        } catch (const std::exception &) {
          return false;
        }
      },
      kDeadline));
  EXPECT_TRUE(eventually(
      [&] {
        const auto headers = server_->request_headers("Authorization");
        return !headers.empty() && headers.front() != "Bearer token-1" &&
               headers.front().starts_with("Bearer token-");
      },
      kDeadline))
      << supervisor->output();
  supervisor->send_signal(SIGTERM);
  EXPECT_EQ(supervisor->wait_exit(kDeadline), 0) << supervisor->output();
}

}  // namespace
}  // namespace opsup::testing
