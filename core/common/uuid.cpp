#include "common/uuid.hpp"

#include <cctype>

#include <openssl/rand.h>

#include <chrono>
#include <stdexcept>

namespace opsup::common {
namespace {

// Like Go's uuid.Parse, the "urn:uuid:" prefix is matched without regard to case.
bool equals_ignoring_case(std::string_view text, std::string_view lowercase) {
  if (text.size() != lowercase.size())
    return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != lowercase[i])
      return false;
  }
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

std::optional<Uuid> parse_hex_digits(std::string_view digits) {
  if (digits.size() != 32)
    return std::nullopt;
  Uuid uuid{};
  for (std::size_t i = 0; i < uuid.size(); ++i) {
    const int high = hex_value(digits[2 * i]);
    const int low = hex_value(digits[2 * i + 1]);
    if (high < 0 || low < 0)
      return std::nullopt;
    uuid[i] = static_cast<uint8_t>(high << 4 | low);
  }
  return uuid;
}

// Crockford base32 digit value; ambiguous letters map as the ULID spec says.
int crockford_value(char c) {
  if (c >= 'a' && c <= 'z')
    c = static_cast<char>(c - 'a' + 'A');
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c == 'O')
    return 0;
  if (c == 'I' || c == 'L')
    return 1;
  static constexpr std::string_view kAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  const std::size_t index = kAlphabet.find(c);
  return index == std::string_view::npos ? -1 : static_cast<int>(index);
}

}  // namespace

Uuid generate_uuid_v7() {
  Uuid uuid{};
  if (RAND_bytes(uuid.data(), static_cast<int>(uuid.size())) != 1) {
    throw std::runtime_error("cannot generate a UUIDv7: OpenSSL RAND_bytes failed");
  }
  const auto millis = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::system_clock::now().time_since_epoch())
                                                .count());
  for (int i = 0; i < 6; ++i)
    uuid[i] = static_cast<uint8_t>(millis >> (8 * (5 - i)));
  uuid[6] = static_cast<uint8_t>(0x70 | (uuid[6] & 0x0F));  // version 7
  uuid[8] = static_cast<uint8_t>(0x80 | (uuid[8] & 0x3F));  // variant 10
  return uuid;
}

std::optional<Uuid> parse_uuid(std::string_view text) {
  constexpr std::string_view kUrnPrefix = "urn:uuid:";
  if (text.size() == 45 && equals_ignoring_case(text.substr(0, kUrnPrefix.size()), kUrnPrefix)) {
    text.remove_prefix(kUrnPrefix.size());
  } else if (text.size() == 38 && text.front() == '{' && text.back() == '}') {
    text = text.substr(1, 36);
  }
  if (text.size() == 32)
    return parse_hex_digits(text);
  if (text.size() != 36)
    return std::nullopt;
  std::string digits;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position != (text[i] == '-'))
      return std::nullopt;
    if (!dash_position)
      digits.push_back(text[i]);
  }
  return parse_hex_digits(digits);
}

std::optional<Uuid> parse_ulid(std::string_view text) {
  if (text.size() != 26)
    return std::nullopt;
  // 26 digits carry 130 bits; the first digit may hold only 3 of them.
  const int first = crockford_value(text[0]);
  if (first < 0 || first > 7)
    return std::nullopt;
  Uuid uuid{};
  unsigned bit_buffer = static_cast<unsigned>(first);
  int buffered_bits = 3;
  std::size_t out = 0;
  for (std::size_t i = 1; i < text.size(); ++i) {
    const int value = crockford_value(text[i]);
    if (value < 0)
      return std::nullopt;
    bit_buffer = (bit_buffer << 5) | static_cast<unsigned>(value);
    buffered_bits += 5;
    if (buffered_bits >= 8) {
      buffered_bits -= 8;
      uuid[out++] = static_cast<uint8_t>(bit_buffer >> buffered_bits);
      bit_buffer &= (1u << buffered_bits) - 1;
    }
  }
  return uuid;
}

std::optional<Uuid> parse_instance_id(std::string_view text) {
  if (auto uuid = parse_uuid(text))
    return uuid;
  return parse_ulid(text);
}

std::string format_uuid(const Uuid &uuid) {
  std::string hex = to_hex(std::string_view(reinterpret_cast<const char *>(uuid.data()), 16));
  for (std::size_t position : {8, 13, 18, 23})
    hex.insert(position, 1, '-');
  return hex;
}

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (unsigned char byte : bytes) {
    hex.push_back(kDigits[byte >> 4]);
    hex.push_back(kDigits[byte & 0x0F]);
  }
  return hex;
}

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0)
    return std::nullopt;
  std::string bytes;
  bytes.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int high = hex_value(hex[i]);
    const int low = hex_value(hex[i + 1]);
    if (high < 0 || low < 0)
      return std::nullopt;
    bytes.push_back(static_cast<char>(high << 4 | low));
  }
  return bytes;
}

}  // namespace opsup::common
