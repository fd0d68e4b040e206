// Reads the top level of a serialized protobuf message without parsing it: which field
// numbers it holds and, for length-delimited fields, their bytes. Routing needs no more.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
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

// Protobuf's own parser only says "no". The first thing that makes `message` malformed on
// the wire, with its byte offset: a truncated varint, tag or fixed-size field, a length
// running past the end, an invalid wire type, field number 0, an unbalanced group, or
// messages nested deeper than `max_depth` (protobuf refuses more than 100). Without the
// schema, a length-delimited payload is walked as a message only when it is well-formed
// as one, so a problem inside a nested message is not found here. nullopt: no problem.
std::optional<std::string> find_wire_problem(std::string_view message, int max_depth = 100);

}  // namespace opsup::modules
