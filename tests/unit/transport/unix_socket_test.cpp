// Unix domain sockets: WebSocket and HTTP round trips with peer credentials, socket file
// mode, stale socket replacement.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/local/stream_protocol.hpp>
#include <fstream>
#include <system_error>

#include "test_util.hpp"
#include "transport/http_server.hpp"

namespace opsup::transport::test {
namespace {

namespace asio = boost::asio;

struct UnixSocketFixture : ::testing::Test {
  void start_server() {
    ServerOptions options;
    options.unix_socket_path = socket_path;
    server = ServerTransport::create(io, options, server_handler);
    server->start();
  }
  std::unique_ptr<ClientTransport> make_client(const std::string &endpoint) {
    ClientOptions options;
    options.endpoint = endpoint;
    options.unix_socket_path = socket_path;
    return ClientTransport::create(io, options, client_handler);
  }

  TempDir dir;
  std::string socket_path = (dir.path() / "opamp.sock").string();
  asio::io_context io;
  ServerRecorder server_handler;
  ClientRecorder client_handler;
  std::unique_ptr<ServerTransport> server;
};

TEST_F(UnixSocketFixture, WebSocketRoundTripWithPeerCredentials) {
  start_server();
  EXPECT_EQ(server->port(), 0);
  EXPECT_EQ(server->websocket_url(), "ws://localhost/v1/opamp");
  struct stat info {};
  ASSERT_EQ(stat(socket_path.c_str(), &info), 0);
  EXPECT_TRUE(S_ISSOCK(info.st_mode));
  EXPECT_EQ(info.st_mode & 0777, 0600u);

  auto client = make_client(server->websocket_url());
  client_handler.outbox.push_back("over unix");
  client->connect();
  ASSERT_TRUE(run_until(io, [&] { return client_handler.received.size() == 1; }));
  EXPECT_EQ(client_handler.received[0], "echo:over unix");
  ASSERT_EQ(server_handler.connections.size(), 1u);
  const auto &request = server_handler.connections[0]->request();
  ASSERT_TRUE(request.peer_credentials.has_value());
  EXPECT_EQ(request.peer_credentials->pid, getpid());
  EXPECT_EQ(request.peer_credentials->uid, getuid());
  EXPECT_EQ(request.peer_credentials->gid, getgid());
  EXPECT_TRUE(contains(request.peer, "unix:" + socket_path)) << request.peer;
  EXPECT_TRUE(contains(request.peer, "pid " + std::to_string(getpid()))) << request.peer;
  EXPECT_EQ(request.header("Host"), "localhost");
}

TEST_F(UnixSocketFixture, HttpRoundTripWithPeerCredentials) {
  start_server();
  auto client = make_client(server->http_url());
  client_handler.outbox.push_back("post over unix");
  client->connect();
  ASSERT_TRUE(run_until(io, [&] { return client_handler.received.size() == 1; }));
  EXPECT_EQ(client_handler.received[0], "echo:post over unix");
  ASSERT_EQ(server_handler.admitted.size(), 1u);
  ASSERT_TRUE(server_handler.admitted[0].peer_credentials.has_value());
  EXPECT_EQ(server_handler.admitted[0].peer_credentials->pid, getpid());
}

TEST_F(UnixSocketFixture, StaleSocketIsReplacedButOtherFilesAreNot) {
  start_server();
  server.reset();  // leaves nothing behind
  EXPECT_FALSE(std::filesystem::exists(socket_path));

  // A socket file nobody listens on any more (a crashed server).
  {
    asio::local::stream_protocol::acceptor stale(
        io, asio::local::stream_protocol::endpoint(socket_path));
  }
  ASSERT_TRUE(std::filesystem::exists(socket_path));
  start_server();
  auto client = make_client(server->websocket_url());
  client->connect();
  ASSERT_TRUE(run_until(io, [&] { return client_handler.connected_count == 1; }));
  client->abort();
  server.reset();

  std::ofstream(socket_path) << "precious";
  try {
    start_server();
    FAIL() << "expected system_error";
  } catch (const std::system_error &error) {
    EXPECT_TRUE(contains(error.what(), socket_path)) << error.what();
    EXPECT_TRUE(contains(error.what(), "not a socket")) << error.what();
  }
  std::ifstream kept(socket_path);
  std::string contents;
  kept >> contents;
  EXPECT_EQ(contents, "precious");
}

TEST_F(UnixSocketFixture, HttpServerOnAUnixSocket) {
  HttpServerOptions options;
  options.unix_socket_path = socket_path;
  options.unix_socket_mode = 0660;
  HttpServerRequest seen;
  auto http_server =
      HttpServer::create(io, options, [&](const HttpServerRequest &request, auto respond) {
        seen = request;
        respond(HttpServerResponse::text(200, "unix reply", "application/x-protobuf"));
      });
  http_server->start();
  struct stat info {};
  ASSERT_EQ(stat(socket_path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0660u);
  EXPECT_EQ(http_server->base_url(), "http://localhost");
  auto client = make_client("http://localhost/v1/opamp");
  client_handler.outbox.push_back("x");
  client->connect();
  ASSERT_TRUE(run_until(io, [&] { return client_handler.received.size() == 1; }));
  EXPECT_EQ(client_handler.received[0], "unix reply");
  ASSERT_TRUE(seen.peer_credentials.has_value());
  EXPECT_EQ(seen.peer_credentials->uid, getuid());
}

TEST(UnixSocketErrors, ListeningInAMissingDirectoryNamesThePath) {
  asio::io_context io;
  ServerRecorder handler;
  ServerOptions options;
  options.unix_socket_path = "/nonexistent-dir/opamp.sock";
  auto server = ServerTransport::create(io, options, handler);
  try {
    server->start();
    FAIL() << "expected system_error";
  } catch (const std::system_error &error) {
    EXPECT_TRUE(contains(error.what(), "/nonexistent-dir/opamp.sock")) << error.what();
  }
}

}  // namespace
}  // namespace opsup::transport::test
