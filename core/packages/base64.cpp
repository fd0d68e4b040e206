#include "packages/base64.hpp"

#include <array>
#include <cstdint>

namespace opsup::packages {
namespace {

constexpr std::array<std::int8_t, 256> make_table() {
  std::array<std::int8_t, 256> table{};
  table.fill(-1);
  constexpr std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t i = 0; i < alphabet.size(); ++i) {
    table[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
  }
  return table;
}

constexpr auto kTable = make_table();

}  // namespace

std::optional<std::string> decode_base64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0)
    return std::nullopt;
  std::size_t padding = 0;
  if (text.back() == '=')
    padding = text[text.size() - 2] == '=' ? 2 : 1;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    std::uint32_t group = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      const char c = text[i + j];
      std::int8_t value = kTable[static_cast<unsigned char>(c)];
      if (c == '=' && last && j >= 4 - padding)
        value = 0;
      if (value < 0)
        return std::nullopt;
      group = (group << 6) | static_cast<std::uint32_t>(value);
    }
    const std::size_t bytes = last ? 3 - padding : 3;
    // Padding bits must be zero, so every text decodes from exactly one byte string.
    if (last && padding == 1 && (group & 0xff) != 0)
      return std::nullopt;
    if (last && padding == 2 && (group & 0xffff) != 0)
      return std::nullopt;
    for (std::size_t k = 0; k < bytes; ++k) {
      out.push_back(static_cast<char>((group >> (16 - 8 * k)) & 0xff));
    }
  }
  return out;
}

}  // namespace opsup::packages
