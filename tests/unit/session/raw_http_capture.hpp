// A bare HTTP/1.1 endpoint (Beast, loopback) that keeps each request exactly as it
// arrived on the wire, before any decoding. Answers every POST with a ServerToAgent.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace opsup::testing {

class RawHttpCapture {
 public:
  explicit RawHttpCapture(boost::asio::io_context &io);
  std::string url() const;
  using Request = boost::beast::http::request<boost::beast::http::string_body>;
  // Shared with the connections, which may outlive this object in the io_context.
  const std::vector<Request> &requests() const { return *requests_; }

 private:
  std::shared_ptr<std::vector<Request>> requests_ = std::make_shared<std::vector<Request>>();
  void accept();
  boost::asio::ip::tcp::acceptor acceptor_;
};

// Inflates a gzip stream with zlib; throws std::runtime_error if it is not one.
std::string gunzip(const std::string &compressed);

}  // namespace opsup::testing
