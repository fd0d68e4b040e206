// One OTLP/HTTP export: POST a protobuf body to the target, off the loop (the core's
// asynchronous HTTP client, TLS verification on), and say whether it was taken.
#pragma once

#include <functional>
#include <string>

#include "telemetry/telemetry_settings.hpp"

namespace boost::asio {
class io_context;
}

namespace opsup::telemetry::internal {

// `done` runs on the io_context with "" when the receiver answered 2xx, else what went
// wrong (the transport error or the HTTP status, naming the URL).
void post_otlp(boost::asio::io_context &io, const OtlpTarget &target, std::string body,
               std::function<void(const std::string &error)> done);

}  // namespace opsup::telemetry::internal
