#include "transport/transport_types.hpp"

#include <boost/beast/core/string.hpp>

#include "transport/http_client.hpp"
#include "transport/http_server.hpp"

namespace opsup::transport {

std::optional<std::string> find_header(const HeaderList &headers, std::string_view name) {
  for (const auto &header : headers) {
    if (boost::beast::iequals(header.name, name))
      return header.value;
  }
  return std::nullopt;
}

std::optional<std::string> RequestInfo::header(std::string_view name) const {
  return find_header(headers, name);
}

std::optional<std::string> HttpResponse::header(std::string_view name) const {
  return find_header(headers, name);
}

std::optional<std::string> HttpServerRequest::header(std::string_view name) const {
  return find_header(headers, name);
}

HttpServerResponse HttpServerResponse::text(int status, std::string body,
                                            std::string content_type) {
  HttpServerResponse response;
  response.status = status;
  response.body = std::move(body);
  response.headers.push_back({"Content-Type", std::move(content_type)});
  return response;
}

}  // namespace opsup::transport
