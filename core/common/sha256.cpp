#include "common/sha256.hpp"

#include <openssl/evp.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <stdexcept>

namespace opsup::common {

namespace {
struct DigestContextFree {
  void operator()(EVP_MD_CTX *context) const { EVP_MD_CTX_free(context); }
};
using DigestContext = std::unique_ptr<EVP_MD_CTX, DigestContextFree>;

DigestContext new_sha256_context() {
  DigestContext context(EVP_MD_CTX_new());
  if (!context || EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("cannot initialise SHA-256");
  }
  return context;
}

std::string finish(EVP_MD_CTX *context) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_DigestFinal_ex(context, digest.data(), &length);
  return std::string(reinterpret_cast<const char *>(digest.data()), length);
}
}  // namespace

std::string sha256(std::string_view data) {
  DigestContext context = new_sha256_context();
  EVP_DigestUpdate(context.get(), data.data(), data.size());
  return finish(context.get());
}

std::string sha256_file(const std::filesystem::path &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot read " + path.string() + ": " + std::strerror(errno));
  }
  DigestContext context = new_sha256_context();
  std::array<char, 64 * 1024> buffer{};
  while (in) {
    in.read(buffer.data(), buffer.size());
    EVP_DigestUpdate(context.get(), buffer.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad())
    throw std::runtime_error("error while reading " + path.string());
  return finish(context.get());
}

}  // namespace opsup::common
