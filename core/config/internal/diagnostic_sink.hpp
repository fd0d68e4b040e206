// Collects the errors and warnings of one load, all tagged with the file name.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

#include "config/diagnostic.hpp"

namespace opsup::config::internal {

class DiagnosticSink {
 public:
  explicit DiagnosticSink(std::string file) : file_(std::move(file)) {}

  void error(int line, std::string key, std::string message) {
    errors_.push_back(Diagnostic{file_, line, std::move(key), std::move(message)});
  }
  void warning(int line, std::string key, std::string message) {
    warnings_.push_back(Diagnostic{file_, line, std::move(key), std::move(message)});
  }

  const std::string &file() const { return file_; }
  Diagnostics &errors() { return errors_; }
  Diagnostics &warnings() { return warnings_; }

 private:
  std::string file_;
  Diagnostics errors_;
  Diagnostics warnings_;
};

// 1-based line of a node; 0 when it has no mark (built in code, not parsed).
inline int line_of_node(const YAML::Node &node) {
  if (!node.IsDefined())
    return 0;
  const auto mark = node.Mark();
  return mark.is_null() ? 0 : mark.line + 1;
}

// Text of a value for messages: quoted, shortened.
std::string quote_for_message(std::string_view text);

}  // namespace opsup::config::internal
