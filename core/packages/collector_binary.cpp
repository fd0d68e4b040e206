#include "packages/collector_binary.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <vector>

#include "packages/entry_path.hpp"
#include "storage/atomic_writer.hpp"

namespace opsup::packages {
namespace {

constexpr std::size_t kChunk = 64 * 1024;
constexpr auto kExecutableMode = std::filesystem::perms(0755);

ExtractResult refuse(ExtractStatus status, std::string reason) {
  ExtractResult result;
  result.status = status;
  result.reason = std::move(reason);
  return result;
}

// GCC 12 warns falsely (-Wrestrict) about "\"" + std::string, hence append().
std::string quoted(const std::filesystem::path &path) {
  std::string text("\"");
  text.append(path.string()).append("\"");
  return text;
}

ExtractResult install_executable(const std::filesystem::path &package,
                                 const std::filesystem::path &destination,
                                 const ExtractLimits &limits) {
  const int fd = ::open(package.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return refuse(ExtractStatus::kUnreadable,
                  "cannot open " + quoted(package) + ": " + std::strerror(errno));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  std::optional<storage::AtomicFileWriter> writer;
  try {
    writer.emplace(destination, kExecutableMode);
  } catch (const std::runtime_error &error) {
    return refuse(ExtractStatus::kWriteFailed, error.what());
  }
  std::vector<char> buffer(kChunk);
  std::uint64_t total = 0;
  for (;;) {
    const ssize_t count = ::read(fd, buffer.data(), buffer.size());
    if (count < 0 && errno == EINTR)
      continue;
    if (count < 0) {
      return refuse(ExtractStatus::kUnreadable,
                    "cannot read " + quoted(package) + ": " + std::strerror(errno));
    }
    if (count == 0)
      break;
    total += static_cast<std::uint64_t>(count);
    if (total > limits.max_entry_bytes) {
      return refuse(ExtractStatus::kEntryTooLarge,
                    "executable " + quoted(package) + " is larger than max_entry_bytes (" +
                        std::to_string(limits.max_entry_bytes) + ")");
    }
    try {
      writer->write(std::string_view(buffer.data(), static_cast<std::size_t>(count)));
    } catch (const std::runtime_error &error) {
      return refuse(ExtractStatus::kWriteFailed, error.what());
    }
  }
  try {
    writer->commit();
  } catch (const std::runtime_error &error) {
    return refuse(ExtractStatus::kWriteFailed, error.what());
  }
  ExtractResult result;
  result.status = ExtractStatus::kInstalled;
  result.bytes = total;
  return result;
}

struct ArchiveFree {
  void operator()(archive *handle) const { archive_read_free(handle); }
};

class TarballReader {
 public:
  TarballReader(const std::filesystem::path &package, std::string_view binary_name,
                const std::filesystem::path &destination, const ExtractLimits &limits)
      : package_(package), name_(binary_name), destination_(destination), limits_(limits) {}

  ExtractResult run() {
    handle_.reset(archive_read_new());
    if (!handle_)
      return refuse(ExtractStatus::kCorruptArchive, "cannot allocate an archive reader");
    archive_read_support_filter_gzip(handle_.get());
    archive_read_support_format_tar(handle_.get());
    if (archive_read_open_filename(handle_.get(), package_.c_str(), kChunk) != ARCHIVE_OK) {
      return refuse(ExtractStatus::kCorruptArchive,
                    "cannot read " + quoted(package_) + " as a gzipped tarball: " + error());
    }
    for (;;) {
      archive_entry *entry = nullptr;
      const int status = archive_read_next_header(handle_.get(), &entry);
      if (status == ARCHIVE_EOF)
        break;
      if (status != ARCHIVE_OK) {
        return refuse(ExtractStatus::kCorruptArchive, "corrupt archive " + quoted(package_) +
                                                          " after " + std::to_string(entries_) +
                                                          " entries: " + error());
      }
      if (auto refused = read_entry(entry))
        return std::move(*refused);
    }
    if (!writer_) {
      return refuse(ExtractStatus::kMissingBinary,
                    "archive " + quoted(package_) + " has no entry named \"" + std::string(name_) +
                        "\" (" + std::to_string(entries_) + " entries, " +
                        std::to_string(executables_.size()) + " other executable files)");
    }
    try {
      writer_->commit();
    } catch (const std::runtime_error &error) {
      return refuse(ExtractStatus::kWriteFailed, error.what());
    }
    ExtractResult result;
    result.status = ExtractStatus::kInstalled;
    result.bytes = binary_bytes_;
    return result;
  }

  // The regular files with an execute bit seen so far, without leading "./".
  const std::vector<std::string> &executables() const { return executables_; }

 private:
  std::string error() const {
    const char *text = archive_error_string(handle_.get());
    return text ? text : "unknown libarchive error";
  }

  std::string where(const std::string &path) const {
    return "entry " + std::to_string(entries_) + " \"" + path + "\" of " + quoted(package_);
  }

  std::optional<ExtractResult> read_entry(archive_entry *entry) {
    ++entries_;
    if (entries_ > limits_.max_entries) {
      return refuse(ExtractStatus::kTooManyEntries,
                    "archive " + quoted(package_) + " has more than max_entries (" +
                        std::to_string(limits_.max_entries) + ") entries");
    }
    const char *raw_path = archive_entry_pathname(entry);
    const std::string path = raw_path ? raw_path : "";
    if (auto unsafe = unsafe_entry_path(path))
      return refuse(ExtractStatus::kUnsafePath, where(path) + " is refused: " + *unsafe);
    if (const char *target = archive_entry_hardlink(entry)) {
      return refuse(ExtractStatus::kLinkEntry,
                    where(path) + " is a hard link to \"" + target + "\"; links are refused");
    }
    const auto type = archive_entry_filetype(entry);
    if (type == AE_IFLNK) {
      const char *target = archive_entry_symlink(entry);
      return refuse(ExtractStatus::kLinkEntry, where(path) + " is a symbolic link to \"" +
                                                   (target ? target : "") +
                                                   "\"; links are refused");
    }
    if (type == AE_IFDIR)
      return std::nullopt;
    if (type == AE_IFREG && (archive_entry_perm(entry) & 0111) != 0)
      executables_.emplace_back(without_dot_prefix(path));
    if (type != AE_IFREG) {
      return refuse(ExtractStatus::kSpecialEntry,
                    where(path) + " is a device, FIFO or socket; only files are accepted");
    }
    if (archive_entry_size_is_set(entry) && archive_entry_size(entry) >= 0 &&
        static_cast<std::uint64_t>(archive_entry_size(entry)) > limits_.max_entry_bytes) {
      return too_large(path, static_cast<std::uint64_t>(archive_entry_size(entry)));
    }
    const bool wanted = without_dot_prefix(path) == name_;
    if (wanted) {
      if (writer_) {
        return refuse(ExtractStatus::kDuplicateBinary,
                      where(path) + " repeats the executable; refusing an ambiguous archive");
      }
      try {
        writer_.emplace(destination_, kExecutableMode);
      } catch (const std::runtime_error &error) {
        return refuse(ExtractStatus::kWriteFailed, error.what());
      }
    }
    return copy_data(path, wanted);
  }

  ExtractResult too_large(const std::string &path, std::uint64_t size) const {
    return refuse(ExtractStatus::kEntryTooLarge, where(path) + " has " + std::to_string(size) +
                                                     " bytes, over max_entry_bytes (" +
                                                     std::to_string(limits_.max_entry_bytes) + ")");
  }

  // Reads the entry's data (every entry, so max_total_bytes bounds all decompression),
  // writing it to the destination's temporary file when it is the executable.
  std::optional<ExtractResult> copy_data(const std::string &path, bool wanted) {
    std::uint64_t size = 0;
    for (;;) {
      const la_ssize_t count = archive_read_data(handle_.get(), buffer_.data(), buffer_.size());
      if (count == 0)
        break;
      if (count < 0) {
        return refuse(ExtractStatus::kCorruptArchive,
                      "corrupt data in " + where(path) + ": " + error());
      }
      size += static_cast<std::uint64_t>(count);
      total_ += static_cast<std::uint64_t>(count);
      if (size > limits_.max_entry_bytes)
        return too_large(path, size);
      if (total_ > limits_.max_total_bytes) {
        return refuse(ExtractStatus::kTotalTooLarge,
                      "archive " + quoted(package_) + " decompresses to more than " +
                          "max_total_bytes (" + std::to_string(limits_.max_total_bytes) + ") at " +
                          where(path));
      }
      if (wanted) {
        try {
          writer_->write(std::string_view(buffer_.data(), static_cast<std::size_t>(count)));
        } catch (const std::runtime_error &error) {
          return refuse(ExtractStatus::kWriteFailed, error.what());
        }
      }
    }
    if (wanted)
      binary_bytes_ = size;
    return std::nullopt;
  }

  const std::filesystem::path &package_;
  std::string_view name_;
  const std::filesystem::path &destination_;
  const ExtractLimits &limits_;
  std::unique_ptr<archive, ArchiveFree> handle_;
  std::optional<storage::AtomicFileWriter> writer_;
  std::vector<char> buffer_ = std::vector<char>(kChunk);
  std::uint64_t entries_ = 0;
  std::uint64_t total_ = 0;
  std::uint64_t binary_bytes_ = 0;
  std::vector<std::string> executables_;
};

}  // namespace

const char *to_string(ExtractStatus status) {
  switch (status) {
    case ExtractStatus::kInstalled:
      return "installed";
    case ExtractStatus::kUnreadable:
      return "unreadable";
    case ExtractStatus::kUnknownFormat:
      return "unknown format";
    case ExtractStatus::kUnsafePath:
      return "unsafe path";
    case ExtractStatus::kLinkEntry:
      return "link entry";
    case ExtractStatus::kSpecialEntry:
      return "special entry";
    case ExtractStatus::kEntryTooLarge:
      return "entry too large";
    case ExtractStatus::kTotalTooLarge:
      return "total too large";
    case ExtractStatus::kTooManyEntries:
      return "too many entries";
    case ExtractStatus::kMissingBinary:
      return "missing binary";
    case ExtractStatus::kDuplicateBinary:
      return "duplicate binary";
    case ExtractStatus::kCorruptArchive:
      return "corrupt archive";
    case ExtractStatus::kWriteFailed:
      return "write failed";
  }
  return "unknown";
}

ExtractResult install_collector_binary(const std::filesystem::path &package,
                                       std::string_view binary_name,
                                       const std::filesystem::path &destination,
                                       const ExtractLimits &limits) {
  PackageFormat format = PackageFormat::kUnknown;
  try {
    format = detect_package_format(package);
  } catch (const std::runtime_error &error) {
    return refuse(ExtractStatus::kUnreadable, error.what());
  }
  ExtractResult result;
  switch (format) {
    case PackageFormat::kElfExecutable:
      result = install_executable(package, destination, limits);
      break;
    case PackageFormat::kGzipTarball:
      if (binary_name.empty()) {
        result = refuse(ExtractStatus::kMissingBinary,
                        "no executable name given for the tarball " + quoted(package));
      } else {
        TarballReader reader(package, binary_name, destination, limits);
        result = reader.run();
        // No entry of that name, but exactly one executable file: that one (read again, so
        // every check runs once more on the way).
        if (result.status == ExtractStatus::kMissingBinary && reader.executables().size() == 1) {
          const std::string only = reader.executables().front();
          result = TarballReader(package, only, destination, limits).run();
        }
      }
      break;
    case PackageFormat::kUnknown:
      result = refuse(ExtractStatus::kUnknownFormat,
                      quoted(package) + " is neither an ELF executable nor a gzipped tarball");
      break;
  }
  result.format = format;
  return result;
}

}  // namespace opsup::packages
