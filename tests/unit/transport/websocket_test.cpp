// WebSocket client and server over TCP: round trips, headers, the OpAMP message header,
// many clients, clean shutdown.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <set>
#include <thread>

#include "test_util.hpp"

namespace opsup::transport::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using namespace std::chrono_literals;

struct WebSocketFixture : ::testing::Test {
  void start_server(ServerOptions options = {}) {
    server = ServerTransport::create(io, std::move(options), server_handler);
    server->start();
  }
  std::unique_ptr<ClientTransport> make_client(ClientRecorder &handler,
                                               ClientOptions options = {}) {
    if (options.endpoint.empty())
      options.endpoint = server->websocket_url();
    return ClientTransport::create(io, std::move(options), handler);
  }

  asio::io_context io;
  ServerRecorder server_handler;
  std::unique_ptr<ServerTransport> server;
};

TEST_F(WebSocketFixture, RoundTripClientServerClient) {
  start_server();
  EXPECT_TRUE(contains(server->websocket_url(), "ws://127.0.0.1:"));
  ClientRecorder client_handler;
  auto client = make_client(client_handler);
  EXPECT_FALSE(client->is_http());
  client->connect();
  ASSERT_TRUE(run_until(io, [&] { return client_handler.connected_count == 1; }));
  EXPECT_TRUE(client->is_connected());
  ASSERT_TRUE(run_until(io, [&] { return server_handler.connections.size() == 1; }));
  EXPECT_TRUE(server_handler.connections[0]->is_websocket());

  client_handler.send(*client, "hello");
  client_handler.send(*client, std::string("with\0zero", 9));
  ASSERT_TRUE(run_until(io, [&] { return client_handler.received.size() == 2; }));
  EXPECT_EQ(client_handler.received[0], "echo:hello");
  EXPECT_EQ(client_handler.received[1], "echo:" + std::string("with\0zero", 9));
  ASSERT_EQ(server_handler.messages.size(), 2u);
  EXPECT_EQ(server_handler.messages[0].payload, "hello");
  EXPECT_EQ(server->connection_count(), 1u);
  EXPECT_TRUE(client_handler.disconnects.empty());
}

TEST_F(WebSocketFixture, StaticAndDynamicHeadersReachAdmit) {
  start_server();
  ClientRecorder client_handler;
  ClientOptions options;
  options.headers = {{"X-Static", "one"}, {"Authorization", "Basic static"}};
  int dynamic_calls = 0;
  options.dynamic_headers = [&] {
    ++dynamic_calls;
    return HeaderList{{"Authorization", "Bearer token-" + std::to_string(dynamic_calls)}};
  };
  auto client = make_client(client_handler, options);
  client->connect();
  ASSERT_TRUE(run_until(io, [&] { return client_handler.connected_count == 1; }));
  ASSERT_EQ(server_handler.admitted.size(), 1u);
  const auto &request = server_handler.admitted[0];
  EXPECT_TRUE(request.websocket_upgrade);
  EXPECT_EQ(request.target, "/v1/opamp");
  EXPECT_EQ(request.header("x-static"), "one");
  // Both Authorization values are sent; the dynamic one comes after the static one.
  int authorization_count = 0;
  for (const auto &header : request.headers) {
    if (header.name == "Authorization")
      ++authorization_count;
  }
  EXPECT_EQ(authorization_count, 2);
  EXPECT_EQ(dynamic_calls, 1);
  EXPECT_TRUE(contains(request.peer, "127.0.0.1:"));
}

TEST_F(WebSocketFixture, ReconnectsOnlyWhenAskedAndGetsFreshDynamicHeaders) {
  start_server();
  ClientRecorder client_handler;
  ClientOptions options;
  int dynamic_calls = 0;
  options.dynamic_headers = [&] {
    return HeaderList{{"X-Attempt", std::to_string(++dynamic_calls)}};
  };
  auto client = make_client(client_handler, options);
  client->connect();
  ASSERT_TRUE(run_until(io, [&] { return server_handler.connections.size() == 1; }));
  server_handler.connections[0]->close(1000, "bye");
  ASSERT_TRUE(run_until(io, [&] { return client_handler.disconnects.size() == 1; }));
  EXPECT_TRUE(contains(client_handler.disconnects[0].reason, "code 1000"));
  EXPECT_FALSE(client->is_connected());
  EXPECT_EQ(server_handler.connections.size(), 1u);  // no reconnect on its own

  client->connect();
  ASSERT_TRUE(run_until(io, [&] { return client_handler.connected_count == 2; }));
  ASSERT_EQ(server_handler.admitted.size(), 2u);
  EXPECT_EQ(server_handler.admitted[1].header("X-Attempt"), "2");
  client_handler.send(*client, "again");
  ASSERT_TRUE(run_until(io, [&] { return client_handler.received.size() == 1; }));
  EXPECT_EQ(client_handler.received[0], "echo:again");
}

