// Uses a minor-1 service through the C++ helper: compiles with today's header, and must not
// compile when OPSUP_TARGET_ABI_MINOR=0 hides it (see sdk_out_of_tree_build.cmake).
#include <opsup/module.hpp>

std::string_view read_own_settings(const opsup::Host &host) {
  return host.own_settings_yaml();
}
