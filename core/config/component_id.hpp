// Collector component ids ("type" or "type/name"), as used for `extensions` and `server.auth`.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace opsup::config {

struct ComponentId {
  std::string type;
  std::string name;  // empty for a bare "type"
};

// Parses like component.ID.UnmarshalText: type matches [a-zA-Z][0-9a-zA-Z_]{0,62}; the
// optional name after '/' is non-empty, at most 1024 bytes, without '/', spaces, control
// or symbol characters. On failure `error` says why.
std::optional<ComponentId> parse_component_id(std::string_view text, std::string &error);

}  // namespace opsup::config
