#include "uuid.hpp"

#include "common/uuid.hpp"

namespace opsup::fakeotelcol {

// The real extension takes a UUID or a ULID for instance_uid, and makes a UUIDv7 when
// none is given; the supervisor's own UUID code does all three.
Uid new_uuid_v7() {
  return common::generate_uuid_v7();
}

std::optional<Uid> parse_uid(const std::string &text) {
  return common::parse_instance_id(text);
}

std::string format_uuid(const Uid &uid) {
  return common::format_uuid(uid);
}

std::string uid_bytes(const Uid &uid) {
  return std::string(uid.begin(), uid.end());
}

}  // namespace opsup::fakeotelcol
