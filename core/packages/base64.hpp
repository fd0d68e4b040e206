// Strict standard base64 (RFC 4648 section 4, with padding), as cosign writes signatures
// and certificates.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace opsup::packages {

// The decoded bytes, or nullopt when `text` is empty, has a length that is not a multiple
// of 4, a character outside the alphabet, misplaced padding or non-zero padding bits.
// Callers trim surrounding whitespace first; none is accepted inside.
std::optional<std::string> decode_base64(std::string_view text);

}  // namespace opsup::packages
