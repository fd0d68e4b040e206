#include "raw_http_capture.hpp"

#include <zlib.h>

#include <stdexcept>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "opamp.pb.h"

namespace opsup::testing {
namespace {

namespace http = boost::beast::http;
using boost::asio::ip::tcp;

// Reads requests off one connection and answers each with a ServerToAgent.
class CaptureConnection : public std::enable_shared_from_this<CaptureConnection> {
 public:
  CaptureConnection(tcp::socket socket,
                    std::shared_ptr<std::vector<http::request<http::string_body>>> requests)
      : socket_(std::move(socket)), requests_(std::move(requests)) {}

  void read() {
    request_ = {};
    http::async_read(socket_, buffer_, request_,
                     [self = shared_from_this()](boost::system::error_code error, std::size_t) {
                       if (error)
                         return;
                       self->requests_->push_back(self->request_);
                       self->respond();
                     });
  }

 private:
  void respond() {
    ::opamp::proto::v1::ServerToAgent reply;
    reply.set_capabilities(1);
    response_ = {};
    response_.result(http::status::ok);
    response_.version(11);
    response_.set(http::field::content_type, "application/x-protobuf");
    response_.body() = reply.SerializeAsString();
    response_.keep_alive(true);
    response_.prepare_payload();
    http::async_write(socket_, response_,
                      [self = shared_from_this()](boost::system::error_code error, std::size_t) {
                        if (!error)
                          self->read();
                      });
  }

  tcp::socket socket_;
  std::shared_ptr<std::vector<http::request<http::string_body>>> requests_;
  boost::beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
};

}  // namespace

RawHttpCapture::RawHttpCapture(boost::asio::io_context &io)
    : acceptor_(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)) {
  accept();
}

std::string RawHttpCapture::url() const {
  return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/v1/opamp";
}

void RawHttpCapture::accept() {
  acceptor_.async_accept([this](boost::system::error_code error, tcp::socket socket) {
    if (error)
      return;
    std::make_shared<CaptureConnection>(std::move(socket), requests_)->read();
    accept();
  });
}

std::string gunzip(const std::string &compressed) {
  z_stream stream{};
  if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK)
    throw std::runtime_error("inflateInit2");
  stream.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(compressed.data()));
  stream.avail_in = static_cast<uInt>(compressed.size());
  std::string output;
  char chunk[16384];
  int result = Z_OK;
  while (result == Z_OK) {
    stream.next_out = reinterpret_cast<Bytef *>(chunk);
    stream.avail_out = sizeof(chunk);
    result = inflate(&stream, Z_NO_FLUSH);
    output.append(chunk, sizeof(chunk) - stream.avail_out);
  }
  inflateEnd(&stream);
  if (result != Z_STREAM_END)
    throw std::runtime_error("not a complete gzip stream");
  return output;
}

}  // namespace opsup::testing
