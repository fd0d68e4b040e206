#include "config/diagnostic.hpp"

#include <sstream>

namespace opsup::config {

std::string Diagnostic::to_string() const {
  // A stream, not string concatenation: GCC 12 reports a false -Wrestrict on the latter.
  std::ostringstream text;
  text << file;
  if (line > 0)
    text << ':' << line;
  if (!file.empty() || line > 0)
    text << ": ";
  if (!key.empty())
    text << key << ": ";
  text << message;
  return text.str();
}

}  // namespace opsup::config
