// A YAML::Node held as a value. Copying or assigning rebinds the handle; YAML::Node's own
// operator= would instead rewrite the tree the left side points into.
#pragma once

#include <yaml-cpp/yaml.h>

namespace opsup::config {

class YamlValue {
 public:
  YamlValue() = default;
  YamlValue(const YAML::Node &node) { node_.reset(node); }  // NOLINT: implicit on purpose
  YamlValue(const YamlValue &other) { node_.reset(other.node_); }
  YamlValue &operator=(const YamlValue &other) {
    node_.reset(other.node_);
    return *this;
  }

  const YAML::Node &node() const { return node_; }
  const YAML::Node *operator->() const { return &node_; }
  // Written and not null.
  bool has_value() const { return node_.IsDefined() && !node_.IsNull(); }

 private:
  YAML::Node node_;
};

}  // namespace opsup::config
