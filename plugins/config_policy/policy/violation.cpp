#include "violation.hpp"

namespace opsup::config_policy {

std::string describe(const Violation &violation) {
  std::string text;
  if (!violation.kind.empty())
    text += violation.kind + "/";
  text += violation.component;
  if (!violation.field.empty())
    text += " " + violation.field;
  if (!violation.value.empty())
    text += "=" + violation.value;
  text += " breaks " + violation.rule;
  return text;
}

std::string describe_all(const std::vector<Violation> &violations) {
  std::string text = std::to_string(violations.size()) + " policy violation" +
                     (violations.size() == 1 ? "" : "s") + ":";
  for (size_t i = 0; i < violations.size(); ++i)
    text += (i == 0 ? " " : "; ") + std::to_string(i + 1) + ") " + describe(violations[i]);
  return text;
}

}  // namespace opsup::config_policy
