#include "config/env_expansion.hpp"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <fstream>
#include <sstream>

#include "config/internal/diagnostic_sink.hpp"
#include "config/internal/map_reader.hpp"

namespace opsup::config {
namespace {

using internal::index_path;

bool valid_variable_name(std::string_view name) {
  if (name.empty())
    return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!letter && !(i > 0 && c >= '0' && c <= '9'))
      return false;
  }
  return true;
}

bool valid_scheme(std::string_view scheme) {
  if (scheme.empty() || !std::isalpha(static_cast<unsigned char>(scheme.front())))
    return false;
  for (char c : scheme) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '.' && c != '-') {
      return false;
    }
  }
  return true;
}

// Resolves the inside of one ${...}; appends unset variables; returns the error text in
// `error` when the reference is not valid.
std::string resolve_reference(std::string_view reference, const EnvironmentLookup &lookup_env,
                              std::vector<std::string> &unset, std::optional<std::string> &error) {
  std::string_view scheme = "env";
  std::string_view body = reference;
  if (const auto colon = reference.find(':'); colon != std::string_view::npos) {
    const auto candidate = reference.substr(0, colon);
    if (valid_scheme(candidate) && candidate != reference) {
      scheme = candidate;
      body = reference.substr(colon + 1);
    }
  }
  if (scheme == "env") {
    std::optional<std::string_view> fallback;
    if (const auto dash = body.find(":-"); dash != std::string_view::npos) {
      fallback = body.substr(dash + 2);
      body = body.substr(0, dash);
    }
    if (!valid_variable_name(body)) {
      error = "environment variable \"" + std::string(body) +
              "\" has an invalid name (letters, digits and _, not starting with a digit)";
      return {};
    }
    const std::string name(body);
    if (auto value = lookup_env(name))
      return *value;
    if (fallback)
      return std::string(*fallback);
    unset.push_back(name);
    return {};
  }
  if (scheme == "file") {
    std::ifstream in{std::string(body), std::ios::binary};
    if (!in) {
      error = "cannot read \"" + std::string(body) + "\" for ${file:...}";
      return {};
    }
    std::stringstream content;
    content << in.rdbuf();
    std::string text = content.str();
    if (text.ends_with("\r\n")) {
      text.resize(text.size() - 2);
    } else if (text.ends_with('\n')) {
      text.pop_back();
    }
    return text;
  }
  error = "unsupported reference \"${" + std::string(reference) +
          "}\": only env: and file: (and ${VAR}) are expanded";
  return {};
}

void expand_node(YAML::Node node, const std::string &path, const EnvironmentLookup &lookup_env,
                 internal::DiagnosticSink &sink) {
  if (node.IsMap()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      const std::string key = it->first.IsScalar() ? it->first.Scalar() : "?";
      expand_node(it->second, path.empty() ? key : path + "." + key, lookup_env, sink);
    }
    return;
  }
  if (node.IsSequence()) {
    for (std::size_t i = 0; i < node.size(); ++i) {
      expand_node(node[i], index_path(path, i), lookup_env, sink);
    }
    return;
  }
  if (!node.IsScalar())
    return;
  ScalarExpansion expansion = expand_scalar(node.Scalar(), lookup_env);
  const int line = internal::line_of_node(node);
  if (expansion.error) {
    sink.error(line, path, *expansion.error);
    return;
  }
  for (const auto &name : expansion.unset_variables) {
    sink.warning(line, path,
                 "environment variable \"" + name + "\" is not set; it expands to an empty value");
  }
  if (!expansion.changed)
    return;
  const bool untagged = node.Tag() == "?" || node.Tag() == "!";
  node = expansion.text;  // Assign keeps the node's mark and tag
  // Explicit tags (!!str, !custom) stay; otherwise the result is typed like confmap does.
  if (untagged)
    node.SetTag(expansion.whole_reference ? "?" : "!");
}

}  // namespace

ScalarExpansion expand_scalar(std::string_view text, const EnvironmentLookup &lookup_env) {
  ScalarExpansion result;
  std::size_t references = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const char c = text[pos];
    if (c != '$' || pos + 1 >= text.size()) {
      result.text += c;
      ++pos;
      continue;
    }
    const char next = text[pos + 1];
    if (next == '$') {
      result.text += '$';
      result.changed = true;
      pos += 2;
      continue;
    }
    if (next != '{') {
      result.text += c;
      ++pos;
      continue;
    }
    const auto close = text.find('}', pos + 2);
    if (close == std::string_view::npos) {  // unterminated: literal, like confmap
      result.text += text.substr(pos);
      break;
    }
    const auto reference = text.substr(pos + 2, close - pos - 2);
    if (reference.find("${") != std::string_view::npos) {
      result.error = "nested references are not supported: \"" +
                     std::string(text.substr(pos, close - pos + 1)) + "\"";
      return result;
    }
    result.text += resolve_reference(reference, lookup_env, result.unset_variables, result.error);
    if (result.error)
      return result;
    result.changed = true;
    ++references;
    result.whole_reference = pos == 0 && close + 1 == text.size() && references == 1;
    pos = close + 1;
  }
  return result;
}

void expand_tree(YAML::Node &root, const EnvironmentLookup &lookup_env,
                 internal::DiagnosticSink &sink) {
  expand_node(root, "", lookup_env, sink);
}

}  // namespace opsup::config
