// The generic HttpServer and http_request(): methods, bodies, streamed files with ranges,
// limits, timeouts, asynchronous responses.
#include <gtest/gtest.h>

#include <boost/asio/steady_timer.hpp>
#include <thread>

#include "test_certs.hpp"
#include "test_util.hpp"
#include "transport/http_client.hpp"
#include "transport/http_server.hpp"

namespace opsup::transport::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

struct HttpServerFixture : ::testing::Test {
  void start(HttpServerHandlerFn handler, HttpServerOptions options = {}) {
    server = HttpServer::create(io, std::move(options), std::move(handler));
    server->start();
  }
  HttpResponse fetch(HttpRequest request) {
    std::optional<HttpResponse> response;
    int calls = 0;
    http_request(io, std::move(request),
                 {[&](HttpResponse r) {
                    ++calls;
                    response = std::move(r);
                  },
                  {},
                  {},
                  {}});
    EXPECT_TRUE(run_until(io, [&] { return response.has_value(); }));
    EXPECT_EQ(calls, 1);
    return response.value_or(HttpResponse{});
  }
  HttpRequest get(const std::string &target) const {
    HttpRequest request;
    request.url = server->base_url() + target;
    return request;
  }

  asio::io_context io;
  std::unique_ptr<HttpServer> server;
};

TEST_F(HttpServerFixture, GetAndPostReachTheHandler) {
  std::vector<HttpServerRequest> seen;
  start([&](const HttpServerRequest &request, auto respond) {
    seen.push_back(request);
    auto response =
        HttpServerResponse::text(201, request.method + " " + request.body, "application/json");
    response.headers.push_back({"X-Reply", "yes"});
    respond(std::move(response));
  });
  EXPECT_TRUE(contains(server->base_url(), "http://127.0.0.1:"));
  auto request = get("/api/agents?limit=5&x=%20y");
  request.headers = {{"X-Custom", "abc"}};
  auto response = fetch(request);
  EXPECT_EQ(response.status, 201) << response.error;
  EXPECT_EQ(response.body, "GET ");
  EXPECT_EQ(response.header("content-type"), "application/json");
  EXPECT_EQ(response.header("X-Reply"), "yes");
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].path, "/api/agents");
  EXPECT_EQ(seen[0].query, "limit=5&x=%20y");
  EXPECT_EQ(seen[0].target, "/api/agents?limit=5&x=%20y");
  EXPECT_EQ(seen[0].header("x-custom"), "abc");
  EXPECT_FALSE(seen[0].tls);
  EXPECT_TRUE(contains(seen[0].peer, "127.0.0.1:"));

  HttpRequest post = get("/oauth/token");
  post.method = "POST";
  post.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  post.body = "grant_type=client_credentials&client_id=a";
  response = fetch(post);
  EXPECT_EQ(response.body, "POST grant_type=client_credentials&client_id=a");
  EXPECT_EQ(seen[1].header("Content-Type"), "application/x-www-form-urlencoded");
}

TEST_F(HttpServerFixture, LargeBodiesBothWaysAndTheBodyLimit) {
  HttpServerOptions options;
  options.max_request_body_bytes = 6 * 1024 * 1024;
  start([](const HttpServerRequest &request,
           auto respond) { respond(HttpServerResponse::text(200, request.body)); },
        options);
  HttpRequest post = get("/echo");
  post.method = "POST";
  post.body = make_payload(5 * 1024 * 1024);
  auto response = fetch(post);
  EXPECT_EQ(response.status, 200) << response.error;
  EXPECT_EQ(response.body, post.body);

  post.body = make_payload(7 * 1024 * 1024);
  response = fetch(post);
  EXPECT_EQ(response.status, 413) << response.error;

  post.body = "x";
  post.max_response_bytes = 0;
  response = fetch(post);
  EXPECT_EQ(response.status, 0);
  EXPECT_TRUE(contains(response.error, "exceeds")) << response.error;
}

class FileServing : public HttpServerFixture {
 protected:
  void SetUp() override {
    contents = make_payload(3 * 1024 * 1024 + 17, 'f');
    file = opsup::testing::write_file(dir.path() / "package.tar.gz", contents);
    start([this](const HttpServerRequest &request, auto respond) {
      HttpServerResponse response;
      response.headers = {{"Content-Type", "application/gzip"}};
      response.file_path = request.path == "/missing" ? (dir.path() / "nope").string() : file;
      respond(std::move(response));
    });
  }
  TempDir dir;
  std::string contents;
  std::string file;
};

TEST_F(FileServing, StreamsAFileInChunksWithProgress) {
  std::string received;
  uint64_t last_received = 0;
  uint64_t reported_total = 0;
  int chunks = 0;
  std::optional<HttpResponse> response;
  HttpCallbacks callbacks;
  callbacks.on_complete = [&](HttpResponse r) { response = std::move(r); };
  callbacks.on_body_chunk = [&](std::string_view chunk, uint64_t so_far, uint64_t total) {
    ++chunks;
    received.append(chunk);
    EXPECT_EQ(so_far, received.size());
    EXPECT_GT(so_far, last_received);
    last_received = so_far;
    reported_total = total;
  };
  http_request(io, get("/package"), std::move(callbacks));
  ASSERT_TRUE(run_until(io, [&] { return response.has_value(); }));
  EXPECT_EQ(response->status, 200) << response->error;
  EXPECT_TRUE(response->body.empty());
  EXPECT_EQ(response->header("Accept-Ranges"), "bytes");
  EXPECT_EQ(reported_total, contents.size());
  EXPECT_GT(chunks, 1);
  EXPECT_TRUE(received == contents);
}

