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

namespace {

// Inflates `compressed`, handing each piece of output to `sink`; stops with too_large once
// more than `max_bytes` came out. `total` is the number of bytes produced.
template <class Sink>
InflateStatus inflate_into(std::string_view compressed, std::size_t max_bytes, Sink &&sink,
                           std::size_t &total, std::string &error) {
  z_stream stream{};
  if (inflateInit2(&stream, kAutoDetectWindowBits) != Z_OK) {
    error = "inflateInit2 failed";
    return InflateStatus::corrupt;
  }
  stream.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(compressed.data()));
  stream.avail_in = static_cast<uInt>(compressed.size());
  unsigned char chunk[kChunkBytes];
  InflateStatus status = InflateStatus::ok;
  total = 0;
  while (true) {
    stream.next_out = chunk;
    stream.avail_out = static_cast<uInt>(sizeof chunk);
    const int rc = inflate(&stream, Z_NO_FLUSH);
    const std::size_t produced = sizeof chunk - stream.avail_out;
    if (total + produced > max_bytes) {  // total <= max_bytes here: no overflow
      status = InflateStatus::too_large;
      error = "inflated body exceeds " + std::to_string(max_bytes) + " bytes";
      break;
    }
    total += produced;
    sink(std::string_view(reinterpret_cast<const char *>(chunk), produced));
    if (rc == Z_STREAM_END)
      break;
    if (rc != Z_OK) {
      status = InflateStatus::corrupt;
      error = stream.msg != nullptr ? stream.msg : "invalid gzip data";
      break;
    }
    if (stream.avail_in == 0 && stream.avail_out != 0) {
      status = InflateStatus::corrupt;
      error = "truncated gzip data";
      break;
    }
  }
  inflateEnd(&stream);
  return status;
}

}  // namespace

InflateResult gzip_inflate(std::string_view compressed, std::size_t max_bytes) {
  // Two passes: the first only counts (into one stack chunk), so a bomb is refused with
  // no memory spent; the second fills a string of the exact size, which never doubles.
  InflateResult result;
  std::size_t total = 0;
  result.status = inflate_into(
      compressed, max_bytes, [](std::string_view) {}, total, result.error);
  if (result.status != InflateStatus::ok)
    return result;
  result.data.reserve(total);
  result.status = inflate_into(
      compressed, max_bytes, [&result](std::string_view piece) { result.data.append(piece); },
      total, result.error);
  if (result.status != InflateStatus::ok)
    result.data.clear();
  return result;
}

}  // namespace opsup::transport::internal
