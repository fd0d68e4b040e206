// A small asynchronous HTTP(S) client for everything that is not the OpAMP stream:
// OAuth2 token requests, package downloads, OTLP export.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "transport/transport_types.hpp"

namespace boost::asio {
class io_context;
}

namespace opsup::transport {

struct HttpRequest {
  std::string method = "GET";
  std::string url;  // http:// or https://
  HeaderList headers;
  std::string body;
  ClientTlsSettings tls;
  // Bounds connecting and each wait for response data (a download that keeps moving is
  // not cut off).
  std::chrono::milliseconds timeout{30000};
  std::size_t max_response_bytes = kDefaultMaxMessageBytes;
};

struct HttpResponse {
  int status = 0;  // 0 when no response arrived; see error
  HeaderList headers;
  std::string body;
  std::string error;  // transport-level failure, naming the peer

  std::optional<std::string> header(std::string_view name) const;
};

// Streams the body to `on_body_chunk` when set (downloads); then body stays empty and a
// Content-Encoding is left as received. Otherwise a gzip body is inflated.
struct HttpCallbacks {
  std::function<void(HttpResponse)> on_complete;  // always called exactly once
  std::function<void(std::string_view chunk, uint64_t received, uint64_t total)> on_body_chunk;
  // Optional: sees the status and headers (body still empty) before any body chunk;
  // returning false ends the request there (on_complete then reports the error).
  std::function<bool(const HttpResponse &head)> on_header;
  // Optional: asked after each body chunk; returning false ends the request (cancellation).
  std::function<bool()> keep_going;
};

// Starts a request; callbacks run on the io_context thread. Follows no redirects.
void http_request(boost::asio::io_context &io, HttpRequest request, HttpCallbacks callbacks);

}  // namespace opsup::transport
