// Stream types shared by the client and server sides. One protocol-agnostic socket type
// carries TCP and Unix-domain connections, so each side has two stream types: plain and TLS.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/rate_policy.hpp>

namespace opsup::transport::internal {

namespace asio = boost::asio;
namespace beast = boost::beast;

using GenericProtocol = asio::generic::stream_protocol;
using PlainStream =
    beast::basic_stream<GenericProtocol, asio::any_io_executor, beast::unlimited_rate_policy>;
using TlsStream = asio::ssl::stream<PlainStream>;

}  // namespace opsup::transport::internal
