// When a POST on a kept-alive connection fails, the client tries once more on a fresh
// connection only if nothing of a response arrived: the classic "server closed the idle
// connection" case. Once a response has started, the server has the request, and sending
// it again would deliver the same sequence_num twice.
#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include "test_util.hpp"

namespace opsup::transport::test {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;

// Answers POSTs with a fixed body and keeps connections open, except that the request
// numbered `break_at` (counting from 1 across connections) gets `broken_answer` and then
// a closed connection.
class ScriptedHttpServer {
 public:
  ScriptedHttpServer(asio::io_context &io, int break_at, std::string broken_answer)
      : acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        break_at_(break_at),
        broken_answer_(std::move(broken_answer)) {
    accept();
  }

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/v1/opamp";
  }
  int requests() const { return *requests_; }
  int connections() const { return *connections_; }

 private:
  struct Connection : std::enable_shared_from_this<Connection> {
    explicit Connection(tcp::socket s) : socket(std::move(s)) {}
    tcp::socket socket;
    boost::beast::flat_buffer buffer;
    http::request<http::string_body> request;
    std::string answer;
  };

  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec)
        return;
      ++*connections_;
      serve(std::make_shared<Connection>(std::move(socket)));
      accept();
    });
  }

  void serve(std::shared_ptr<Connection> connection) {
    connection->request = {};
    http::async_read(
        connection->socket, connection->buffer, connection->request,
        [this, connection, requests = requests_](boost::system::error_code ec, std::size_t) {
          if (ec)
            return;
          const int number = ++*requests;
          const bool broken = number == break_at_;
          connection->answer = broken ? broken_answer_
                                      : "HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf"
                                        "\r\nContent-Length: 2\r\n\r\nok";
          asio::async_write(connection->socket, asio::buffer(connection->answer),
                            [this, connection, broken](boost::system::error_code ec, std::size_t) {
                              if (ec)
                                return;
                              if (broken) {
                                connection->socket.close();
                                return;
                              }
                              serve(connection);
                            });
        });
  }

  tcp::acceptor acceptor_;
  int break_at_;
  std::string broken_answer_;
  std::shared_ptr<int> requests_ = std::make_shared<int>(0);
  std::shared_ptr<int> connections_ = std::make_shared<int>(0);
};

struct HttpRetry : ::testing::Test {
  std::unique_ptr<ClientTransport> exchange_twice(const std::string &url) {
    ClientOptions options;
    options.endpoint = url;
    auto client = ClientTransport::create(io, options, handler);
    handler.outbox.push_back("first");
    client->connect();
    EXPECT_TRUE(run_until(io, [&] { return handler.received.size() == 1; }));
    handler.send(*client, "second");  // on the kept-alive connection
    return client;
  }

  asio::io_context io;
  ClientRecorder handler;
};

TEST_F(HttpRetry, ConnectionClosedBeforeAnyResponseIsRetriedOnceOnAFreshConnection) {
  ScriptedHttpServer server(io, /*break_at=*/2, /*broken_answer=*/"");
  auto client = exchange_twice(server.url());
  ASSERT_TRUE(run_until(io, [&] { return handler.received.size() == 2; }));
  EXPECT_EQ(server.requests(), 3) << "the second request went out again";
  EXPECT_EQ(server.connections(), 2);
  EXPECT_TRUE(handler.disconnects.empty());
}

TEST_F(HttpRetry, ConnectionClosedMidResponseIsNotSentAgain) {
  ScriptedHttpServer server(io, /*break_at=*/2,
                            "HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n"
                            "Content-Length: 100\r\n\r\npartial");
  auto client = exchange_twice(server.url());
  ASSERT_TRUE(run_until(io, [&] { return handler.disconnects.size() == 1; }));
  EXPECT_EQ(server.requests(), 2) << "a request whose answer had begun must not be resent";
  EXPECT_EQ(server.connections(), 1);
  EXPECT_TRUE(contains(handler.disconnects[0].reason, "127.0.0.1:"))
      << handler.disconnects[0].reason;
}

}  // namespace
}  // namespace opsup::transport::test
