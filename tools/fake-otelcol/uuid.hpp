// Instance UIDs: 16 bytes, written as a UUID (or read from a ULID) like the opamp extension.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace opsup::fakeotelcol {

using Uid = std::array<uint8_t, 16>;

Uid new_uuid_v7();
// Accepts "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (also without dashes) or a 26-char ULID.
std::optional<Uid> parse_uid(const std::string &text);
std::string format_uuid(const Uid &uid);
std::string uid_bytes(const Uid &uid);

}  // namespace opsup::fakeotelcol
