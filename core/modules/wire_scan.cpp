#include "modules/wire_scan.hpp"

#include <algorithm>
#include <limits>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

namespace opsup::modules {

using google::protobuf::internal::WireFormatLite;

std::optional<std::vector<WireField>> scan_wire_fields(std::string_view message) {
  if (message.size() > static_cast<size_t>(std::numeric_limits<int>::max()))
    return std::nullopt;
  google::protobuf::io::CodedInputStream input(reinterpret_cast<const uint8_t *>(message.data()),
                                               static_cast<int>(message.size()));
  std::vector<WireField> fields;
  while (true) {
    const int field_start = input.CurrentPosition();
    const uint32_t tag = input.ReadTag();
    if (tag == 0) {
      // 0 is both "end of input" and an invalid tag; only the former is well-formed.
      if (input.CurrentPosition() != static_cast<int>(message.size()))
        return std::nullopt;
      break;
    }
    WireField field;
    field.number = static_cast<uint32_t>(WireFormatLite::GetTagFieldNumber(tag));
    if (field.number == 0)
      return std::nullopt;
    if (WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      uint32_t length = 0;
      if (!input.ReadVarint32(&length))
        return std::nullopt;
      const int start = input.CurrentPosition();
      if (length > message.size() - static_cast<size_t>(start))
        return std::nullopt;
      if (!input.Skip(static_cast<int>(length)))
        return std::nullopt;
      field.bytes = message.substr(static_cast<size_t>(start), length);
      field.length_delimited = true;
    } else if (!WireFormatLite::SkipField(&input, tag)) {
      return std::nullopt;
    }
    field.encoded = message.substr(static_cast<size_t>(field_start),
                                   static_cast<size_t>(input.CurrentPosition() - field_start));
    fields.push_back(field);
  }
  return fields;
}

std::optional<std::vector<uint32_t>> top_level_field_numbers(std::string_view message) {
  const auto fields = scan_wire_fields(message);
  if (!fields)
    return std::nullopt;
  std::vector<uint32_t> numbers;
  numbers.reserve(fields->size());
  for (const WireField &field : *fields)
    numbers.push_back(field.number);
  std::sort(numbers.begin(), numbers.end());
  numbers.erase(std::unique(numbers.begin(), numbers.end()), numbers.end());
  return numbers;
}

}  // namespace opsup::modules
