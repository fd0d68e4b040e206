#include "common/redact.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace opsup::common {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Headers that describe the request and never carry credentials.
constexpr std::array<std::string_view, 6> kPublicHeaders = {"Content-Type", "Content-Encoding",
                                                            "Accept",       "Accept-Encoding",
                                                            "User-Agent",   "OpAMP-Instance-UID"};

}  // namespace

std::string redact(std::string_view secret) {
  return secret.empty() ? std::string() : std::string(kRedacted);
}

std::string redact_header_value(std::string_view header_name, std::string_view value) {
  for (std::string_view name : kPublicHeaders) {
    if (iequals(name, header_name))
      return std::string(value);
  }
  return redact(value);
}

}  // namespace opsup::common
