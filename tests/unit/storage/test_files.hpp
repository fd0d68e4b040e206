// File helpers for the storage tests; temporary directories come from tests/support.
#pragma once

#include <filesystem>
#include <string>

#include "support/temp_dir.hpp"

namespace opsup::testing {

std::string read_text(const std::filesystem::path &file);
void write_text(const std::filesystem::path &file, const std::string &text);
unsigned file_mode(const std::filesystem::path &path);  // permission bits, e.g. 0600

}  // namespace opsup::testing