TEST_F(WebSocketFixture, ShutdownDeliversLastMessageAndCloseHandshake) {
  start_server();
  ClientRecorder client_handler;
  auto client = make_client(client_handler);
  client->connect();
  ASSERT_TRUE(run_until(io, [&] { return client_handler.connected_count == 1; }));
  client_handler.send(*client, "first");
  bool done = false;
  client->shutdown("agent_disconnect", 10s, [&] { done = true; });
  ASSERT_TRUE(run_until(io, [&] { return done && server_handler.closed.size() == 1; }));
  ASSERT_EQ(server_handler.messages.size(), 2u);
  EXPECT_EQ(server_handler.messages[0].payload, "first");
  EXPECT_EQ(server_handler.messages[1].payload, "agent_disconnect");
  EXPECT_TRUE(contains(server_handler.closed[0].reason, "code 1000"))
      << server_handler.closed[0].reason;
  EXPECT_TRUE(client_handler.disconnects.empty());  // no callbacks after shutdown
  EXPECT_EQ(server->connection_count(), 0u);
}

TEST_F(WebSocketFixture, ShutdownWhileDisconnectedCompletesAtOnce) {
  start_server();
  ClientRecorder client_handler;
  auto client = make_client(client_handler);
  bool done = false;
  client->shutdown("bye", 5s, [&] { done = true; });
  ASSERT_TRUE(run_until(io, [&] { return done; }));
  EXPECT_TRUE(server_handler.messages.empty());
}

TEST_F(WebSocketFixture, ServerStopDisconnectsClients) {
  start_server();
  ClientRecorder client_handler;
  auto client = make_client(client_handler);
  client->connect();
  ASSERT_TRUE(run_until(io, [&] { return server_handler.connections.size() == 1; }));
  server->stop();
  ASSERT_TRUE(run_until(io, [&] { return client_handler.disconnects.size() == 1; }));
  EXPECT_TRUE(contains(client_handler.disconnects[0].reason, "1001"))
      << client_handler.disconnects[0].reason;
  EXPECT_TRUE(server_handler.closed.empty());  // the handler hears nothing after stop()
}

TEST_F(WebSocketFixture, SixtyConcurrentClients) {
  start_server();
  constexpr int kClients = 60;
  std::vector<std::unique_ptr<ClientRecorder>> handlers;
  std::vector<std::unique_ptr<ClientTransport>> clients;
  for (int i = 0; i < kClients; ++i) {
    handlers.push_back(std::make_unique<ClientRecorder>());
    clients.push_back(make_client(*handlers.back()));
    clients.back()->connect();
  }
  auto all = [&](auto predicate) {
    for (const auto &handler : handlers) {
      if (!predicate(*handler))
        return false;
    }
    return true;
  };
  ASSERT_TRUE(run_until(
      io, [&] { return all([](auto &h) { return h.connected_count == 1; }); }, 30s));
  EXPECT_EQ(server->connection_count(), static_cast<std::size_t>(kClients));
  for (int i = 0; i < kClients; ++i)
    handlers[i]->send(*clients[i], "client-" + std::to_string(i));
  ASSERT_TRUE(run_until(
      io, [&] { return all([](auto &h) { return h.received.size() == 1; }); }, 30s));
  for (int i = 0; i < kClients; ++i) {
    EXPECT_EQ(handlers[i]->received[0], "echo:client-" + std::to_string(i));
  }
  std::set<uint64_t> ids;
  for (const auto &connection : server_handler.connections)
    ids.insert(connection->id());
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kClients));
  int done = 0;
  for (auto &client : clients)
    client->shutdown("bye", 10s, [&] { ++done; });
  ASSERT_TRUE(run_until(
      io, [&] { return done == kClients && server->connection_count() == 0; }, 30s));
}

TEST_F(WebSocketFixture, RefusedUpgradeReportsStatusAndRetryAfter) {
  start_server();
  Rejection rejection;
  server_handler.admit_fn = [&](const RequestInfo &) { return std::optional(rejection); };
  ClientRecorder client_handler;
  auto client = make_client(client_handler);

  rejection.http_status = 503;
  rejection.retry_after = std::chrono::seconds(9);
  client->connect();
  ASSERT_TRUE(run_until(io, [&] { return client_handler.disconnects.size() == 1; }));
  EXPECT_EQ(client_handler.disconnects[0].http_status, 503);
  EXPECT_EQ(client_handler.disconnects[0].retry_after, std::chrono::milliseconds(9000));
  EXPECT_TRUE(contains(client_handler.disconnects[0].reason, "503"));

  rejection.http_status = 429;
  rejection.retry_after = std::chrono::seconds(0);
  client->connect();
  ASSERT_TRUE(run_until(io, [&] { return client_handler.disconnects.size() == 2; }));
  EXPECT_EQ(client_handler.disconnects[1].retry_after, std::chrono::milliseconds(0));

  rejection.http_status = 401;
  rejection.retry_after.reset();
  client->connect();
  ASSERT_TRUE(run_until(io, [&] { return client_handler.disconnects.size() == 3; }));
  EXPECT_EQ(client_handler.disconnects[2].http_status, 401);
  EXPECT_FALSE(client_handler.disconnects[2].retry_after.has_value());

  rejection.http_status = 409;
  rejection.retry_after = std::chrono::seconds(5);  // ignored: only 429/503 carry it
  client->connect();
  ASSERT_TRUE(run_until(io, [&] { return client_handler.disconnects.size() == 4; }));
  EXPECT_EQ(client_handler.disconnects[3].http_status, 409);
  EXPECT_FALSE(client_handler.disconnects[3].retry_after.has_value());
  EXPECT_EQ(client_handler.connected_count, 0);
  EXPECT_TRUE(server_handler.connections.empty());
}

