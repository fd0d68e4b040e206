// The key opamp-server signs the packages it offers with: an ECDSA P-256 private key loaded
// from a PEM file, or generated at start (kept in memory, or also written 0600 to a file).
// Signatures are in the key-based format core/packages verifies, as `cosign sign-blob --key`
// prints it: base64 of the DER ECDSA signature over the SHA-256 of the file.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace opsup::opamp_server {

class PackageSigner {
 public:
  // Throws std::runtime_error naming the file when it cannot be read or holds no P-256 key.
  static PackageSigner load(const std::filesystem::path &private_key_pem_file);
  // A new P-256 key; when `write_to` is not empty, its PEM is written there (mode 0600,
  // through a temporary file and a rename).
  static PackageSigner generate(const std::filesystem::path &write_to = {});

  PackageSigner(PackageSigner &&) noexcept;
  PackageSigner &operator=(PackageSigner &&) noexcept;
  ~PackageSigner();

  // PEM "PUBLIC KEY" (SubjectPublicKeyInfo), as plugins.packages.signature.public_keys takes.
  const std::string &public_key_pem() const { return public_key_pem_; }
  // The signature text for a file whose SHA-256 is `sha256` (32 raw bytes).
  std::string sign_digest(std::string_view sha256) const;

 private:
  struct Key;
  explicit PackageSigner(std::unique_ptr<Key> key);

  std::unique_ptr<Key> key_;
  std::string public_key_pem_;
};

}  // namespace opsup::opamp_server
