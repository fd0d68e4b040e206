#include "test_archive.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <memory>
#include <stdexcept>

namespace opsup::testing {
namespace {

void check(archive *handle, int status, const char *step) {
  if (status < ARCHIVE_WARN) {
    const char *text = archive_error_string(handle);
    throw std::runtime_error(std::string("test tarball: ") + step + ": " + (text ? text : "?"));
  }
}

}  // namespace

void write_tar_gz(const std::filesystem::path &file, const std::vector<TarEntry> &entries) {
  std::unique_ptr<archive, int (*)(archive *)> handle(archive_write_new(), archive_write_free);
  check(handle.get(), archive_write_add_filter_gzip(handle.get()), "gzip");
  check(handle.get(), archive_write_set_format_pax_restricted(handle.get()), "pax");
  check(handle.get(), archive_write_open_filename(handle.get(), file.c_str()), "open");
  for (const TarEntry &spec : entries) {
    std::unique_ptr<archive_entry, void (*)(archive_entry *)> entry(archive_entry_new(),
                                                                    archive_entry_free);
    archive_entry_set_pathname(entry.get(), spec.path.c_str());
    archive_entry_set_perm(entry.get(), spec.mode);
    archive_entry_set_size(entry.get(), 0);
    using Kind = TarEntry::Kind;
    switch (spec.kind) {
      case Kind::kFile:
        archive_entry_set_filetype(entry.get(), AE_IFREG);
        archive_entry_set_size(
            entry.get(),
            static_cast<la_int64_t>(spec.zero_bytes ? spec.zero_bytes : spec.content.size()));
        break;
      case Kind::kDirectory:
        archive_entry_set_filetype(entry.get(), AE_IFDIR);
        break;
      case Kind::kSymlink:
        archive_entry_set_filetype(entry.get(), AE_IFLNK);
        archive_entry_set_symlink(entry.get(), spec.link_target.c_str());
        break;
      case Kind::kHardlink:
        archive_entry_set_filetype(entry.get(), AE_IFREG);
        archive_entry_set_hardlink(entry.get(), spec.link_target.c_str());
        break;
      case Kind::kFifo:
        archive_entry_set_filetype(entry.get(), AE_IFIFO);
        break;
      case Kind::kCharDevice:
        archive_entry_set_filetype(entry.get(), AE_IFCHR);
        archive_entry_set_rdev(entry.get(), 0x0103);
        break;
    }
    check(handle.get(), archive_write_header(handle.get(), entry.get()), "header");
    if (spec.kind != Kind::kFile)
      continue;
    if (spec.zero_bytes) {
      const std::string zeros(1 << 16, '\0');
      for (std::uint64_t left = spec.zero_bytes; left > 0;) {
        const std::size_t n = left < zeros.size() ? static_cast<std::size_t>(left) : zeros.size();
        if (archive_write_data(handle.get(), zeros.data(), n) < 0)
          check(handle.get(), ARCHIVE_FATAL, "data");
        left -= n;
      }
    } else if (!spec.content.empty() &&
               archive_write_data(handle.get(), spec.content.data(), spec.content.size()) < 0) {
      check(handle.get(), ARCHIVE_FATAL, "data");
    }
  }
  check(handle.get(), archive_write_close(handle.get()), "close");
}

}  // namespace opsup::testing
