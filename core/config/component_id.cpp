#include "config/component_id.hpp"

#include <cctype>

namespace opsup::config {
namespace {

bool valid_type(std::string_view type) {
  if (type.empty() || type.size() > 63)
    return false;
  if (!std::isalpha(static_cast<unsigned char>(type.front())))
    return false;
  for (char c : type) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_')
      return false;
  }
  return true;
}

// ASCII approximation of [^\pZ\pC\pS/]: no space, control or symbol (Sm, Sc, Sk, So).
bool valid_name_char(unsigned char c) {
  if (c >= 0x80)
    return true;
  if (c <= 0x20 || c == 0x7F || c == '/')
    return false;
  static constexpr std::string_view kSymbols = "$+<=>^`|~";
  return kSymbols.find(static_cast<char>(c)) == std::string_view::npos;
}

}  // namespace

std::optional<ComponentId> parse_component_id(std::string_view text, std::string &error) {
  const auto slash = text.find('/');
  ComponentId id;
  id.type = std::string(text.substr(0, slash));
  if (!valid_type(id.type)) {
    error = "invalid component type \"" + id.type +
            "\": it must start with a letter and contain only letters, digits and _ "
            "(at most 63 characters)";
    return std::nullopt;
  }
  if (slash == std::string_view::npos)
    return id;
  id.name = std::string(text.substr(slash + 1));
  if (id.name.empty()) {
    error = "the name after \"" + id.type + "/\" must not be empty";
    return std::nullopt;
  }
  if (id.name.size() > 1024) {
    error = "the component name is longer than 1024 characters";
    return std::nullopt;
  }
  for (unsigned char c : id.name) {
    if (!valid_name_char(c)) {
      error = "invalid component name \"" + id.name +
              "\": no '/', spaces, control characters or symbols";
      return std::nullopt;
    }
  }
  return id;
}

}  // namespace opsup::config
