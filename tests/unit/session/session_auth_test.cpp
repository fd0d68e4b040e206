// Authentication of the OpAMP connection: bearer token (static and rotated file), HTTP
// Basic, and OAuth2 client credentials against a token endpoint served in-process.
#include <gtest/gtest.h>

#include <map>

#include "session/oauth2_token.hpp"
#include "session_fixture.hpp"
#include "transport/http_server.hpp"

namespace opsup::testing {
namespace {

using std::chrono::milliseconds;

// Admits only requests whose Authorization header is in `accepted`.
void require_authorization(TestOpampServer &server, const std::vector<std::string> &accepted,
                           std::vector<std::string> &seen) {
  server.admit_policy =
      [&accepted,
       &seen](const transport::RequestInfo &request) -> std::optional<transport::Rejection> {
    const std::string value = request.header("Authorization").value_or("<none>");
    seen.push_back(value);
    if (std::find(accepted.begin(), accepted.end(), value) != accepted.end())
      return std::nullopt;
    transport::Rejection rejection;
    rejection.http_status = 401;
    return rejection;
  };
}

TEST_F(SessionTest, BearerTokenIsSentOnTheUpgradeRequest) {
  std::vector<std::string> accepted{"Bearer s3cret"};
  std::vector<std::string> seen;
  require_authorization(server, accepted, seen);
  auto options = options_for(server.ws_url());
  session::BearerTokenAuth bearer;
  bearer.token = "s3cret";
  options.auth = bearer;
  start_session(options);
  ASSERT_TRUE(wait_for_messages(1));
  EXPECT_EQ(seen, std::vector<std::string>{"Bearer s3cret"});
}

TEST_F(SessionTest, BearerTokenFileIsReadAgainOnEveryConnect) {
  const auto token_file = dir.path() / "token";
  write_text(token_file, "first\n");
  std::vector<std::string> accepted{"Bearer first", "Bearer second"};
  std::vector<std::string> seen;
  require_authorization(server, accepted, seen);
  auto options = options_for(server.http_url());
  session::BearerTokenAuth bearer;
  bearer.token_file = token_file;
  options.auth = bearer;
  start_session(options);
  ASSERT_TRUE(wait_for_messages(1));
  EXPECT_EQ(seen.front(), "Bearer first");

  write_text(token_file, "second\n");
  // Refuse the next poll so the session reconnects (and reads the file again).
  accepted = {"Bearer second"};
  ASSERT_TRUE(report_health("ok"));
  EXPECT_EQ(seen.back(), "Bearer second");
  EXPECT_FALSE(disconnect_reasons.empty());
}

TEST_F(SessionTest, MissingBearerTokenFileFailsTheAttemptAndIsRetried) {
  const auto token_file = dir.path() / "late-token";
  std::vector<std::string> accepted{"Bearer late"};
  std::vector<std::string> seen;
  require_authorization(server, accepted, seen);
  auto options = options_for(server.ws_url());
  session::BearerTokenAuth bearer;
  bearer.token_file = token_file;
  options.auth = bearer;
  start_session(options);
  ASSERT_TRUE(run_until(io, [&] { return !failure_reasons.empty(); }));
  EXPECT_NE(failure_reasons[0].find(token_file.string()), std::string::npos) << failure_reasons[0];
  write_text(token_file, "late");
  ASSERT_TRUE(wait_for_messages(1));
}

TEST_F(SessionTest, BasicAuthIsSentAndWrongCredentialsAreRetriedWithoutLeakingThem) {
  std::vector<std::string> accepted{"Basic " + session::base64_encode("agent:pa55")};
  std::vector<std::string> seen;
  require_authorization(server, accepted, seen);
  auto options = options_for(server.ws_url());
  options.auth = session::BasicAuth{"agent", "wrong-password"};
  start_session(options);
  ASSERT_TRUE(run_until(io, [&] { return failure_reasons.size() >= 2; }));
  for (const std::string &reason : failure_reasons) {
    EXPECT_EQ(reason.find("wrong-password"), std::string::npos);
    EXPECT_EQ(reason.find(session::base64_encode("agent:wrong-password")), std::string::npos);
  }
  stop_session();

  options.auth = session::BasicAuth{"agent", "pa55"};
  const std::size_t before = server.messages.size();
  start_session(options);
  ASSERT_TRUE(wait_for_messages(before + 1));
  EXPECT_EQ(seen.back(), accepted[0]);
}

// A token endpoint: client credentials in the form body; each token lives
// `token_lifetime_seconds`.
class TokenEndpoint {
 public:
  explicit TokenEndpoint(boost::asio::io_context &io) {
    server_ = transport::HttpServer::create(
        io, transport::HttpServerOptions{},
        [this](const transport::HttpServerRequest &request,
               std::function<void(transport::HttpServerResponse)> respond) {
          respond(handle(request));
        });
    server_->start();
  }
  ~TokenEndpoint() { server_->stop(); }

  std::string url() const { return server_->base_url() + "/oauth2/token"; }

  int failures_to_serve = 0;
  int token_lifetime_seconds = 1;
  std::vector<std::string> issued;  // Authorization values
  std::vector<std::string> bodies;

