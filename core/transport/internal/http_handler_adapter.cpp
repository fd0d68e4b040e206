#include "transport/internal/http_handler_adapter.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/post.hpp>

namespace opsup::transport::internal {

HeaderList to_header_list(const http::fields &fields) {
  HeaderList headers;
  for (const auto &field : fields) {
    headers.push_back({std::string(field.name_string()), std::string(field.value())});
  }
  return headers;
}

void invoke_http_handler(const HttpServerHandlerFn &handler,
                         const std::shared_ptr<HttpSessionBase> &session, RawRequest &&request,
                         const asio::any_io_executor &executor) {
  HttpServerRequest view;
  view.method = std::string(request.method_string());
  view.target = std::string(request.target());
  const auto question = view.target.find('?');
  view.path = view.target.substr(0, question);
  if (question != std::string::npos)
    view.query = view.target.substr(question + 1);
  view.headers = to_header_list(request);
  view.body = std::move(request.body());
  view.peer = session->peer();
  view.peer_credentials = session->peer_credentials();
  view.tls = session->tls();

  // `respond` keeps the session alive: nothing else does while the handler works.
  auto responded = std::make_shared<std::atomic<bool>>(false);
  auto respond = [session, executor, responded](HttpServerResponse response) {
    if (responded->exchange(true))
      return;
    asio::post(executor, [session, response = std::move(response)]() mutable {
      session->respond(std::move(response));
    });
  };
  if (!handler)
    return respond(HttpServerResponse::text(404, "not found\n"));
  try {
    handler(view, respond);
  } catch (const std::exception &error) {
    spdlog::error("HTTP handler for {} {} from {} threw: {}", view.method, view.path, view.peer,
                  error.what());
    respond(HttpServerResponse::text(500, "internal server error\n"));
  }
}

}  // namespace opsup::transport::internal
