// abi_inspect_modules DIR: prints what the loader makes of each *.so in DIR, one line per
// file; exits 0 when at least one module loaded and none was refused.
#include <cstdio>

#include "modules/module_registry.hpp"
#include "modules/opamp_names.hpp"

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  const auto entries = opsup::modules::inspect_modules(argv[1], {});
  bool all_loaded = !entries.empty();
  for (const auto &entry : entries) {
    std::printf("%s: %s %s minor %u [%s] capabilities %s%s%s\n", entry.path.c_str(),
                entry.id.c_str(), entry.version.c_str(), entry.abi_minor,
                std::string(opsup::modules::module_state_name(entry.state)).c_str(),
                opsup::modules::capability_names(entry.capabilities).c_str(),
                entry.reason.empty() ? "" : ": ", entry.reason.c_str());
    all_loaded = all_loaded && entry.state == opsup::modules::ModuleState::kLoaded;
  }
  return all_loaded ? 0 : 1;
}
