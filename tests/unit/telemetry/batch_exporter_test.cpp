// The batch processor and exporter against a real HTTP server on loopback: batches leave
// on size or delay, one export at a time, and what does not fit or fails is dropped and
// counted, never waited for.
#include "telemetry/internal/batch_exporter.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "support/ports.hpp"
#include "transport/http_server.hpp"

namespace opsup::telemetry::internal {
namespace {

using namespace std::chrono_literals;

// Runs the loop until `done` holds or `timeout` passes; returns `done()`.
bool run_until(boost::asio::io_context &io, const std::function<bool()> &done,
               std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_one_for(50ms);
  }
  return done();
}

// Each record is a string; a batch is encoded as the records joined with ','.
std::string join(std::span<const std::string> batch) {
  std::string body;
  for (const auto &record : batch)
    body += (body.empty() ? "" : ",") + record;
  return body;
}

class BatchExporterTest : public ::testing::Test {
 protected:
  boost::asio::io_context io_;
  std::vector<std::string> bodies_;
  std::vector<std::string> content_types_;
  std::vector<std::function<void(transport::HttpServerResponse)>> held_;  // unanswered
  bool hold_responses_ = false;
  std::unique_ptr<transport::HttpServer> server_;

  void SetUp() override {
    server_ = transport::HttpServer::create(
        io_, {}, [this](const transport::HttpServerRequest &request, auto respond) {
          bodies_.push_back(request.body);
          content_types_.push_back(request.header("Content-Type").value_or(""));
          if (hold_responses_)
            held_.push_back(std::move(respond));
          else
            respond(transport::HttpServerResponse::text(200, ""));
        });
    server_->start();
  }

  SignalSettings settings(std::chrono::milliseconds delay, std::size_t queue, std::size_t batch,
                          const std::string &url = "") {
    SignalSettings s;
    s.target.url = url.empty() ? server_->base_url() + "/v1/traces" : url;
    s.target.timeout = 5s;
    s.batch = {delay, queue, batch};
    return s;
  }
};

TEST_F(BatchExporterTest, RecordsBelowTheBatchSizeLeaveTogetherAfterTheDelay) {
  auto exporter =
      std::make_shared<BatchExporter<std::string>>(io_, settings(100ms, 10, 5), join, nullptr);
  exporter->push("a");
  exporter->push("b");
  exporter->push("c");
  ASSERT_TRUE(run_until(io_, [&] { return exporter->exported() == 3; }));
  ASSERT_EQ(bodies_.size(), 1u);
  EXPECT_EQ(bodies_[0], "a,b,c");
  EXPECT_EQ(content_types_[0], "application/x-protobuf");
}

TEST_F(BatchExporterTest, AFullBatchLeavesWithoutWaitingForTheDelay) {
  auto exporter =
      std::make_shared<BatchExporter<std::string>>(io_, settings(1h, 10, 2), join, nullptr);
  for (const char *record : {"1", "2", "3", "4"})
    exporter->push(record);
  ASSERT_TRUE(run_until(io_, [&] { return exporter->exported() == 4; }));
  EXPECT_EQ(bodies_, (std::vector<std::string>{"1,2", "3,4"}));
}

TEST_F(BatchExporterTest, WhileAnExportIsInFlightTheQueueFillsAndThenDrops) {
  hold_responses_ = true;
  auto exporter =
      std::make_shared<BatchExporter<std::string>>(io_, settings(1h, 3, 2), join, nullptr);
  exporter->push("1");
  exporter->push("2");  // a full batch: in flight, unanswered
  ASSERT_TRUE(run_until(io_, [&] { return held_.size() == 1; }));
  for (const char *record : {"3", "4", "5", "6", "7"})
    exporter->push(record);  // the queue holds 3
  EXPECT_EQ(exporter->dropped_queue_full(), 2u);
  io_.restart();
  io_.poll();  // what the pushes posted: a full batch waits, but one export at a time
  EXPECT_EQ(held_.size(), 1u);
  held_[0](transport::HttpServerResponse::text(200, ""));
  ASSERT_TRUE(run_until(io_, [&] { return held_.size() == 2; }));
  EXPECT_EQ(bodies_[1], "3,4");
}

TEST_F(BatchExporterTest, AFailedExportIsDroppedCountedAndReported) {
  const std::string closed = "http://127.0.0.1:" + std::to_string(testing::free_tcp_port());
  std::size_t reported = 0;
  std::string reason;
  auto exporter = std::make_shared<BatchExporter<std::string>>(
      io_, settings(10ms, 10, 5, closed + "/v1/logs"), join,
      [&](std::size_t count, const std::string &error) {
        reported += count;
        reason = error;
      });
  exporter->push("a");
  exporter->push("b");
  ASSERT_TRUE(run_until(io_, [&] { return reported == 2; }));
  EXPECT_EQ(exporter->dropped_export_failed(), 2u);
  EXPECT_EQ(exporter->exported(), 0u);
  EXPECT_FALSE(reason.empty());
}

TEST_F(BatchExporterTest, AnErrorStatusCountsAsAFailedExport) {
  server_->stop();
  server_ = transport::HttpServer::create(
      io_, {}, [](const transport::HttpServerRequest &, auto respond) {
        respond(transport::HttpServerResponse::text(503, "busy"));
      });
  server_->start();
  std::string reason;
  auto exporter = std::make_shared<BatchExporter<std::string>>(
      io_, settings(10ms, 10, 5), join,
      [&](std::size_t, const std::string &error) { reason = error; });
  exporter->push("a");
  ASSERT_TRUE(run_until(io_, [&] { return !reason.empty(); }));
  EXPECT_NE(reason.find("HTTP 503"), std::string::npos) << reason;
}

TEST_F(BatchExporterTest, FlushSendsEverythingQueuedInOneRequest) {
  auto exporter =
      std::make_shared<BatchExporter<std::string>>(io_, settings(1h, 100, 50), join, nullptr);
  exporter->push("x");
  exporter->push("y");
  bool flushed = false;
  exporter->flush([&] { flushed = true; });
  ASSERT_TRUE(run_until(io_, [&] { return flushed; }));
  EXPECT_EQ(bodies_, (std::vector<std::string>{"x,y"}));
}

}  // namespace
}  // namespace opsup::telemetry::internal