 private:
  transport::HttpServerResponse handle(const transport::HttpServerRequest &request) {
    bodies.push_back(request.body);
    if (request.method != "POST" || request.path != "/oauth2/token" ||
        request.header("Content-Type") != "application/x-www-form-urlencoded" ||
        request.body.find("grant_type=client_credentials") == std::string::npos ||
        request.body.find("client_id=agent") == std::string::npos ||
        request.body.find("client_secret=s3cret") == std::string::npos) {
      return transport::HttpServerResponse::text(400, R"({"error":"invalid_request"})",
                                                 "application/json");
    }
    if (failures_to_serve > 0) {
      --failures_to_serve;
      return transport::HttpServerResponse::text(401, R"({"error":"invalid_client"})",
                                                 "application/json");
    }
    const std::string token = "token-" + std::to_string(issued.size() + 1);
    issued.push_back("Bearer " + token);
    return transport::HttpServerResponse::text(200,
                                               R"({"access_token":")" + token +
                                                   R"(","token_type":"bearer","expires_in":)" +
                                                   std::to_string(token_lifetime_seconds) + "}",
                                               "application/json");
  }

  std::unique_ptr<transport::HttpServer> server_;
};

session::OAuth2ClientCredentialsAuth oauth2_settings(const TokenEndpoint &endpoint) {
  session::OAuth2ClientCredentialsAuth oauth2;
  oauth2.client_id = "agent";
  oauth2.client_secret = "s3cret";
  oauth2.token_url = endpoint.url();
  oauth2.scopes = {"opamp"};
  return oauth2;
}

TEST_F(SessionTest, OAuth2TokenIsFetchedBeforeConnectingAndRenewedAfterExpiry) {
  TokenEndpoint endpoint(io);
  std::vector<std::string> seen;
  require_authorization(server, endpoint.issued, seen);
  auto options = options_for(server.ws_url());
  options.auth = oauth2_settings(endpoint);
  // Reconnect after the 1 s token has expired.
  options.reconnect_initial_interval = milliseconds(1500);
  options.reconnect_jitter = 0.0;
  start_session(options);
  ASSERT_TRUE(wait_for_messages(1));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], endpoint.issued.at(0));
  EXPECT_NE(endpoint.bodies[0].find("scope=opamp"), std::string::npos);

  server.last_connection->close();
  ASSERT_TRUE(run_until(io, [&] { return connected_count == 2; }));
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_NE(seen[1], seen[0]) << "a fresh token after expiry";
  EXPECT_EQ(seen[1], endpoint.issued.back());
  EXPECT_GE(endpoint.issued.size(), 2u);
}

TEST_F(SessionTest, OAuth2TokenIsRenewedBeforeItExpiresWithoutReconnecting) {
  TokenEndpoint endpoint(io);
  endpoint.token_lifetime_seconds = 2;  // renewed at half its lifetime
  std::vector<std::string> seen;
  require_authorization(server, endpoint.issued, seen);
  auto options = options_for(server.ws_url());
  options.auth = oauth2_settings(endpoint);
  start_session(options);
  ASSERT_TRUE(wait_for_messages(1));
  ASSERT_EQ(endpoint.issued.size(), 1u);
  ASSERT_TRUE(run_until(io, [&] { return endpoint.issued.size() >= 2; }))
      << "a token is fetched in the background while the connection is up";
  EXPECT_EQ(connected_count, 1);
  EXPECT_TRUE(disconnect_reasons.empty());

  // The next connection presents a renewed token, not the first one.
  server.last_connection->close();
  ASSERT_TRUE(run_until(io, [&] { return connected_count == 2; }));
  EXPECT_NE(seen.back(), seen.front());
}

TEST_F(SessionTest, OAuth2TokenRefusedByTheServerIsReplacedBeforeItExpires) {
  TokenEndpoint endpoint(io);
  endpoint.token_lifetime_seconds = 3600;
  std::vector<std::string> accepted{"Bearer token-1"};
  std::vector<std::string> seen;
  require_authorization(server, accepted, seen);
  auto options = options_for(server.ws_url());
  options.auth = oauth2_settings(endpoint);
  start_session(options);
  ASSERT_TRUE(wait_for_messages(1));

  // The server revokes token-1 and drops the connection.
  accepted = {"Bearer token-2"};
  server.last_connection->close();
  ASSERT_TRUE(run_until(io, [&] { return connected_count == 2; }))
      << "after a 401 the session fetches a new token instead of resending the revoked one";
  EXPECT_EQ(endpoint.issued.size(), 2u);
  EXPECT_EQ(seen.back(), "Bearer token-2");
  EXPECT_EQ(std::count(seen.begin(), seen.end(), "Bearer token-1"), 2)
      << "token-1 was tried once more, then dropped";
}

TEST_F(SessionTest, OAuth2TokenFailureFailsTheAttemptWithBackoff) {
  TokenEndpoint endpoint(io);
  endpoint.failures_to_serve = 2;
  std::vector<std::string> seen;
  require_authorization(server, endpoint.issued, seen);
  auto options = options_for(server.ws_url());
  options.auth = oauth2_settings(endpoint);
  start_session(options);
  ASSERT_TRUE(wait_for_messages(1));
  ASSERT_EQ(failure_reasons.size(), 2u);
  EXPECT_NE(failure_reasons[0].find(endpoint.url()), std::string::npos) << failure_reasons[0];
  EXPECT_NE(failure_reasons[0].find("invalid_client"), std::string::npos);
  EXPECT_EQ(failure_reasons[0].find("s3cret"), std::string::npos);
  EXPECT_EQ(seen.size(), 1u) << "no OpAMP request without a token";
}

}  // namespace
}  // namespace opsup::testing
