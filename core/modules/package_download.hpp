// One package file download for the download_start host service (ABI minor 4): an HTTP(S)
// GET through the core's transport (TLS verification on, no OpAMP proxy) streamed to a
// partial file, resumed with Range when bytes of the same content hash are already there,
// size-capped, and given its name only after its SHA-256 matched. Disk work that may block
// (hashing a kept prefix, fsync, rename) runs on the worker pool; the rest on the loop.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace boost::asio {
class io_context;
class thread_pool;
}  // namespace boost::asio

namespace opsup::modules {

// The limit when a request gives none.
inline constexpr uint64_t kDefaultMaxDownloadBytes = uint64_t{1} << 30;

struct PackageDownloadSpec {
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::filesystem::path directory;  // <storage>/packages/<package name>
  std::string file_name;            // the checked file's name in it
  std::string sha256;               // 32 raw bytes
  uint64_t max_bytes = kDefaultMaxDownloadBytes;
  // Set: the signature is checked against the policy of these settings (the module's own
  // section, signature_settings.hpp) before the file gets its name.
  bool check_signature = false;
  std::string signature;
  std::string own_settings_yaml;
};

struct PackageDownloadProgress {
  uint64_t received = 0;  // of the whole file
  uint64_t total = 0;     // 0 while unknown
  double per_second = 0;  // over this attempt
};

struct PackageDownloadOutcome {
  bool ok = false;
  bool resumable = false;  // failed, and the bytes so far are kept for the next attempt
  std::filesystem::path path;
  std::string error;
};

class PackageDownload {
 public:
  using Progress = std::function<void(const PackageDownloadProgress &)>;
  using Done = std::function<void(const PackageDownloadOutcome &)>;

  // Starts the download. `progress` at most once a second while data arrives, then `done`
  // once, both on the io_context thread and never before start returns.
  static std::unique_ptr<PackageDownload> start(boost::asio::io_context &io,
                                                boost::asio::thread_pool &pool,
                                                PackageDownloadSpec spec, Progress progress,
                                                Done done);
  // Cancels: no callback runs afterwards; the request stops at its next chunk.
  ~PackageDownload();
  void cancel();

  class Impl;

 private:
  explicit PackageDownload(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

// Where a download of `sha256` keeps its bytes until they are checked.
std::filesystem::path partial_download_path(const std::filesystem::path &directory,
                                            const std::string &sha256);

}  // namespace opsup::modules