TEST_F(WebSocketFixture, PingsDetectAPeerThatStoppedAnswering) {
  // A WebSocket server that completes the upgrade and then never reads again, so it never
  // answers pings.
  asio::io_context raw_io;
  asio::ip::tcp::acceptor acceptor(raw_io, {asio::ip::make_address("127.0.0.1"), 0});
  websocket::stream<asio::ip::tcp::socket> raw(raw_io);
  std::thread raw_server([&] {
    acceptor.accept(raw.next_layer());
    raw.accept();
  });
  ClientRecorder client_handler;
  ClientOptions options;
  options.endpoint =
      "ws://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/v1/opamp";
  options.ping_interval = 200ms;
  auto client = ClientTransport::create(io, options, client_handler);
  client->connect();
  ASSERT_TRUE(run_until(io, [&] { return client_handler.connected_count == 1; }));
  raw_server.join();
  ASSERT_TRUE(run_until(io, [&] { return client_handler.disconnects.size() == 1; }));
  EXPECT_TRUE(contains(client_handler.disconnects[0].reason, "ping timeout"))
      << client_handler.disconnects[0].reason;
}

TEST_F(WebSocketFixture, ConnectionRefusedNamesThePeer) {
  start_server();
  const std::string url = server->websocket_url();
  server->stop();
  ClientRecorder client_handler;
  ClientOptions options;
  options.endpoint = url;
  auto client = make_client(client_handler, options);
  client->connect();
  ASSERT_TRUE(run_until(io, [&] { return client_handler.disconnects.size() == 1; }));
  EXPECT_TRUE(contains(client_handler.disconnects[0].reason, "127.0.0.1:"))
      << client_handler.disconnects[0].reason;
  EXPECT_EQ(client_handler.connected_count, 0);
}

TEST_F(WebSocketFixture, ConnectTimeoutWhenTheServerNeverAnswers) {
  // A listener that accepts TCP connections (the kernel does) but never speaks HTTP.
  asio::ip::tcp::acceptor silent(io,
                                 asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  ClientRecorder client_handler;
  ClientOptions options;
  options.endpoint =
      "ws://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/v1/opamp";
  options.connect_timeout = 300ms;
  auto client = ClientTransport::create(io, options, client_handler);
  client->connect();
  ASSERT_TRUE(run_until(io, [&] { return client_handler.disconnects.size() == 1; }));
  EXPECT_TRUE(contains(client_handler.disconnects[0].reason, "timed out"))
      << client_handler.disconnects[0].reason;
}

// Raw Beast client on the test thread against a server on its own thread.
struct RawClient {
  explicit RawClient(uint16_t port) : ws(io) {
    asio::ip::tcp::resolver resolver(io);
    asio::connect(ws.next_layer(), resolver.resolve("127.0.0.1", std::to_string(port)));
    ws.handshake("127.0.0.1", "/v1/opamp");
    ws.binary(true);
  }
  std::string read() {
    beast::flat_buffer buffer;
    ws.read(buffer);
    return beast::buffers_to_string(buffer.data());
  }
  asio::io_context io;
  websocket::stream<asio::ip::tcp::socket> ws;
};

TEST(WebSocketWire, ServerFramesCarryTheHeaderAndLegacyClientFramesAreAccepted) {
  ThreadedServer server({});
  RawClient raw(server.server->port());
  raw.ws.write(asio::buffer(std::string("\0framed", 7)));
  EXPECT_EQ(raw.read(), std::string("\0echo:framed", 12));
  raw.ws.write(asio::buffer(std::string("\x0a\x03uid")));  // no header: legacy form
  EXPECT_EQ(raw.read(), std::string("\0echo:\x0a\x03uid", 11));
  raw.ws.close(websocket::close_code::normal);
  ASSERT_TRUE(server.wait_for([&] { return server.recorder.closed.size() == 1; }));
  server.stop();
  ASSERT_EQ(server.recorder.messages.size(), 2u);
  EXPECT_EQ(server.recorder.messages[0].payload, "framed");
  EXPECT_EQ(server.recorder.messages[1].payload, "\x0a\x03uid");
}

}  // namespace
}  // namespace opsup::transport::test
