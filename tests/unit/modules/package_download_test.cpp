// The download behind the download_start host service, against a scripted HTTP server in
// the test process (raw sockets, so a transfer can be broken off mid-body): resumption with
// Range, a server that ignores Range, the content hash, the size cap, the offered headers.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <deque>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include "common/sha256.hpp"
#include "modules/package_download.hpp"
#include "support/temp_dir.hpp"

namespace opsup::modules {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// Answers each connection with the next scripted reply (raw bytes), then closes it; keeps
// what each request said.
class ScriptedServer {
 public:
  explicit ScriptedServer(asio::io_context &io)
      : acceptor_(io, {asio::ip::make_address("127.0.0.1"), 0}) {
    accept();
  }
  void reply(std::string raw) { replies_.push_back(std::move(raw)); }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/pkg";
  }
  const std::vector<std::string> &requests() const { return requests_; }

 private:
  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec)
        return;
      auto peer = std::make_shared<tcp::socket>(std::move(socket));
      auto buffer = std::make_shared<asio::streambuf>();
      asio::async_read_until(*peer, *buffer, "\r\n\r\n",
                             [this, peer, buffer](boost::system::error_code read_ec, std::size_t) {
                               if (read_ec)
                                 return;
                               requests_.emplace_back(asio::buffers_begin(buffer->data()),
                                                      asio::buffers_end(buffer->data()));
                               auto raw = std::make_shared<std::string>(
                                   replies_.empty() ? "HTTP/1.1 500 x\r\nContent-Length: 0\r\n\r\n"
                                                    : replies_.front());
                               if (!replies_.empty())
                                 replies_.pop_front();
                               asio::async_write(
                                   *peer, asio::buffer(*raw),
                                   [peer, raw](boost::system::error_code, std::size_t) {
                                     boost::system::error_code ignored;
                                     peer->shutdown(tcp::socket::shutdown_both, ignored);
                                     peer->close(ignored);
                                   });
                             });
      accept();
    });
  }

  tcp::acceptor acceptor_;
  std::deque<std::string> replies_;
  std::vector<std::string> requests_;
};

std::string response(const std::string &status, const std::string &body,
                     const std::string &extra_headers = "", std::optional<size_t> length = {}) {
  return "HTTP/1.1 " + status +
         "\r\nContent-Length: " + std::to_string(length.value_or(body.size())) + "\r\n" +
         extra_headers + "Connection: close\r\n\r\n" + body;
}

class PackageDownloadTest : public ::testing::Test {
 protected:
  const std::string content_ = "0123456789abcdefghij";  // 20 bytes
  asio::io_context io_;
  asio::thread_pool pool_{1};
  ScriptedServer server_{io_};
  testing::TempDir dir_;

  PackageDownloadSpec spec() {
    PackageDownloadSpec spec;
    spec.url = server_.url();
    spec.headers = {{"X-Token", "abc"}};
    spec.directory = dir_.path() / "packages" / "addon";
    spec.file_name = "addon";
    spec.sha256 = common::sha256(content_);
    spec.max_bytes = 1000;
    return spec;
  }

  // Runs one download to its end; the outcome, or nullopt at the deadline.
  std::optional<PackageDownloadOutcome> run(
      PackageDownloadSpec spec, std::vector<PackageDownloadProgress> *progress = nullptr) {
    std::optional<PackageDownloadOutcome> outcome;
    auto download = PackageDownload::start(
        io_, pool_, std::move(spec),
        [progress](const PackageDownloadProgress &now) {
          if (progress != nullptr)
            progress->push_back(now);
        },
        [&](const PackageDownloadOutcome &done) { outcome = done; });
    const auto until = std::chrono::steady_clock::now() + 20s;
    auto guard = asio::make_work_guard(io_);
    while (!outcome && std::chrono::steady_clock::now() < until)
      io_.run_one_for(200ms);
    return outcome;
  }

  std::filesystem::path partial() {
    return partial_download_path(dir_.path() / "packages" / "addon", common::sha256(content_));
  }
};

