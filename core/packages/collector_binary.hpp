// Installs the Collector executable from a downloaded package: a bare ELF executable, or
// the entry named `binary_name` of a gzipped tarball (read with libarchive); a tarball
// without such an entry but with exactly one regular file carrying an execute bit gives
// that file. The
// destination is replaced atomically with mode 0755 (temporary file in the same
// directory, fsync, rename) only after the whole package was read and found safe; on any
// refusal it is left as it was and no temporary file remains.
//
// Refused: unknown formats; entries with an absolute path or a ".." component; symbolic
// and hard links, devices, FIFOs (anywhere in the archive, not only the binary); an entry
// over max_entry_bytes (from its header and again while decompressing); more than
// max_total_bytes decompressed in all; more than max_entries entries; a missing or
// repeated binary; a corrupt or truncated archive.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "packages/package_format.hpp"

namespace opsup::packages {

struct ExtractLimits {
  std::uint64_t max_entry_bytes = std::uint64_t{1} << 30;  // 1 GiB (otelcol-contrib: ~300 MB)
  std::uint64_t max_total_bytes = std::uint64_t{2} << 30;  // 2 GiB decompressed in all
  std::uint64_t max_entries = 1000;
};

enum class ExtractStatus {
  kInstalled,
  kUnreadable,      // the package cannot be opened or read
  kUnknownFormat,   // neither ELF nor gzip
  kUnsafePath,      // absolute, "..", empty
  kLinkEntry,       // symbolic or hard link
  kSpecialEntry,    // device, FIFO, socket
  kEntryTooLarge,   // over max_entry_bytes
  kTotalTooLarge,   // over max_total_bytes
  kTooManyEntries,  // over max_entries
  kMissingBinary,
  kDuplicateBinary,
  kCorruptArchive,  // libarchive refused it: truncated, bad gzip, not a tar
  kWriteFailed,     // the destination could not be written
};

const char *to_string(ExtractStatus status);

struct ExtractResult {
  ExtractStatus status = ExtractStatus::kCorruptArchive;
  std::string reason;  // names the package, the entry (index and path) and the limit
  PackageFormat format = PackageFormat::kUnknown;
  std::uint64_t bytes = 0;  // size of the installed executable
  bool ok() const { return status == ExtractStatus::kInstalled; }
};

ExtractResult install_collector_binary(const std::filesystem::path &package,
                                       std::string_view binary_name,
                                       const std::filesystem::path &destination,
                                       const ExtractLimits &limits = {});

}  // namespace opsup::packages
