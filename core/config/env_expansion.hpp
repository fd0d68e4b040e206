// ${...} expansion inside scalar values, like the Collector's confmap with the env and
// file providers and default scheme env: ${env:VAR}, ${VAR}, ${env:VAR:-default},
// ${file:path}; $$ is a literal $. A bare $VAR (the $OWN_TELEMETRY_CONFIG tokens) is
// left alone, as is an unterminated "${".
#pragma once

#include <yaml-cpp/yaml.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_loader.hpp"

namespace opsup::config {

namespace internal {
class DiagnosticSink;
}

struct ScalarExpansion {
  std::string text;
  bool changed = false;          // any reference or $$ was replaced
  bool whole_reference = false;  // the text was exactly one ${...}
  std::vector<std::string> unset_variables;
  std::optional<std::string> error;  // bad reference; `text` is then meaningless
};

ScalarExpansion expand_scalar(std::string_view text, const EnvironmentLookup &lookup_env);

// Expands every scalar value of `root` in place (keys are left alone); node marks stay so
// errors keep their lines. A value that is exactly one reference becomes plain (typed by
// the rules of its key; empty means unset, so the key keeps its default); any other
// expanded value becomes a string.
void expand_tree(YAML::Node &root, const EnvironmentLookup &lookup_env,
                 internal::DiagnosticSink &sink);

}  // namespace opsup::config
