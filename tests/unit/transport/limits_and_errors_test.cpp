// Message size limits (1009 / 413), malformed data closing only its own connection, the
// bounded send queue.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

#include "opamp.pb.h"
#include "test_util.hpp"
#include "transport/http_client.hpp"
#include "transport/internal/gzip.hpp"

namespace opsup::transport::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using namespace std::chrono_literals;

struct LimitsFixture : ::testing::Test {
  void start_server(ServerOptions options = {}) {
    server = ServerTransport::create(io, std::move(options), server_handler);
    server->start();
  }
  std::unique_ptr<ClientTransport> make_client(ClientRecorder &handler, const std::string &url,
                                               std::size_t max_bytes = kDefaultMaxMessageBytes) {
    ClientOptions options;
    options.endpoint = url;
    options.max_message_bytes = max_bytes;
    return ClientTransport::create(io, options, handler);
  }

  asio::io_context io;
  ServerRecorder server_handler;
  std::unique_ptr<ServerTransport> server;
};

TEST_F(LimitsFixture, OversizedWebSocketMessageClosesWith1009AndClientCanReconnect) {
  ServerOptions options;
  options.max_message_bytes = 1024;
  start_server(options);
  ClientRecorder handler;
  auto client = make_client(handler, server->websocket_url());
  client->connect();
  ASSERT_TRUE(run_until(io, [&] { return handler.connected_count == 1; }));
  handler.send(*client, make_payload(1024));  // exactly the limit passes
  ASSERT_TRUE(run_until(io, [&] { return handler.received.size() == 1; }));
  handler.send(*client, make_payload(2000));
  ASSERT_TRUE(run_until(io, [&] { return handler.disconnects.size() == 1; }));
  EXPECT_TRUE(handler.disconnects[0].message_too_large) << handler.disconnects[0].reason;
  EXPECT_TRUE(contains(handler.disconnects[0].reason, "1009")) << handler.disconnects[0].reason;
  ASSERT_TRUE(run_until(io, [&] { return server_handler.closed.size() == 1; }));
  EXPECT_TRUE(contains(server_handler.closed[0].reason, "1009")) << server_handler.closed[0].reason;

  client->connect();
  ASSERT_TRUE(run_until(io, [&] { return handler.connected_count == 2; }));
  handler.send(*client, "small");
  ASSERT_TRUE(run_until(io, [&] { return handler.received.size() == 2; }));
  EXPECT_EQ(handler.received[1], "echo:small");
}

TEST_F(LimitsFixture, ClientEnforcesItsOwnLimitOnWebSocket) {
  start_server();
  ClientRecorder handler;
  auto client = make_client(handler, server->websocket_url(), 1024);
  client->connect();
  handler.send(*client, make_payload(2000));  // the echo is larger than the client accepts
  ASSERT_TRUE(run_until(io, [&] { return handler.disconnects.size() == 1; }));
  EXPECT_TRUE(handler.disconnects[0].message_too_large) << handler.disconnects[0].reason;
  ASSERT_TRUE(run_until(io, [&] { return server_handler.closed.size() == 1; }));
  EXPECT_TRUE(contains(server_handler.closed[0].reason, "1009")) << server_handler.closed[0].reason;
}

TEST_F(LimitsFixture, OversizedHttpBodyIs413AndClientCanRetry) {
  ServerOptions options;
  options.max_message_bytes = 1024;
  start_server(options);
  ClientRecorder handler;
  auto client = make_client(handler, server->http_url());
  handler.outbox.push_back(make_payload(2000));
  client->connect();
  ASSERT_TRUE(run_until(io, [&] { return handler.disconnects.size() == 1; }));
  EXPECT_EQ(handler.disconnects[0].http_status, 413);
  EXPECT_TRUE(handler.disconnects[0].message_too_large);
  EXPECT_TRUE(server_handler.messages.empty());

  handler.outbox.push_back("small");
  client->connect();
  ASSERT_TRUE(run_until(io, [&] { return handler.received.size() == 1; }));
  EXPECT_EQ(handler.received[0], "echo:small");
}

TEST_F(LimitsFixture, LimitAppliesAfterGzipDecompression) {
  ServerOptions options;
  options.max_message_bytes = 1024;
  start_server(options);
  HttpRequest post;
  post.method = "POST";
  post.url = server->http_url();
  post.headers = {{"Content-Encoding", "gzip"}};
  post.body = internal::gzip_compress(std::string(100000, 'z'));
  ASSERT_LT(post.body.size(), 1024u);
  std::optional<HttpResponse> response;
  http_request(io, post, {[&](HttpResponse r) { response = std::move(r); }, {}, {}, {}});
  ASSERT_TRUE(run_until(io, [&] { return response.has_value(); }));
  EXPECT_EQ(response->status, 413);
  EXPECT_TRUE(contains(response->body, "after decompression"));

  response.reset();
  post.body = "not gzip at all";
  http_request(io, post, {[&](HttpResponse r) { response = std::move(r); }, {}, {}, {}});
  ASSERT_TRUE(run_until(io, [&] { return response.has_value(); }));
  EXPECT_EQ(response->status, 400);
  EXPECT_TRUE(server_handler.messages.empty());
}

TEST_F(LimitsFixture, ClientEnforcesItsOwnLimitOnHttp) {
  start_server();
  ClientRecorder handler;
  auto client = make_client(handler, server->http_url(), 1024);
  handler.outbox.push_back(make_payload(2000));
  client->connect();
  ASSERT_TRUE(run_until(io, [&] { return handler.disconnects.size() == 1; }));
  EXPECT_TRUE(handler.disconnects[0].message_too_large) << handler.disconnects[0].reason;
}

