// Blocking HTTP helpers for tests, built on opsup_transport's http_request.
#pragma once

#include <chrono>
#include <string>

namespace opsup::testing {

struct SimpleHttpResponse {
  int status = 0;  // 0 when no response arrived
  std::string body;
  std::string error;  // transport-level failure
};

SimpleHttpResponse http_get(const std::string &url,
                            std::chrono::milliseconds timeout = std::chrono::seconds(10));
SimpleHttpResponse http_post(const std::string &url, const std::string &body,
                             const std::string &content_type = "application/json",
                             std::chrono::milliseconds timeout = std::chrono::seconds(10));
// Any method (PUT, DELETE, ...).
SimpleHttpResponse http_send(const std::string &method, const std::string &url,
                             const std::string &body, const std::string &content_type,
                             std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace opsup::testing
