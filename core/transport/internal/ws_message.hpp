// The OpAMP WebSocket message header: a varint 0 before the protobuf bytes.
#pragma once

#include <string>
#include <string_view>

namespace opsup::transport::internal {

// Largest header a sender may use (a 64-bit varint).
inline constexpr std::size_t kMaxWsHeaderBytes = 10;

std::string encode_ws_message(std::string_view payload);

// The protobuf bytes of a received message. A leading varint 0 (in any of its 1-10 byte
// encodings) is removed; data that does not start with one is the legacy headerless form
// and is returned whole, as opamp-go does.
std::string_view decode_ws_message(std::string_view data);

}  // namespace opsup::transport::internal
