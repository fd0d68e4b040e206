#include "package_store.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>

#include "common/sha256.hpp"
#include "encoding.hpp"

namespace opsup::opamp_server {

PackageStore::PackageStore(boost::asio::io_context &io, boost::asio::thread_pool &workers,
                           std::filesystem::path data_dir)
    : io_(io), workers_(workers), upload_dir_(std::move(data_dir) / "packages") {
  std::filesystem::create_directories(upload_dir_);
}

std::string PackageStore::download_path(const std::string &name) {
  return "/packages/" + boost::urls::encode(name, boost::urls::unreserved_chars);
}

void PackageStore::add_content(std::string name, std::string content, std::string signature,
                               Done done) {
  std::filesystem::path file = upload_dir_ / (to_hex(common::sha256(name)).substr(0, 16) + "-" +
                                              std::to_string(++upload_counter_));
  boost::asio::post(workers_, [this, name = std::move(name), content = std::move(content),
                               signature = std::move(signature), file, done = std::move(done)]() {
    StoredPackage package;
    package.name = name;
    package.file = file;
    package.uploaded = true;
    package.signature = signature;
    package.size_bytes = content.size();
    package.content_hash = common::sha256(content);
    std::string error;
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.close();
    if (!out)
      error = "cannot write " + file.string() + ": " + std::strerror(errno);
    finish(std::move(package), error, done);
  });
}

void PackageStore::add_file(std::string name, std::filesystem::path path, std::string signature,
                            Done done) {
  boost::asio::post(workers_, [this, name = std::move(name), path = std::move(path),
                               signature = std::move(signature), done = std::move(done)]() {
    StoredPackage package;
    package.name = name;
    package.file = path;
    package.signature = signature;
    std::string error;
    try {
      std::error_code code;
      if (!std::filesystem::is_regular_file(path, code)) {
        throw std::runtime_error(path.string() + " is not a regular file");
      }
      package.size_bytes = std::filesystem::file_size(path);
      package.content_hash = common::sha256_file(path);
    } catch (const std::exception &failure) {
      error = failure.what();
    }
    finish(std::move(package), error, done);
  });
}

void PackageStore::finish(StoredPackage package, const std::string &error, const Done &done) {
  boost::asio::post(io_, [this, package = std::move(package), error, done]() mutable {
    if (!error.empty()) {
      spdlog::warn("packages: cannot add {}: {}", package.name, error);
      done(nullptr, error);
      return;
    }
    package.added = std::chrono::system_clock::now();
    auto existing = packages_.find(package.name);
    if (existing != packages_.end() && existing->second.uploaded &&
        existing->second.file != package.file) {
      std::error_code ignored;
      std::filesystem::remove(existing->second.file, ignored);
    }
    std::string name = package.name;
    spdlog::info("packages: {} ready ({} bytes, sha256 {})", name, package.size_bytes,
                 to_hex(package.content_hash));
    StoredPackage &stored = packages_[name] = std::move(package);
    done(&stored, "");
  });
}

StoredPackage *PackageStore::find(const std::string &name) {
  auto it = packages_.find(name);
  return it == packages_.end() ? nullptr : &it->second;
}

}  // namespace opsup::opamp_server
