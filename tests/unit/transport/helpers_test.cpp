// The small pure pieces: WebSocket message header, Retry-After, gzip, endpoint URLs.
#include <gtest/gtest.h>

#include <stdexcept>

#include "test_util.hpp"
#include "transport/internal/endpoint_url.hpp"
#include "transport/internal/gzip.hpp"
#include "transport/internal/retry_after.hpp"
#include "transport/internal/ws_message.hpp"

namespace opsup::transport::internal {
namespace {

using namespace std::chrono_literals;

TEST(WsMessage, EncodePrependsVarintZero) {
  EXPECT_EQ(encode_ws_message("abc"), std::string("\0abc", 4));
  EXPECT_EQ(encode_ws_message(""), std::string(1, '\0'));
}

TEST(WsMessage, DecodeStripsSingleAndMultiByteZeroHeaders) {
  EXPECT_EQ(decode_ws_message(std::string("\0abc", 4)), "abc");
  EXPECT_EQ(decode_ws_message(std::string("\x80\x80\x00xyz", 6)), "xyz");
  EXPECT_EQ(decode_ws_message(std::string(1, '\0')), "");
}

TEST(WsMessage, DecodeKeepsLegacyHeaderlessMessagesWhole) {
  // A protobuf message never starts with 0x00; opamp-go accepts such data as is.
  EXPECT_EQ(decode_ws_message("\x0a\x03uid"), "\x0a\x03uid");
  EXPECT_EQ(decode_ws_message(""), "");
  EXPECT_EQ(decode_ws_message("\x80\x01z"), "\x80\x01z");
}

TEST(RetryAfter, ParsesDelaySeconds) {
  const auto now = std::chrono::system_clock::now();
  EXPECT_EQ(parse_retry_after("120", now), std::chrono::milliseconds(120000));
  EXPECT_EQ(parse_retry_after(" 0 ", now), std::chrono::milliseconds(0));
  EXPECT_FALSE(parse_retry_after("12x", now));
  EXPECT_FALSE(parse_retry_after("", now));
  EXPECT_FALSE(parse_retry_after("-5", now));
}

TEST(RetryAfter, ParsesHttpDatesRelativeToNow) {
  // Sun, 06 Nov 1994 08:49:37 GMT
  const auto date = std::chrono::system_clock::from_time_t(784111777);
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", date - 30s),
            std::chrono::milliseconds(30000));
  EXPECT_EQ(parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", date - 2s),
            std::chrono::milliseconds(2000));
  EXPECT_EQ(parse_retry_after("Sun Nov  6 08:49:37 1994", date - 1s),
            std::chrono::milliseconds(1000));
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", date + 1h),
            std::chrono::milliseconds(0));
  EXPECT_FALSE(parse_retry_after("Sun, 06 Nov 1994", date));
}

TEST(Gzip, RoundTripsAndEnforcesTheLimit) {
  const std::string original = test::make_payload(300000);
  const std::string compressed = gzip_compress(original);
  EXPECT_LT(compressed.size(), original.size());
  auto inflated = gzip_inflate(compressed, original.size());
  ASSERT_EQ(inflated.status, InflateStatus::ok) << inflated.error;
  EXPECT_EQ(inflated.data, original);

  auto too_large = gzip_inflate(compressed, original.size() - 1);
  EXPECT_EQ(too_large.status, InflateStatus::too_large);
  EXPECT_TRUE(too_large.data.empty());
}

TEST(Gzip, ABombIsRefusedAndTheLimitItselfIsAccepted) {
  const std::string zeros(4 * 1024 * 1024, '\0');
  const std::string bomb = gzip_compress(zeros);
  EXPECT_LT(bomb.size(), zeros.size() / 100);
  auto refused = gzip_inflate(bomb, 1024 * 1024);
  EXPECT_EQ(refused.status, InflateStatus::too_large);
  EXPECT_EQ(refused.error, "inflated body exceeds 1048576 bytes");
  EXPECT_LT(refused.data.capacity(), std::size_t{64 * 1024}) << "nothing was inflated into memory";
  auto exact = gzip_inflate(bomb, zeros.size());
  ASSERT_EQ(exact.status, InflateStatus::ok) << exact.error;
  EXPECT_EQ(exact.data, zeros);
  EXPECT_LT(exact.data.capacity(), zeros.size() + 4096) << "one allocation of the exact size";
}

TEST(Gzip, RejectsCorruptAndTruncatedData) {
  EXPECT_EQ(gzip_inflate("definitely not gzip", 1000).status, InflateStatus::corrupt);
  const std::string compressed = gzip_compress(test::make_payload(5000));
  auto truncated = gzip_inflate(compressed.substr(0, compressed.size() / 2), 100000);
  EXPECT_EQ(truncated.status, InflateStatus::corrupt);
  EXPECT_FALSE(truncated.error.empty());
}

TEST(EndpointUrl, SplitsWhatAConnectionNeeds) {
  auto url = parse_endpoint_url("wss://example.com:4320/v1/opamp?x=1", "endpoint", {"ws", "wss"});
  EXPECT_TRUE(url.tls);
  EXPECT_TRUE(url.websocket);
  EXPECT_EQ(url.host, "example.com");
  EXPECT_EQ(url.port, 4320);
  EXPECT_EQ(url.host_header, "example.com:4320");
  EXPECT_EQ(url.target, "/v1/opamp?x=1");

  auto defaults = parse_endpoint_url("http://[::1]", "endpoint", {"http"});
  EXPECT_EQ(defaults.host, "::1");
  EXPECT_EQ(defaults.port, 80);
  EXPECT_EQ(defaults.target, "/");
  EXPECT_TRUE(is_ip_literal(defaults.host));
  EXPECT_FALSE(is_ip_literal("localhost"));
}

TEST(EndpointUrl, ErrorsNameTheOption) {
  try {
    parse_endpoint_url("ftp://host/x", "server::endpoint", {"ws", "wss", "http", "https"});
    FAIL() << "expected invalid_argument";
  } catch (const std::invalid_argument &error) {
    EXPECT_TRUE(test::contains(error.what(), "server::endpoint"));
    EXPECT_TRUE(test::contains(error.what(), "invalid scheme 'ftp'"));
  }
  EXPECT_THROW(parse_endpoint_url("", "endpoint", {"ws"}), std::invalid_argument);
  EXPECT_THROW(parse_endpoint_url("ws://", "endpoint", {"ws"}), std::invalid_argument);
  EXPECT_THROW(parse_endpoint_url("not a url", "endpoint", {"ws"}), std::invalid_argument);
}

TEST(EndpointUrl, ErrorsNeverQuoteTheUserinfo) {
  try {
    parse_endpoint_url("ws://agent:pw-s3cret@host:0/v1/opamp", "endpoint", {"ws"});
    FAIL() << "expected invalid_argument";
  } catch (const std::invalid_argument &error) {
    EXPECT_FALSE(test::contains(error.what(), "s3cret")) << error.what();
    EXPECT_TRUE(test::contains(error.what(), "ws://[REDACTED]@host:0/v1/opamp")) << error.what();
  }
}

}  // namespace
}  // namespace opsup::transport::internal
