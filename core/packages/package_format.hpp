// What a downloaded Collector package is, from its first bytes: a bare executable (ELF) or
// a gzipped tarball, as upstream releases ship it.
#pragma once

#include <filesystem>

namespace opsup::packages {

enum class PackageFormat { kElfExecutable, kGzipTarball, kUnknown };

const char *to_string(PackageFormat format);

// Throws std::runtime_error naming the file when it cannot be opened or read.
PackageFormat detect_package_format(const std::filesystem::path &file);

}  // namespace opsup::packages