TEST_F(PackageDownloadTest, DownloadsChecksAndNamesTheFileWithTheOfferedHeaders) {
  server_.reply(response("200 OK", content_));
  std::vector<PackageDownloadProgress> progress;
  const auto outcome = run(spec(), &progress);
  ASSERT_TRUE(outcome);
  ASSERT_TRUE(outcome->ok) << outcome->error;
  EXPECT_EQ(outcome->path, dir_.path() / "packages" / "addon" / "addon");
  EXPECT_EQ(testing::read_file(outcome->path), content_);
  EXPECT_FALSE(std::filesystem::exists(partial()));
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back().received, 20u);
  EXPECT_EQ(progress.back().total, 20u);
  ASSERT_EQ(server_.requests().size(), 1u);
  EXPECT_NE(server_.requests()[0].find("X-Token: abc\r\n"), std::string::npos);
  EXPECT_EQ(server_.requests()[0].find("Range:"), std::string::npos);
}

TEST_F(PackageDownloadTest, ABrokenOffTransferIsKeptAndResumedWithRange) {
  // The server promises 20 bytes, sends 8 and closes.
  server_.reply(response("200 OK", content_.substr(0, 8), "", 20));
  auto outcome = run(spec());
  ASSERT_TRUE(outcome);
  EXPECT_FALSE(outcome->ok);
  EXPECT_TRUE(outcome->resumable);
  EXPECT_NE(outcome->error.find("interrupted after 8 bytes"), std::string::npos) << outcome->error;
  EXPECT_EQ(testing::read_file(partial()), content_.substr(0, 8));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "packages" / "addon" / "addon"));

  server_.reply(
      response("206 Partial Content", content_.substr(8), "Content-Range: bytes 8-19/20\r\n"));
  outcome = run(spec());
  ASSERT_TRUE(outcome);
  ASSERT_TRUE(outcome->ok) << outcome->error;
  EXPECT_EQ(testing::read_file(outcome->path), content_);
  ASSERT_EQ(server_.requests().size(), 2u);
  EXPECT_NE(server_.requests()[1].find("Range: bytes=8-\r\n"), std::string::npos)
      << server_.requests()[1];
}

TEST_F(PackageDownloadTest, AServerIgnoringRangeSendsTheWholeFileAgain) {
  std::filesystem::create_directories(partial().parent_path());
  std::ofstream(partial(), std::ios::binary) << "01234";
  server_.reply(response("200 OK", content_));
  const auto outcome = run(spec());
  ASSERT_TRUE(outcome);
  ASSERT_TRUE(outcome->ok) << outcome->error;
  EXPECT_EQ(testing::read_file(outcome->path), content_);
  EXPECT_NE(server_.requests()[0].find("Range: bytes=5-\r\n"), std::string::npos);
}

TEST_F(PackageDownloadTest, AContentHashMismatchKeepsNothing) {
  server_.reply(response("200 OK", "not the offered content"));
  const auto outcome = run(spec());
  ASSERT_TRUE(outcome);
  EXPECT_FALSE(outcome->ok);
  EXPECT_FALSE(outcome->resumable);
  EXPECT_NE(outcome->error.find("content hash mismatch"), std::string::npos) << outcome->error;
  // The partial file goes on the pool; wait for it.
  const auto until = std::chrono::steady_clock::now() + 20s;
  while (std::filesystem::exists(partial()) && std::chrono::steady_clock::now() < until)
    io_.run_one_for(50ms);
  EXPECT_FALSE(std::filesystem::exists(partial()));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "packages" / "addon" / "addon"));
}

TEST_F(PackageDownloadTest, AFileOverTheCapIsRefused) {
  server_.reply(response("200 OK", content_));
  PackageDownloadSpec small = spec();
  small.max_bytes = 10;
  const auto outcome = run(small);
  ASSERT_TRUE(outcome);
  EXPECT_FALSE(outcome->ok);
  EXPECT_FALSE(outcome->resumable);
  EXPECT_NE(outcome->error.find("larger than the limit of 10 bytes"), std::string::npos)
      << outcome->error;
}

TEST_F(PackageDownloadTest, AClientErrorIsFinalAndAServerErrorMayPass) {
  server_.reply(response("404 Not Found", ""));
  auto outcome = run(spec());
  ASSERT_TRUE(outcome);
  EXPECT_FALSE(outcome->resumable);
  EXPECT_NE(outcome->error.find("HTTP 404"), std::string::npos) << outcome->error;
  server_.reply(response("503 Service Unavailable", ""));
  outcome = run(spec());
  ASSERT_TRUE(outcome);
  EXPECT_TRUE(outcome->resumable);
  EXPECT_NE(outcome->error.find("HTTP 503"), std::string::npos) << outcome->error;
}

}  // namespace
}  // namespace opsup::modules
