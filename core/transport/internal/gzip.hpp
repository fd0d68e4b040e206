// gzip bodies (Content-Encoding: gzip), which Beast does not do.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace opsup::transport::internal {

std::string gzip_compress(std::string_view data);

enum class InflateStatus { ok, too_large, corrupt };

struct InflateResult {
  InflateStatus status = InflateStatus::ok;
  std::string data;   // the inflated bytes when ok
  std::string error;  // what went wrong otherwise
};

// Inflates a gzip (or zlib) stream, refusing to produce more than `max_bytes`.
InflateResult gzip_inflate(std::string_view compressed, std::size_t max_bytes);

}  // namespace opsup::transport::internal
