#include "support/http.hpp"

#include <boost/asio/io_context.hpp>

#include "transport/http_client.hpp"

namespace opsup::testing {

SimpleHttpResponse http_send(const std::string &method, const std::string &url,
                             const std::string &body, const std::string &content_type,
                             std::chrono::milliseconds timeout) {
  boost::asio::io_context io;
  transport::HttpRequest request;
  request.method = method;
  request.url = url;
  request.body = body;
  request.timeout = timeout;
  if (!content_type.empty() && (!body.empty() || method != "GET")) {
    request.headers.push_back({"Content-Type", content_type});
  }
  SimpleHttpResponse result;
  bool completed = false;
  transport::HttpCallbacks callbacks;
  callbacks.on_complete = [&](transport::HttpResponse response) {
    completed = true;
    result.status = response.status;
    result.body = std::move(response.body);
    result.error = std::move(response.error);
  };
  try {
    transport::http_request(io, std::move(request), std::move(callbacks));
    io.run();
  } catch (const std::exception &e) {
    result.error = e.what();
  }
  if (!completed && result.error.empty())
    result.error = "no response from " + url;
  return result;
}

SimpleHttpResponse http_get(const std::string &url, std::chrono::milliseconds timeout) {
  return http_send("GET", url, "", "", timeout);
}

SimpleHttpResponse http_post(const std::string &url, const std::string &body,
                             const std::string &content_type, std::chrono::milliseconds timeout) {
  return http_send("POST", url, body, content_type, timeout);
}

}  // namespace opsup::testing
