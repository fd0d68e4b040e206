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

std::string url_for_logs(std::string_view url) {
  const std::size_t scheme_end = url.find("://");
  const std::size_t authority_start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  const std::size_t authority_end = url.find_first_of("/?#", authority_start);
  const std::string_view authority = url.substr(
      authority_start, authority_end == std::string_view::npos ? std::string_view::npos
                                                               : authority_end - authority_start);
  const std::size_t at = authority.rfind('@');
  if (at == std::string_view::npos)
    return std::string(url);
  std::string result(url.substr(0, authority_start));
  result += kRedacted;
  result += url.substr(authority_start + at);
  return result;
}

}  // namespace opsup::common
