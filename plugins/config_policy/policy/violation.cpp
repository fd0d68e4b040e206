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

std::string describe_all(const std::vector<Violation> &violations, size_t max_bytes) {
  std::string text = std::to_string(violations.size()) + " policy violation" +
                     (violations.size() == 1 ? "" : "s") + ":";
  for (size_t i = 0; i < violations.size(); ++i) {
    const std::string item =
        (i == 0 ? " " : "; ") + std::to_string(i + 1) + ") " + describe(violations[i]);
    const size_t left = violations.size() - i;
    const std::string more = "; and " + std::to_string(left) + " more (see the log)";
    // Room for this item and, unless it is the last, a closing "and N more".
    const size_t needed = text.size() + item.size() + (left > 1 ? more.size() : 0);
    if (max_bytes != std::string::npos && needed > max_bytes) {
      text += more;
      break;
    }
    text += item;
  }
  return text;
}

}  // namespace opsup::config_policy
