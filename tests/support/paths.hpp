// Where the build tree and its binaries are, for tests that start real processes.
#pragma once

#include <filesystem>
#include <string>

namespace opsup::testing {

// $OPSUP_BUILD_DIR (set by ctest), else the parent of the current directory (tests run
// from <build>/tests).
std::filesystem::path build_dir();
// build_dir()/"bin"/name.
std::filesystem::path binary(const std::string &name);

}  // namespace opsup::testing
