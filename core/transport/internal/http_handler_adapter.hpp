// Runs a public HttpServerHandlerFn on a request read by an HttpSession.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <memory>

#include "transport/http_server.hpp"
#include "transport/internal/http_session.hpp"

namespace opsup::transport::internal {

HeaderList to_header_list(const http::fields &fields);

// Builds the HttpServerRequest, calls `handler` and routes its `respond` back to the
// session through `executor`. A handler that throws answers 500.
void invoke_http_handler(const HttpServerHandlerFn &handler,
                         const std::shared_ptr<HttpSessionBase> &session, RawRequest &&request,
                         const asio::any_io_executor &executor);

}  // namespace opsup::transport::internal
