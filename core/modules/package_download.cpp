#include "modules/package_download.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <limits>
#include <system_error>

#include "modules/download_tls_settings.hpp"
#include "modules/signature_settings.hpp"
#include "packages/signature.hpp"
#include "storage/atomic_file.hpp"
#include "transport/http_client.hpp"

namespace opsup::modules {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kProgressInterval = std::chrono::seconds(1);

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char byte : bytes) {
    hex.push_back(kDigits[byte >> 4]);
    hex.push_back(kDigits[byte & 0xF]);
  }
  return hex;
}

// The URL for messages: without its query, which may carry a token.
std::string url_for_messages(const std::string &url) {
  return url.substr(0, url.find_first_of("?#"));
}

std::string errno_text(const std::string &what, const std::filesystem::path &path) {
  return what + " " + path.string() + ": " + std::strerror(errno);
}

struct DigestDeleter {
  void operator()(EVP_MD_CTX *ctx) const { EVP_MD_CTX_free(ctx); }
};
using Digest = std::unique_ptr<EVP_MD_CTX, DigestDeleter>;

Digest new_digest() {
  Digest digest(EVP_MD_CTX_new());
  if (!digest || EVP_DigestInit_ex(digest.get(), EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 is not available (OpenSSL)");
  return digest;
}

void fsync_directory(const std::filesystem::path &directory) {
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    throw std::runtime_error(errno_text("cannot open the directory", directory));
  const int result = ::fsync(fd);
  ::close(fd);
  if (result != 0)
    throw std::runtime_error(errno_text("cannot fsync the directory", directory));
}

PackageDownloadOutcome failed(std::string error, bool resumable = false) {
  PackageDownloadOutcome outcome;
  outcome.resumable = resumable;
  outcome.error = std::move(error);
  return outcome;
}

}  // namespace

std::filesystem::path partial_download_path(const std::filesystem::path &directory,
                                            const std::string &sha256) {
  return directory / (".download-" + to_hex(sha256) + ".partial");
}

class PackageDownload::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(boost::asio::io_context &io, boost::asio::thread_pool &pool, PackageDownloadSpec spec,
       Progress progress, Done done)
      : io_(io),
        pool_(pool),
        spec_(std::move(spec)),
        progress_(std::move(progress)),
        done_(std::move(done)),
        partial_(partial_download_path(spec_.directory, spec_.sha256)),
        shown_url_(url_for_messages(spec_.url)) {}

  ~Impl() {
    if (fd_ >= 0)
      ::close(fd_);
  }

  void begin() {
    // Prepare on the pool: directories, and the digest of bytes kept from before.
    boost::asio::post(pool_, [self = shared_from_this()] {
      std::string error;
      try {
        self->prepare();
      } catch (const std::exception &failure) {
        error = failure.what();
      }
      boost::asio::post(self->io_, [self, error] {
        if (!error.empty())
          return self->finish(failed(error));
        self->send();
      });
    });
  }

  void cancel() { cancelled_ = true; }

 private:
  void prepare() {
    tls_ = download_tls_from(spec_.own_settings_yaml);
    storage::ensure_private_directory(spec_.directory.parent_path());
    storage::ensure_private_directory(spec_.directory);
    digest_ = new_digest();
    std::error_code ec;
    const auto size = std::filesystem::file_size(partial_, ec);
    if (ec || size == 0)
      return;
    if (size > spec_.max_bytes) {
      std::filesystem::remove(partial_, ec);
      return;
    }
    std::ifstream in(partial_, std::ios::binary);
    std::vector<char> buffer(64 * 1024);
    uint64_t hashed = 0;
    while (in && hashed < size) {
      in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      const auto got = static_cast<std::size_t>(in.gcount());
      if (got == 0)
        break;
      EVP_DigestUpdate(digest_.get(), buffer.data(), got);
      hashed += got;
    }
    if (hashed != size) {
      // Unreadable: start over.
      digest_ = new_digest();
      std::filesystem::remove(partial_, ec);
      return;
    }
    offset_ = size;
  }

  void send() {
    if (cancelled_)
      return discard();
    fd_ = ::open(partial_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd_ < 0)
      return finish(failed(errno_text("cannot write", partial_)));
    transport::HttpRequest request;
    request.url = spec_.url;
    request.tls = tls_;
    for (const auto &[name, value] : spec_.headers)
      request.headers.push_back({name, value});
    if (offset_ > 0)
      request.headers.push_back({"Range", "bytes=" + std::to_string(offset_) + "-"});
    // The cap is checked here (Content-Length, then every chunk), so it is reported as such.
    request.max_response_bytes = std::numeric_limits<std::size_t>::max();
    started_ = Clock::now();
    transport::HttpCallbacks callbacks;
    auto self = shared_from_this();
    callbacks.on_header = [self](const transport::HttpResponse &head) {
      return self->on_header(head);
    };
    callbacks.on_body_chunk = [self](std::string_view chunk, uint64_t, uint64_t) {
      self->on_chunk(chunk);
    };
    callbacks.keep_going = [self] { return !self->cancelled_ && self->stop_reason_.empty(); };
    callbacks.on_complete = [self](transport::HttpResponse response) {
      self->on_complete(response);
    };
    transport::http_request(io_, std::move(request), std::move(callbacks));
  }

  bool on_header(const transport::HttpResponse &head) {
    status_ = head.status;
    if (cancelled_)
      return false;
    if (offset_ > 0 && status_ == 200) {
      // The server ignored Range: start over with the whole file.
      if (::ftruncate(fd_, 0) != 0) {
        stop_reason_ = errno_text("cannot truncate", partial_);
        return false;
      }
      digest_ = new_digest();
      offset_ = 0;
    } else if (offset_ > 0 && status_ == 206) {
      const std::string range = head.header("Content-Range").value_or("");
      const std::string expected = "bytes " + std::to_string(offset_) + "-";
      if (range.rfind(expected, 0) != 0) {
        stop_reason_ = "the server answered the Range request with Content-Range \"" + range +
                       "\", not one starting at byte " + std::to_string(offset_);
        remove_partial_ = true;
        return false;
      }
    } else if (offset_ > 0 && status_ == 416) {
      // The kept bytes do not fit the file (it may even be complete): start over next time.
      stop_reason_ = "the server refused the Range request for byte " + std::to_string(offset_) +
                     " on (HTTP 416); the kept bytes are dropped";
      remove_partial_ = true;
      resumable_failure_ = true;
      return false;
    } else if (status_ != 200) {
      stop_reason_ = "HTTP " + std::to_string(status_);
      // A server error may pass; a client error will not.
      remove_partial_ = status_ < 500;
      resumable_failure_ = status_ >= 500;
      return false;
    }
    total_ = 0;
    if (auto length = head.header("Content-Length")) {
      try {
        total_ = offset_ + std::stoull(*length);
      } catch (const std::exception &) {
        total_ = 0;
      }
    }
    if (total_ > spec_.max_bytes) {
      stop_reason_ = too_large_text(total_);
      remove_partial_ = true;
      return false;
    }
    return true;
  }

  void on_chunk(std::string_view chunk) {
    if (cancelled_ || !stop_reason_.empty())
      return;
    if (offset_ + received_ + chunk.size() > spec_.max_bytes) {
      stop_reason_ = too_large_text(offset_ + received_ + chunk.size());
      remove_partial_ = true;
      return;
    }
    const char *data = chunk.data();
    std::size_t left = chunk.size();
    while (left > 0) {
      const ssize_t wrote = ::write(fd_, data, left);
      if (wrote < 0) {
        if (errno == EINTR)
          continue;
        stop_reason_ = errno_text("cannot write", partial_);
        resumable_failure_ = true;
        return;
      }
      data += wrote;
      left -= static_cast<std::size_t>(wrote);
    }
    EVP_DigestUpdate(digest_.get(), chunk.data(), chunk.size());
    received_ += chunk.size();
    const auto now = Clock::now();
    if (progress_ && now - last_progress_ >= kProgressInterval) {
      last_progress_ = now;
      progress_(current_progress(now));
    }
  }

  void on_complete(const transport::HttpResponse &response) {
    if (cancelled_)
      return discard();
    const bool body_complete = response.error.empty() && (status_ == 200 || status_ == 206);
    if (!body_complete) {
      std::string why = !stop_reason_.empty() ? stop_reason_ : response.error;
      if (stop_reason_.empty())
        resumable_failure_ = true;  // the transport broke off: resume later
      const uint64_t have = offset_ + received_;
      close_fd();
      if (remove_partial_ || !resumable_failure_) {
        remove_partial_on_pool();
        return finish(failed("download of " + shown_url_ + " failed: " + why, resumable_failure_));
      }
      return finish(failed("download of " + shown_url_ + " interrupted after " +
                               std::to_string(have) +
                               " bytes (kept; the next attempt resumes "
                               "with Range): " +
                               why,
                           true));
    }
    if (progress_)
      progress_(current_progress(Clock::now()));
    std::string digest(EVP_MAX_MD_SIZE, '\0');
    unsigned int length = 0;
    EVP_DigestFinal_ex(digest_.get(), reinterpret_cast<unsigned char *>(digest.data()), &length);
    digest.resize(length);
    if (digest != spec_.sha256) {
      close_fd();
      remove_partial_on_pool();
      return finish(failed("content hash mismatch: the SHA-256 of the " +
                           std::to_string(offset_ + received_) + " bytes from " + shown_url_ +
                           " is " + to_hex(digest) + ", the offer's content_hash is " +
                           to_hex(spec_.sha256) + "; nothing was kept"));
    }
    // fsync, name, fsync the directory: on the pool.
    const int fd = fd_;
    fd_ = -1;
    boost::asio::post(pool_, [self = shared_from_this(), fd] {
      PackageDownloadOutcome outcome;
      const auto target = self->spec_.directory / self->spec_.file_name;
      try {
        const int synced = ::fsync(fd);
        const int sync_errno = errno;
        ::close(fd);
        if (synced != 0) {
          errno = sync_errno;
          throw std::runtime_error(errno_text("cannot fsync", self->partial_));
        }
        if (self->spec_.check_signature) {
          packages::SignaturePolicy policy;
          try {
            policy = signature_policy_from(self->spec_.own_settings_yaml);
          } catch (const std::exception &failure) {
            // The operator's settings, not the package: keep nothing, try again later.
            outcome.resumable = true;
            throw std::runtime_error(std::string("the signature policy cannot be used: ") +
                                     failure.what());
          }
          const packages::SignatureResult checked =
              packages::verify_file_signature(policy, self->partial_, self->spec_.signature);
          if (!checked.accepted()) {
            throw std::runtime_error("signature check failed (" +
                                     std::string(packages::to_string(checked.status)) +
                                     "): " + checked.reason + "; nothing was kept");
          }
        }
        std::filesystem::rename(self->partial_, target);
        fsync_directory(self->spec_.directory);
        outcome.ok = true;
        outcome.path = target;
      } catch (const std::exception &failure) {
        outcome.error = failure.what();
        std::error_code ec;
        std::filesystem::remove(self->partial_, ec);
      }
      boost::asio::post(self->io_, [self, outcome] { self->finish(outcome); });
    });
  }

  PackageDownloadProgress current_progress(Clock::time_point now) const {
    const double seconds = std::chrono::duration<double>(now - started_).count();
    return {.received = offset_ + received_,
            .total = total_,
            .per_second = seconds > 0 ? static_cast<double>(received_) / seconds : 0};
  }

  std::string too_large_text(uint64_t size) const {
    return "the file is larger than the limit of " + std::to_string(spec_.max_bytes) + " bytes (" +
           std::to_string(size) + " bytes or more)";
  }

  void close_fd() {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = -1;
  }

  void remove_partial_on_pool() {
    boost::asio::post(pool_, [path = partial_] {
      std::error_code ec;
      std::filesystem::remove(path, ec);
    });
  }

  // A cancelled download leaves nothing behind.
  void discard() {
    close_fd();
    remove_partial_on_pool();
  }

  void finish(const PackageDownloadOutcome &outcome) {
    if (cancelled_ || finished_)
      return;
    finished_ = true;
    if (done_)
      done_(outcome);
  }

  boost::asio::io_context &io_;
  boost::asio::thread_pool &pool_;
  PackageDownloadSpec spec_;
  Progress progress_;
  Done done_;
  std::filesystem::path partial_;
  std::string shown_url_;
  Digest digest_;
  transport::ClientTlsSettings tls_;  // plugins.<id>.tls, read in prepare()
  int fd_ = -1;
  uint64_t offset_ = 0;    // bytes kept from before this attempt
  uint64_t received_ = 0;  // bytes of this attempt
  uint64_t total_ = 0;
  int status_ = 0;
  std::string stop_reason_;  // why this side ended the request
  bool remove_partial_ = false;
  bool resumable_failure_ = false;
  Clock::time_point started_{};
  Clock::time_point last_progress_{};
  std::atomic<bool> cancelled_{false};
  bool finished_ = false;
};

PackageDownload::PackageDownload(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

PackageDownload::~PackageDownload() {
  cancel();
}

std::unique_ptr<PackageDownload> PackageDownload::start(boost::asio::io_context &io,
                                                        boost::asio::thread_pool &pool,
                                                        PackageDownloadSpec spec, Progress progress,
                                                        Done done) {
  auto impl =
      std::make_shared<Impl>(io, pool, std::move(spec), std::move(progress), std::move(done));
  impl->begin();
  return std::unique_ptr<PackageDownload>(new PackageDownload(impl));
}

void PackageDownload::cancel() {
  if (impl_)
    impl_->cancel();
}

}  // namespace opsup::modules
