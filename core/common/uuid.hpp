// Instance UIDs: 16 bytes, UUIDv7 when generated here (as the Go supervisor does).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace opsup::common {

using Uuid = std::array<uint8_t, 16>;

// A new UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then random bits from OpenSSL's
// RAND_bytes. Throws std::runtime_error if the random generator fails.
Uuid generate_uuid_v7();

// Accepts what Go's uuid.Parse accepts: "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", with
// "urn:uuid:" prefix or {braces}, or 32 hex digits. nullopt otherwise.
std::optional<Uuid> parse_uuid(std::string_view text);

// A 26-character ULID (Crockford base32), as older supervisors persisted.
std::optional<Uuid> parse_ulid(std::string_view text);

// parse_uuid, then parse_ulid.
std::optional<Uuid> parse_instance_id(std::string_view text);

// Canonical lowercase "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx".
std::string format_uuid(const Uuid &uuid);

// Lowercase hex without separators (for hashes in persistent_state.yaml).
std::string to_hex(std::string_view bytes);
// nullopt unless `hex` has an even number of hex digits.
std::optional<std::string> from_hex(std::string_view hex);

}  // namespace opsup::common
