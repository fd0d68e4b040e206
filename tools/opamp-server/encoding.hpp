// Byte encodings the server shows and accepts: hex, base64, UUID strings, UTF-8 checks.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include "common/uuid.hpp"

namespace opsup::opamp_server {

using common::from_hex;
using common::to_hex;  // lowercase

std::string base64_encode(std::string_view bytes);
// Standard alphabet with padding; whitespace is ignored. nullopt when malformed.
std::optional<std::string> base64_decode(std::string_view text);

// 16 bytes → canonical lowercase UUID "0190a1b2-...". Other sizes → lowercase hex, so that
// agents with non-standard instance_uid values are still tracked under a stable key.
std::string uid_to_string(std::string_view uid_bytes);
// Canonical UUID (any case) or 32 hex digits → 16 bytes; nullopt otherwise.
std::optional<std::string> uid_from_string(std::string_view text);
// A fresh UUIDv7 (16 bytes): time-ordered, random tail.
std::string new_uuid_v7();

bool is_valid_utf8(std::string_view text);

// `text` cut to at most `max_bytes` (never inside a UTF-8 sequence) followed by "…" when it
// is longer; unchanged otherwise.
std::string clip_utf8(std::string text, std::size_t max_bytes);

}  // namespace opsup::opamp_server