TEST_F(FileServing, RangeRequests) {
  auto request = get("/package");
  request.headers = {{"Range", "bytes=100-199"}};
  auto response = fetch(request);
  EXPECT_EQ(response.status, 206);
  EXPECT_EQ(response.body, contents.substr(100, 100));
  EXPECT_EQ(response.header("Content-Range"), "bytes 100-199/" + std::to_string(contents.size()));

  request.headers = {{"Range", "bytes=-10"}};
  response = fetch(request);
  EXPECT_EQ(response.status, 206);
  EXPECT_EQ(response.body, contents.substr(contents.size() - 10));

  request.headers = {{"Range", "bytes=3145700-"}};
  response = fetch(request);
  EXPECT_EQ(response.status, 206);
  EXPECT_EQ(response.body, contents.substr(3145700));

  request.headers = {{"Range", "bytes=99999999-"}};
  response = fetch(request);
  EXPECT_EQ(response.status, 416);
  EXPECT_EQ(response.header("Content-Range"), "bytes */" + std::to_string(contents.size()));

  request.method = "HEAD";
  request.headers.clear();
  response = fetch(request);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.header("Content-Length"), std::to_string(contents.size()));
  EXPECT_TRUE(response.body.empty());

  EXPECT_EQ(fetch(get("/missing")).status, 404);
}

TEST_F(HttpServerFixture, RespondLaterFromAnotherThreadAndHandlerErrors) {
  std::vector<std::thread> threads;
  start([&](const HttpServerRequest &request, auto respond) {
    if (request.path == "/throw")
      throw std::runtime_error("handler bug");
    threads.emplace_back([respond] {
      respond(HttpServerResponse::text(200, "from a worker"));
      respond(HttpServerResponse::text(500, "second call is ignored"));
    });
  });
  auto response = fetch(get("/slow"));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "from a worker");
  EXPECT_EQ(fetch(get("/throw")).status, 500);
  for (auto &thread : threads)
    thread.join();
}

TEST_F(HttpServerFixture, ClientTimeoutWhenTheServerNeverAnswers) {
  std::function<void(HttpServerResponse)> held;
  start([&](const HttpServerRequest &, auto respond) { held = respond; });
  auto request = get("/never");
  request.timeout = 300ms;
  auto response = fetch(request);
  EXPECT_EQ(response.status, 0);
  EXPECT_TRUE(contains(response.error, "timed out")) << response.error;
  EXPECT_TRUE(contains(response.error, request.url)) << response.error;
  ASSERT_TRUE(held);
  held(HttpServerResponse::text(200, "too late"));  // the connection is gone: a no-op
  ASSERT_TRUE(run_until(io, [&] { return server->connection_count() == 0; }));
}

TEST_F(HttpServerFixture, ErrorsAreReportedOnceAndNameTheUrl) {
  start(
      [](const HttpServerRequest &, auto respond) { respond(HttpServerResponse::text(200, "")); });
  const std::string url = server->base_url() + "/x";
  server->stop();
  HttpRequest request;
  request.url = url;
  auto response = fetch(request);
  EXPECT_EQ(response.status, 0);
  EXPECT_TRUE(contains(response.error, url)) << response.error;

  request.url = "ftp://example.com/";
  response = fetch(request);
  EXPECT_TRUE(contains(response.error, "invalid scheme")) << response.error;

  request.url = "http://127.0.0.1:1/";
  request.method = "BREW";
  response = fetch(request);
  EXPECT_TRUE(contains(response.error, "BREW")) << response.error;
}

TEST_F(HttpServerFixture, KeepAliveConnectionsAreCountedAndStopClosesThem) {
  start([](const HttpServerRequest &, auto respond) {
    respond(HttpServerResponse::text(200, "ok"));
  });
  ClientRecorder handler;
  ClientOptions options;
  options.endpoint = server->base_url() + "/v1/opamp";
  auto client = ClientTransport::create(io, options, handler);
  handler.outbox.push_back("a");
  client->connect();
  ASSERT_TRUE(run_until(io, [&] { return handler.received.size() == 1; }));
  EXPECT_EQ(server->connection_count(), 1u);
  server->stop();
  EXPECT_EQ(server->connection_count(), 0u);
  handler.send(*client, "b");
  ASSERT_TRUE(run_until(io, [&] { return handler.disconnects.size() == 1; }));

  server->start();  // a stopped server can start again (on a new free port)
  auto response = fetch(get("/again"));
  EXPECT_EQ(response.status, 200) << response.error;
  EXPECT_EQ(response.body, "ok");
}

}  // namespace
}  // namespace opsup::transport::test
