#include "transport/internal/gzip.hpp"

#include <zlib.h>

#include <stdexcept>

namespace opsup::transport::internal {

namespace {
constexpr int kGzipWindowBits = 15 + 16;        // gzip wrapper
constexpr int kAutoDetectWindowBits = 15 + 32;  // gzip or zlib wrapper
constexpr std::size_t kChunkBytes = 64 * 1024;
}  // namespace

std::string gzip_compress(std::string_view data) {
  z_stream stream{};
  if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, kGzipWindowBits, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("gzip: deflateInit2 failed");
  }
  std::string out;
  out.resize(deflateBound(&stream, static_cast<uLong>(data.size())) + 32);
  stream.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef *>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  if (rc != Z_STREAM_END)
    throw std::runtime_error("gzip: deflate did not finish");
  return out;
}

InflateResult gzip_inflate(std::string_view compressed, std::size_t max_bytes) {
  InflateResult result;
  z_stream stream{};
  if (inflateInit2(&stream, kAutoDetectWindowBits) != Z_OK) {
    result.status = InflateStatus::corrupt;
    result.error = "inflateInit2 failed";
    return result;
  }
  stream.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(compressed.data()));
  stream.avail_in = static_cast<uInt>(compressed.size());
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    const std::size_t used = result.data.size();
    if (used > max_bytes) {
      result.status = InflateStatus::too_large;
      result.error = "inflated body exceeds " + std::to_string(max_bytes) + " bytes";
      break;
    }
    result.data.resize(used + kChunkBytes);
    stream.next_out = reinterpret_cast<Bytef *>(result.data.data() + used);
    stream.avail_out = static_cast<uInt>(kChunkBytes);
    rc = inflate(&stream, Z_NO_FLUSH);
    result.data.resize(used + kChunkBytes - stream.avail_out);
    if (rc == Z_STREAM_END)
      break;
    if (rc != Z_OK) {
      result.status = InflateStatus::corrupt;
      result.error = stream.msg != nullptr ? stream.msg : "invalid gzip data";
      break;
    }
    if (stream.avail_in == 0 && stream.avail_out != 0) {
      result.status = InflateStatus::corrupt;
      result.error = "truncated gzip data";
      break;
    }
  }
  if (result.status == InflateStatus::ok && result.data.size() > max_bytes) {
    result.status = InflateStatus::too_large;
    result.error = "inflated body exceeds " + std::to_string(max_bytes) + " bytes";
  }
  inflateEnd(&stream);
  if (result.status != InflateStatus::ok)
    result.data.clear();
  return result;
}

}  // namespace opsup::transport::internal
