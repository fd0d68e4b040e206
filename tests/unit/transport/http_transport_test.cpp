// Plain-HTTP OpAMP client and server: POST round trips, keep-alive, gzip both ways,
// refusals with Retry-After, shutdown.
#include <gtest/gtest.h>

#include "test_util.hpp"
#include "transport/http_client.hpp"
#include "transport/http_server.hpp"
#include "transport/internal/gzip.hpp"

namespace opsup::transport::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

struct HttpTransportFixture : ::testing::Test {
  void start_server(ServerOptions options = {}) {
    server = ServerTransport::create(io, std::move(options), server_handler);
    server->start();
  }
  std::unique_ptr<ClientTransport> make_client(ClientOptions options = {}) {
    if (options.endpoint.empty())
      options.endpoint = server->http_url();
    return ClientTransport::create(io, std::move(options), client_handler);
  }
  HttpResponse request(HttpRequest request) {
    std::optional<HttpResponse> response;
    http_request(io, std::move(request),
                 {[&](HttpResponse r) { response = std::move(r); }, {}, {}, {}});
    EXPECT_TRUE(run_until(io, [&] { return response.has_value(); }));
    return response.value_or(HttpResponse{});
  }

  asio::io_context io;
  ServerRecorder server_handler;
  ClientRecorder client_handler;
  std::unique_ptr<ServerTransport> server;
};

TEST_F(HttpTransportFixture, RoundTripsOverOneKeptAliveConnection) {
  start_server();
  ClientOptions options;
  options.instance_uid_header = "01890a5d-ac96-774b-b9aa-9e4e8c3b4e2f";
  options.headers = {{"Authorization", "Bearer abc"}};
  auto client = make_client(options);
  EXPECT_TRUE(client->is_http());
  client_handler.outbox.push_back("first");
  client->connect();  // asks next_message() at once
  ASSERT_TRUE(run_until(io, [&] { return client_handler.received.size() == 1; }));
  EXPECT_EQ(client_handler.connected_count, 1);
  EXPECT_TRUE(client->is_connected());
  EXPECT_EQ(client_handler.received[0], "echo:first");

  for (int i = 0; i < 3; ++i)
    client_handler.send(*client, "msg-" + std::to_string(i));
  ASSERT_TRUE(run_until(io, [&] { return client_handler.received.size() == 4; }));
  EXPECT_EQ(client_handler.received[1], "echo:msg-0");
  EXPECT_EQ(client_handler.received[3], "echo:msg-2");
  EXPECT_EQ(client_handler.connected_count, 1);
  ASSERT_EQ(server_handler.connections.size(), 1u);  // one keep-alive stream
  EXPECT_FALSE(server_handler.connections[0]->is_websocket());
  for (const auto &message : server_handler.messages) {
    EXPECT_EQ(message.connection_id, server_handler.connections[0]->id());
  }
  const auto &request = server_handler.admitted.back();
  EXPECT_FALSE(request.websocket_upgrade);
  EXPECT_EQ(request.header("Content-Type"), "application/x-protobuf");
  EXPECT_EQ(request.header("OpAMP-Instance-UID"), options.instance_uid_header);
  EXPECT_EQ(request.header("authorization"), "Bearer abc");
  EXPECT_EQ(server_handler.admitted.size(), 4u);  // admit runs for every POST
}

TEST_F(HttpTransportFixture, NothingIsSentWhenThereIsNothingToSend) {
  start_server();
  auto client = make_client();
  client->connect();
  client_handler.send(*client, "later");
  ASSERT_TRUE(run_until(io, [&] { return client_handler.received.size() == 1; }));
  EXPECT_EQ(server_handler.messages.size(), 1u);
}

