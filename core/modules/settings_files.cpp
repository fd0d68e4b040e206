#include "modules/settings_files.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace opsup::modules {

std::string read_settings_file(const std::string &key, const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::runtime_error(key + ": cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string settings_scalar(const YAML::Node &node, const std::string &key) {
  if (!node.IsScalar())
    throw std::runtime_error(key + ": expected a string");
  return node.Scalar();
}

}  // namespace opsup::modules
