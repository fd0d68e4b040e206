#include "transport/internal/ws_message.hpp"

namespace opsup::transport::internal {

std::string encode_ws_message(std::string_view payload) {
  std::string out;
  out.reserve(payload.size() + 1);
  out.push_back('\0');
  out.append(payload);
  return out;
}

std::string_view decode_ws_message(std::string_view data) {
  // A varint 0 is 0x00, or 0x80 repeated (continuation, zero bits) and ending in 0x00.
  for (std::size_t i = 0; i < data.size() && i < kMaxWsHeaderBytes; ++i) {
    const auto byte = static_cast<unsigned char>(data[i]);
    if (byte == 0x00)
      return data.substr(i + 1);
    if (byte != 0x80)
      break;
  }
  return data;
}

}  // namespace opsup::transport::internal
