// Reads the top level of a serialized protobuf message without parsing it: which field
// numbers it holds and, for length-delimited fields, their bytes. Routing needs no more.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace opsup::modules {

struct WireField {
  uint32_t number = 0;
  // The payload of a length-delimited field (a view into the scanned bytes), else empty.
  std::string_view bytes;
  bool length_delimited = false;
  // The field's whole encoding (tag, length, payload), for copying it unchanged.
  std::string_view encoded;
};

// Every top-level field occurrence in wire order, or nullopt when `message` is not
// well-formed protobuf at the top level.
std::optional<std::vector<WireField>> scan_wire_fields(std::string_view message);

// The distinct top-level field numbers of `message`, sorted; nullopt when malformed.
std::optional<std::vector<uint32_t>> top_level_field_numbers(std::string_view message);

}  // namespace opsup::modules