TEST_F(HttpTransportFixture, GzipRequestBodiesAreInflatedByTheServer) {
  start_server();
  ClientOptions options;
  options.gzip_http_requests = true;
  auto client = make_client(options);
  const std::string payload = make_payload(200000);
  client_handler.outbox.push_back(payload);
  client->connect();
  ASSERT_TRUE(run_until(io, [&] { return client_handler.received.size() == 1; }));
  ASSERT_EQ(server_handler.messages.size(), 1u);
  EXPECT_EQ(server_handler.messages[0].payload, payload);
  EXPECT_EQ(client_handler.received[0], "echo:" + payload);

  // The same through a hand-made gzip POST, to be sure the body really was compressed.
  HttpRequest post;
  post.method = "POST";
  post.url = server->http_url();
  post.headers = {{"Content-Type", "application/x-protobuf"}, {"Content-Encoding", "gzip"}};
  post.body = internal::gzip_compress("zipped");
  auto response = request(post);
  EXPECT_EQ(response.status, 200) << response.error;
  EXPECT_EQ(response.body, "echo:zipped");
  EXPECT_EQ(server_handler.messages.back().payload, "zipped");
}

TEST_F(HttpTransportFixture, ServerGzipsResponsesWhenAskedAndClientsInflateThem) {
  start_server();
  HttpRequest post;
  post.method = "POST";
  post.url = server->http_url();
  post.headers = {{"Accept-Encoding", "gzip"}};
  post.body = make_payload(50000);
  auto response = request(post);
  EXPECT_EQ(response.status, 200) << response.error;
  EXPECT_EQ(response.header("Content-Encoding"), "gzip");
  EXPECT_EQ(response.body, "echo:" + post.body);  // http_request inflates
}

TEST_F(HttpTransportFixture, OpampClientInflatesGzipResponses) {
  const std::string reply = make_payload(30000, 'k');
  HttpServerRequest seen;
  auto http_server =
      HttpServer::create(io, {}, [&](const HttpServerRequest &request, auto respond) {
        seen = request;
        HttpServerResponse response;
        response.headers = {{"Content-Type", "application/x-protobuf"},
                            {"Content-Encoding", "gzip"}};
        response.body = internal::gzip_compress(reply);
        respond(std::move(response));
      });
  http_server->start();
  ClientOptions options;
  options.endpoint = http_server->base_url() + "/v1/opamp";
  auto client = ClientTransport::create(io, options, client_handler);
  client_handler.outbox.push_back("hi");
  client->connect();
  ASSERT_TRUE(run_until(io, [&] { return client_handler.received.size() == 1; }));
  EXPECT_EQ(client_handler.received[0], reply);
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.path, "/v1/opamp");
  EXPECT_EQ(seen.header("Accept-Encoding"), "gzip");
}

TEST_F(HttpTransportFixture, RefusalsCarryStatusAndRetryAfter) {
  start_server();
  int status = 401;
  server_handler.admit_fn = [&](const RequestInfo &) -> std::optional<Rejection> {
    if (status == 0)
      return std::nullopt;
    Rejection rejection;
    rejection.http_status = status;
    if (status == 503 || status == 429)
      rejection.retry_after = std::chrono::seconds(7);
    return rejection;
  };
  auto client = make_client();
  client_handler.outbox.push_back("a");
  client->connect();
  ASSERT_TRUE(run_until(io, [&] { return client_handler.disconnects.size() == 1; }));
  EXPECT_EQ(client_handler.disconnects[0].http_status, 401);
  EXPECT_FALSE(client_handler.disconnects[0].retry_after.has_value());
  EXPECT_TRUE(contains(client_handler.disconnects[0].reason, "401"));
  EXPECT_FALSE(client->is_connected());

  status = 503;
  client_handler.outbox.push_back("b");
  client->connect();
  ASSERT_TRUE(run_until(io, [&] { return client_handler.disconnects.size() == 2; }));
  EXPECT_EQ(client_handler.disconnects[1].http_status, 503);
  EXPECT_EQ(client_handler.disconnects[1].retry_after, std::chrono::milliseconds(7000));

  status = 429;
  client_handler.outbox.push_back("c");
  client->connect();
  ASSERT_TRUE(run_until(io, [&] { return client_handler.disconnects.size() == 3; }));
  EXPECT_EQ(client_handler.disconnects[2].retry_after, std::chrono::milliseconds(7000));

  status = 0;
  client_handler.outbox.push_back("d");
  client->connect();
  ASSERT_TRUE(run_until(io, [&] { return client_handler.received.size() == 1; }));
  EXPECT_EQ(client_handler.connected_count, 1);
  EXPECT_TRUE(server_handler.connections.size() == 1);  // refused POSTs made no connection
}

