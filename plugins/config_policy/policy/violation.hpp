// One broken rule of the config policy, and how a list of them is written for a veto.
#pragma once

#include <string>
#include <vector>

namespace opsup::config_policy {

struct Violation {
  std::string kind;       // receivers, exporters, ... ("" for config-wide problems)
  std::string component;  // the component ID as written ("filelog/app")
  std::string field;      // dotted path inside the component ("include[0]", "type")
  std::string value;      // the offending value
  std::string rule;       // the rule broken ("access_dirs.read.deny: /etc")
};

// "receivers/filelog/app include[0]=/etc/shadow breaks access_dirs.read.deny: /etc"
std::string describe(const Violation &violation);

// "3 policy violations: 1) ...; 2) ...; 3) ...". When the text would be longer than
// `max_bytes`, it ends after the last item that fits with "; and N more (see the log)".
std::string describe_all(const std::vector<Violation> &violations,
                         size_t max_bytes = std::string::npos);

}  // namespace opsup::config_policy
