#include "test_files.hpp"

#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace opsup::testing {

std::string read_text(const std::filesystem::path &file) {
  std::ifstream input(file, std::ios::binary);
  if (!input)
    throw std::runtime_error("cannot open " + file.string());
  std::ostringstream text;
  text << input.rdbuf();
  return text.str();
}

void write_text(const std::filesystem::path &file, const std::string &text) {
  std::ofstream output(file, std::ios::binary | std::ios::trunc);
  output << text;
  if (!output)
    throw std::runtime_error("cannot write " + file.string());
}

unsigned file_mode(const std::filesystem::path &path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0)
    throw std::runtime_error("cannot stat " + path.string());
  return info.st_mode & 07777;
}

}  // namespace opsup::testing