// The reference server's check: a message that is not an AgentToServer closes that
// connection only.
TEST_F(LimitsFixture, UndecodableMessageClosesOnlyItsConnection) {
  start_server();
  server_handler.on_message_fn = [](const auto &connection, std::string_view data) {
    opamp::proto::v1::AgentToServer message;
    if (!message.ParseFromArray(data.data(), static_cast<int>(data.size()))) {
      return connection->close(1002, "undecodable AgentToServer");
    }
    connection->send("uid:" + message.instance_uid());
  };
  ClientRecorder good_handler;
  ClientRecorder bad_handler;
  auto good = make_client(good_handler, server->websocket_url());
  auto bad = make_client(bad_handler, server->websocket_url());
  good->connect();
  bad->connect();
  ASSERT_TRUE(run_until(
      io, [&] { return good_handler.connected_count == 1 && bad_handler.connected_count == 1; }));
  opamp::proto::v1::AgentToServer valid;
  valid.set_instance_uid("0123456789abcdef");
  good_handler.send(*good, valid.SerializeAsString());
  bad_handler.send(*bad, std::string("\xff\xff\xff\xff\xff", 5));
  ASSERT_TRUE(run_until(io, [&] { return bad_handler.disconnects.size() == 1; }));
  EXPECT_TRUE(contains(bad_handler.disconnects[0].reason, "1002"))
      << bad_handler.disconnects[0].reason;
  ASSERT_TRUE(run_until(io, [&] { return server_handler.closed.size() == 1; }));
  EXPECT_TRUE(contains(server_handler.closed[0].reason, "1002"));

  ASSERT_TRUE(run_until(io, [&] { return good_handler.received.size() == 1; }));
  EXPECT_EQ(good_handler.received[0], "uid:0123456789abcdef");
  good_handler.send(*good, valid.SerializeAsString());
  ASSERT_TRUE(run_until(io, [&] { return good_handler.received.size() == 2; }));
  EXPECT_TRUE(good_handler.disconnects.empty());
  EXPECT_EQ(server->connection_count(), 1u);
}

TEST_F(LimitsFixture, SendQueueOverflowClosesTheConnection) {
  ServerOptions options;
  options.max_queued_messages = 4;
  start_server(options);
  server_handler.on_message_fn = [](const auto &connection, std::string_view) {
    for (int i = 0; i < 50; ++i)
      connection->send(make_payload(10000));
  };
  ClientRecorder handler;
  auto client = make_client(handler, server->websocket_url());
  client->connect();
  handler.send(*client, "flood me");
  ASSERT_TRUE(run_until(io, [&] { return handler.disconnects.size() == 1; }));
  EXPECT_TRUE(contains(handler.disconnects[0].reason, "1013")) << handler.disconnects[0].reason;
  EXPECT_LE(handler.received.size(), 5u);
  ASSERT_TRUE(run_until(io, [&] { return server_handler.closed.size() == 1; }));
}

// Raw sockets on the test thread against a server on its own thread.
struct RawWebSocket {
  explicit RawWebSocket(uint16_t port) : ws(io) {
    asio::ip::tcp::resolver resolver(io);
    asio::connect(ws.next_layer(), resolver.resolve("127.0.0.1", std::to_string(port)));
    ws.handshake("127.0.0.1", "/v1/opamp");
    ws.binary(true);
  }
  asio::io_context io;
  websocket::stream<asio::ip::tcp::socket> ws;
};

TEST(MalformedFrames, GarbageOnTheWireClosesOnlyThatConnection) {
  ThreadedServer server({});
  RawWebSocket healthy(server.server->port());
  RawWebSocket broken(server.server->port());
  // Not a valid frame: reserved opcode 0x3 with RSV bits set, unmasked.
  const std::string garbage("\x73\x05hello\xff\xff", 9);
  asio::write(broken.ws.next_layer(), asio::buffer(garbage));
  beast::flat_buffer buffer;
  boost::system::error_code ec;
  broken.ws.read(buffer, ec);
  EXPECT_TRUE(ec) << "the server should have dropped the broken connection";

  healthy.ws.write(asio::buffer(std::string("\0still fine", 11)));
  buffer.clear();
  healthy.ws.read(buffer);
  EXPECT_EQ(beast::buffers_to_string(buffer.data()), std::string("\0echo:still fine", 16));

  // A text frame is not an OpAMP message either.
  RawWebSocket texting(server.server->port());
  texting.ws.text(true);
  texting.ws.write(asio::buffer(std::string("hello")));
  buffer.clear();
  texting.ws.read(buffer, ec);
  EXPECT_EQ(ec, websocket::error::closed);
  EXPECT_EQ(texting.ws.reason().code, websocket::close_code::bad_payload);

  healthy.ws.close(websocket::close_code::normal);
  ASSERT_TRUE(server.wait_for([&] { return server.recorder.closed.size() == 3; }));
  server.stop();
  ASSERT_EQ(server.recorder.closed.size(), 3u);
  int protocol_errors = 0;
  for (const auto &closed : server.recorder.closed) {
    if (contains(closed.reason, "code 1000"))
      continue;
    ++protocol_errors;
    EXPECT_TRUE(contains(closed.reason, "127.0.0.1:")) << "names the peer: " << closed.reason;
  }
  EXPECT_EQ(protocol_errors, 2);
  ASSERT_EQ(server.recorder.messages.size(), 1u);
  EXPECT_EQ(server.recorder.messages[0].payload, "still fine");
}

}  // namespace
}  // namespace opsup::transport::test
