// find_wire_problem (wire_scan.hpp): a small wire-format walker that says what is wrong.
#include <cstddef>
#include <string>
#include <vector>

#include "modules/wire_scan.hpp"

namespace opsup::modules {
namespace {

constexpr uint32_t kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kStartGroup = 3, kEndGroup = 4,
                   kFixed32 = 5;
// Bytes the walks of nested payloads may visit in all (each level reads its payload
// again), so a hostile message cannot make the diagnosis expensive.
constexpr std::size_t kNestedWalkBudgetBytes = 64 * 1024 * 1024;

enum class Shape { kMessage, kNotAMessage, kTooDeep };

// Reads a varint at `pos`. false: truncated (`truncated` set) or longer than 10 bytes.
bool read_varint(std::string_view bytes, std::size_t &pos, uint64_t &value, bool &truncated) {
  value = 0;
  truncated = false;
  for (int shift = 0; shift < 70; shift += 7) {
    if (pos >= bytes.size()) {
      truncated = true;
      return false;
    }
    const auto byte = static_cast<unsigned char>(bytes[pos++]);
    if (shift < 64)
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0)
      return true;
  }
  return false;
}

class Walker {
 public:
  explicit Walker(int max_depth) : max_depth_(max_depth) {}
  const std::string &problem() const { return problem_; }

  // Walks `bytes`, found at `offset` of the whole message, as a message `depth` levels
  // deep. Records the first problem in problem() unless `quiet` (a payload that may be
  // a string: the caller only wants its shape).
  Shape walk(std::string_view bytes, std::size_t offset, int depth, bool quiet) {
    if (bytes.size() > budget_)
      return Shape::kNotAMessage;  // out of budget: stop looking deeper
    budget_ -= bytes.size();
    const bool too_deep = depth > max_depth_;
    std::size_t pos = 0;
    std::vector<uint32_t> open_groups;
    const auto problem = [&](std::size_t at, std::string what) {
      if (!quiet)
        problem_ = what + " at byte " + std::to_string(offset + at);
      return Shape::kNotAMessage;
    };
    while (pos < bytes.size()) {
      const std::size_t start = pos;
      uint64_t tag = 0;
      bool truncated = false;
      if (!read_varint(bytes, pos, tag, truncated))
        return problem(start, truncated ? "truncated tag" : "tag varint longer than 10 bytes");
      if (tag > 0xffffffffu)
        return problem(start, "tag larger than 32 bits");
      const auto number = static_cast<uint32_t>(tag >> 3);
      const auto type = static_cast<uint32_t>(tag & 7);
      const std::string field = "field " + std::to_string(number);
      if (number == 0)
        return problem(start, "field number 0");
      switch (type) {
        case kVarint: {
          uint64_t value = 0;
          if (!read_varint(bytes, pos, value, truncated)) {
            return problem(
                start, std::string(truncated ? "truncated varint" : "varint longer than 10 bytes") +
                           " in " + field);
          }
          break;
        }
        case kFixed64:
        case kFixed32: {
          const std::size_t size = type == kFixed64 ? 8 : 4;
          if (bytes.size() - pos < size)
            return problem(start, "truncated fixed" + std::to_string(size * 8) + " " + field);
          pos += size;
          break;
        }
        case kLengthDelimited: {
          uint64_t length = 0;
          if (!read_varint(bytes, pos, length, truncated))
            return problem(start, "truncated length of " + field);
          if (length > bytes.size() - pos) {
            return problem(start, field + " needs " + std::to_string(length) + " bytes, only " +
                                      std::to_string(bytes.size() - pos) + " left");
          }
          const auto size = static_cast<std::size_t>(length);
          // Without the schema the payload may be a string: it is only looked into for
          // nesting, and counts as a nested message only when it walks as one.
          if (!too_deep && size > 0 &&
              walk(bytes.substr(pos, size), offset + pos, depth + 1, true) == Shape::kTooDeep) {
            if (!quiet) {
              problem_ = "messages nested deeper than " + std::to_string(max_depth_) +
                         " levels (the field at byte " + std::to_string(offset + start) +
                         " starts the chain)";
            }
            return Shape::kTooDeep;
          }
          pos += size;
          break;
        }
        case kStartGroup:
          open_groups.push_back(number);
          break;
        case kEndGroup:
          if (open_groups.empty() || open_groups.back() != number)
            return problem(start, "end of group " + std::to_string(number) + " without its start");
          open_groups.pop_back();
          break;
        default:
          return problem(start, "invalid wire type " + std::to_string(type) + " (" + field + ")");
      }
    }
    if (!open_groups.empty())
      return problem(bytes.size(), "group " + std::to_string(open_groups.back()) + " not closed");
    // Well-formed; one level beyond the limit means protobuf would refuse it.
    return too_deep ? Shape::kTooDeep : Shape::kMessage;
  }

 private:
  int max_depth_;
  std::size_t budget_ = kNestedWalkBudgetBytes;
  std::string problem_;
};

}  // namespace

std::optional<std::string> find_wire_problem(std::string_view message, int max_depth) {
  Walker walker(max_depth);
  if (walker.walk(message, 0, 0, false) == Shape::kMessage)
    return std::nullopt;
  if (walker.problem().empty())
    return "messages nested deeper than " + std::to_string(max_depth) + " levels";
  return walker.problem();
}

}  // namespace opsup::modules