TEST_F(HttpTransportFixture, RetryAfterAsHttpDate) {
  auto http_server = HttpServer::create(io, {}, [&](const HttpServerRequest &, auto respond) {
    const std::time_t in_two_minutes = std::time(nullptr) + 120;
    char date[64];
    std::tm parts{};
    gmtime_r(&in_two_minutes, &parts);
    std::strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &parts);
    auto response = HttpServerResponse::text(503, "busy");
    response.headers.push_back({"Retry-After", date});
    respond(std::move(response));
  });
  http_server->start();
  ClientOptions options;
  options.endpoint = http_server->base_url() + "/v1/opamp";
  auto client = ClientTransport::create(io, options, client_handler);
  client_handler.outbox.push_back("x");
  client->connect();
  ASSERT_TRUE(run_until(io, [&] { return client_handler.disconnects.size() == 1; }));
  ASSERT_TRUE(client_handler.disconnects[0].retry_after.has_value());
  EXPECT_GT(*client_handler.disconnects[0].retry_after, 100s);
  EXPECT_LE(*client_handler.disconnects[0].retry_after, 121s);
}

TEST_F(HttpTransportFixture, HandlerCloseAnswers400AndEndsTheStream) {
  start_server();
  server_handler.on_message_fn = [](const auto &connection, std::string_view message) {
    if (message == "bad")
      return connection->close(1002, "undecodable AgentToServer");
    connection->send("ok");
  };
  auto client = make_client();
  client_handler.outbox.push_back("good");
  client->connect();
  ASSERT_TRUE(run_until(io, [&] { return client_handler.received.size() == 1; }));
  client_handler.send(*client, "bad");
  ASSERT_TRUE(run_until(io, [&] { return client_handler.disconnects.size() == 1; }));
  EXPECT_EQ(client_handler.disconnects[0].http_status, 400);
  ASSERT_TRUE(run_until(io, [&] { return server_handler.closed.size() == 1; }));
  EXPECT_TRUE(contains(server_handler.closed[0].reason, "127.0.0.1:"));
}

TEST_F(HttpTransportFixture, ServerClosingAnIdleKeepAliveIsInvisibleToTheClient) {
  ServerOptions options;
  options.idle_http_timeout = 200ms;
  start_server(options);
  auto client = make_client();
  client_handler.outbox.push_back("one");
  client->connect();
  ASSERT_TRUE(run_until(io, [&] { return client_handler.received.size() == 1; }));
  ASSERT_TRUE(run_until(io, [&] { return server_handler.closed.size() == 1; }));
  client_handler.send(*client, "two");
  ASSERT_TRUE(run_until(io, [&] { return client_handler.received.size() == 2; }));
  EXPECT_EQ(client_handler.received[1], "echo:two");
  EXPECT_TRUE(client_handler.disconnects.empty());
}

TEST_F(HttpTransportFixture, ShutdownSendsTheLastMessage) {
  start_server();
  auto client = make_client();
  client_handler.outbox.push_back("hello");
  client->connect();
  ASSERT_TRUE(run_until(io, [&] { return client_handler.received.size() == 1; }));
  bool done = false;
  client->shutdown("agent_disconnect", 10s, [&] { done = true; });
  ASSERT_TRUE(run_until(io, [&] { return done; }));
  ASSERT_EQ(server_handler.messages.size(), 2u);
  EXPECT_EQ(server_handler.messages[1].payload, "agent_disconnect");
  EXPECT_EQ(client_handler.received.size(), 1u);  // no callbacks after shutdown()
}

TEST_F(HttpTransportFixture, OtherPathsAndMethods) {
  ServerOptions options;
  start_server(options);
  HttpRequest get;
  get.url = server->http_url();
  EXPECT_EQ(request(get).status, 405);
  get.url = server->http_url() + "/other";
  EXPECT_EQ(request(get).status, 404);
  EXPECT_TRUE(server_handler.connections.empty());

  server->stop();
  options.fallback_http_handler = [](const HttpServerRequest &request, auto respond) {
    respond(HttpServerResponse::text(200, "ui:" + request.path));
  };
  start_server(options);
  get.url = "http://127.0.0.1:" + std::to_string(server->port()) + "/ui/index.html";
  auto response = request(get);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "ui:/ui/index.html");
}

}  // namespace
}  // namespace opsup::transport::test
