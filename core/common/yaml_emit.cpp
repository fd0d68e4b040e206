#include "common/yaml_emit.hpp"

#include <yaml-cpp/yaml.h>

#include <stdexcept>

namespace opsup::common {

bool is_yaml_null(const YAML::Node &node) {
  if (!node.IsDefined() || node.IsNull())
    return true;
  if (!node.IsScalar() || node.Tag() != "?")
    return false;
  const std::string &text = node.Scalar();
  return text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL";
}
namespace {

constexpr std::string_view kCoreSchemaPrefix = "tag:yaml.org,2002:";

void emit_scalar(YAML::Emitter &out, const YAML::Node &node) {
  const std::string &tag = node.Tag();
  const std::string &text = node.Scalar();
  if (tag == "!" || tag == std::string(kCoreSchemaPrefix) + "str") {
    out << YAML::DoubleQuoted << text;
    return;
  }
  if (tag == "?" || tag.empty()) {
    if (tag == "?" && is_yaml_null(node)) {
      out << YAML::Null;  // a parsed plain value that expanded to nothing
    } else {
      out << text;
    }
    return;
  }
  if (tag.starts_with(kCoreSchemaPrefix)) {
    out << YAML::SecondaryTag(tag.substr(kCoreSchemaPrefix.size()));
  } else if (tag.starts_with('!')) {
    out << YAML::LocalTag(tag.substr(1));
  } else {
    out << YAML::VerbatimTag(tag);
  }
  out << text;
}

}  // namespace

void emit_yaml(YAML::Emitter &out, const YAML::Node &node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      if (node.size() == 0)
        out << YAML::Flow;  // "{}" on the key's line
      out << YAML::BeginMap;
      for (auto it = node.begin(); it != node.end(); ++it) {
        out << YAML::Key;
        emit_yaml(out, it->first);
        out << YAML::Value;
        emit_yaml(out, it->second);
      }
      out << YAML::EndMap;
      return;
    case YAML::NodeType::Sequence:
      if (node.size() == 0)
        out << YAML::Flow;  // "[]"
      out << YAML::BeginSeq;
      for (auto it = node.begin(); it != node.end(); ++it)
        emit_yaml(out, *it);
      out << YAML::EndSeq;
      return;
    case YAML::NodeType::Scalar:
      emit_scalar(out, node);
      return;
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      out << YAML::Null;
      return;
  }
}

std::string emit_yaml(const YAML::Node &node) {
  YAML::Emitter out;
  emit_yaml(out, node);
  if (!out.good())
    throw std::runtime_error("cannot emit YAML: " + out.GetLastError());
  std::string text = out.c_str();
  if (!text.ends_with('\n'))
    text += '\n';
  return text;
}

YAML::Node yaml_string(std::string_view text) {
  YAML::Node node(std::string{text});
  node.SetTag("!");
  return node;
}

}  // namespace opsup::common
