#include "redact.hpp"

#include <algorithm>
#include <cctype>
#include <string>

#include "checker.hpp"

namespace opsup::config_policy {
namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

bool secret_key(const std::string &key, const Settings &settings) {
  const std::string lowered = lower(key);
  return std::any_of(
      settings.secret_key_patterns.begin(), settings.secret_key_patterns.end(),
      [&](const std::string &p) { return lowered.find(lower(p)) != std::string::npos; });
}

bool credential_value(const std::string &value) {
  const std::string lowered = lower(value);
  return lowered.starts_with("bearer ") || lowered.starts_with("basic ");
}

// Redacts every scalar in `node` (secret_key: the key above it matched a pattern).
void redact(YAML::Node node, const Settings &settings, bool under_secret_key, int depth) {
  if (depth > kMaxDepth)
    return;
  if (node.IsMap()) {
    for (auto entry : node) {
      YAML::Node value = entry.second;
      const bool secret = under_secret_key || secret_key(entry.first.Scalar(), settings);
      if (value.IsScalar()) {
        if (secret || credential_value(value.Scalar()))
          value = kRedacted;
      } else {
        redact(value, settings, secret, depth + 1);
      }
    }
  } else if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) {
      YAML::Node item = node[i];
      if (item.IsScalar()) {
        if (under_secret_key || credential_value(item.Scalar()))
          item = kRedacted;
      } else {
        redact(item, settings, under_secret_key, depth + 1);
      }
    }
  }
}

}  // namespace

YAML::Node redact_secrets(const YAML::Node &config, const Settings &settings) {
  YAML::Node copy = YAML::Clone(config);
  if (settings.redact)
    redact(copy, settings, false, 0);
  return copy;
}

}  // namespace opsup::config_policy
