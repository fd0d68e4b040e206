// Package files the server offers and serves itself (GET /packages/<name> on the UI
// listener): uploaded content copied into the data directory, or registered local files.
// Hashing and copying run on a worker thread; results come back on the io_context thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "transport/transport_types.hpp"

namespace boost::asio {
class io_context;
class thread_pool;
}  // namespace boost::asio

namespace opsup::opamp_server {

struct StoredPackage {
  std::string name;
  std::filesystem::path file;  // served from here
  bool uploaded = false;       // a copy in the data directory (else a registered path)
  std::string content_hash;    // SHA-256 of the file content, raw bytes
  uint64_t size_bytes = 0;
  std::string signature;  // detached signature, raw bytes; may be empty
  // The server's own signature (PackageSigner), made when first offered without one and
  // kept so that offering the package again gives the same package hash.
  std::string server_signature;
  std::chrono::system_clock::time_point added;
  uint64_t download_count = 0;
  transport::HeaderList last_download_headers;
};

class PackageStore {
 public:
  using Done = std::function<void(const StoredPackage *package, const std::string &error)>;

  PackageStore(boost::asio::io_context &io, boost::asio::thread_pool &workers,
               std::filesystem::path data_dir);

  // Both replace a package of the same name; `done` runs on the io_context thread with the
  // package, or with nullptr and an error naming the file.
  void add_content(std::string name, std::string content, std::string signature, Done done);
  void add_file(std::string name, std::filesystem::path path, std::string signature, Done done);

  StoredPackage *find(const std::string &name);
  const std::map<std::string, StoredPackage> &packages() const { return packages_; }

  // "/packages/<percent-encoded name>"
  static std::string download_path(const std::string &name);

 private:
  void finish(StoredPackage package, const std::string &error, const Done &done);

  boost::asio::io_context &io_;
  boost::asio::thread_pool &workers_;
  std::filesystem::path upload_dir_;
  uint64_t upload_counter_ = 0;
  std::map<std::string, StoredPackage> packages_;
};

}  // namespace opsup::opamp_server
