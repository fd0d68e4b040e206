// An endpoint URL fit for a log line: its userinfo (user:password@) replaced by "***@".
// Header-only, like hex.hpp, so every module compiles its own copy.
#pragma once

#include <string>
#include <string_view>

namespace opsup::plugins {

inline std::string redact_endpoint(std::string_view endpoint) {
  const size_t scheme_end = endpoint.find("://");
  const size_t start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  const size_t authority_end = endpoint.find_first_of("/?#", start);
  const std::string_view authority =
      endpoint.substr(start, authority_end == std::string_view::npos ? std::string_view::npos
                                                                     : authority_end - start);
  const size_t at = authority.rfind('@');
  if (at == std::string_view::npos)
    return std::string(endpoint);
  return std::string(endpoint.substr(0, start)) + "***@" +
         std::string(endpoint.substr(start + at + 1));
}

}  // namespace opsup::plugins
