// SHA-256 of memory and of files (OpenSSL EVP).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace opsup::common {

std::string sha256(std::string_view data);  // 32 raw bytes
// Reads the file in chunks; throws std::runtime_error naming the file when unreadable.
std::string sha256_file(const std::filesystem::path &path);

}  // namespace opsup::common
