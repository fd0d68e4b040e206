#include "faults.hpp"

#include "config_error.hpp"
#include "map_decoder.hpp"

namespace opsup::fakeotelcol {

FaultSettings decode_fault_settings(const YAML::Node &node) {
  FaultSettings settings;
  MapDecoder top(node, "", "faultextension.Config");
  if (top.has("exit_after")) {
    settings.exit_after = top.duration("exit_after", std::chrono::milliseconds(0));
  }
  settings.exit_code = static_cast<int>(top.integer("exit_code", 1));
  settings.crash_message = top.string("crash_message");
  settings.start_delay = top.duration("start_delay", settings.start_delay);
  settings.never_healthy = top.boolean("never_healthy", false);
  settings.fail_reload = top.boolean("fail_reload", false);
  settings.ignore_sigterm = top.boolean("ignore_sigterm", false);
  settings.honour_ppid = top.boolean("honour_ppid", false);
  settings.echo_custom_capability = top.string("echo_custom_capability");
  top.reject_unknown_keys();
  if (settings.exit_code < 0 || settings.exit_code > 255) {
    throw InvalidError("exit_code must be between 0 and 255");
  }
  return settings;
}

}  // namespace opsup::fakeotelcol
