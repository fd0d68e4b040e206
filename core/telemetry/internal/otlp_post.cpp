#include "telemetry/internal/otlp_post.hpp"

#include "transport/http_client.hpp"
#include "transport/internal/gzip.hpp"

namespace opsup::telemetry::internal {

void post_otlp(boost::asio::io_context &io, const OtlpTarget &target, std::string body,
               std::function<void(const std::string &error)> done) {
  transport::HttpRequest request;
  request.method = "POST";
  request.url = target.url;
  request.headers = target.headers;
  request.headers.push_back({"Content-Type", "application/x-protobuf"});
  if (target.gzip) {
    request.headers.push_back({"Content-Encoding", "gzip"});
    body = transport::internal::gzip_compress(body);
  }
  request.body = std::move(body);
  request.tls = target.tls;
  request.timeout = target.timeout;
  request.max_response_bytes = 1024 * 1024;
  transport::HttpCallbacks callbacks;
  callbacks.on_complete = [url = target.url,
                           done = std::move(done)](transport::HttpResponse response) {
    if (response.status >= 200 && response.status < 300) {
      done("");
    } else if (response.status == 0) {
      done(response.error.empty() ? "no response from " + url : response.error);
    } else {
      done(url + " answered HTTP " + std::to_string(response.status));
    }
  };
  transport::http_request(io, std::move(request), std::move(callbacks));
}

}  // namespace opsup::telemetry::internal
