// One problem found in a supervisor config file: where it is and what is wrong.
#pragma once

#include <string>
#include <vector>

namespace opsup::config {

struct Diagnostic {
  std::string file;     // the config file as the user named it
  int line = 0;         // 1-based; 0 when the problem is not tied to a line
  std::string key;      // dotted key path ("agent.config_files[2]"); empty for the whole file
  std::string message;  // what is wrong, without the location

  // "file:line: key: message", leaving out the parts that are empty or 0.
  std::string to_string() const;
};

using Diagnostics = std::vector<Diagnostic>;

}  // namespace opsup::config
