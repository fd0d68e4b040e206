// Finds and loads the modules of one directory. Runs no module code before the symbol
// check: each *.so (sorted by name) passes the file hygiene checks, then its symbols are
// listed with Boost.DLL's library_info, and only a library exporting
// opsup_module_entry_v1 is loaded (RTLD_NOW | RTLD_LOCAL) and its entry called. Then the
// descriptor is checked and copied, and the rules across modules applied in sorted
// order: plugins.disable, unique ids, core-owned bits, one owner per capability bit and
// per custom capability (the later claimant is refused, naming both).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "modules/module_descriptor.hpp"
#include "opsup/module.h"

namespace boost::dll {
class shared_library;
}

namespace opsup::modules {

enum class ModuleState {
  kRefused,       // not loaded: see reason
  kDisabled,      // listed in plugins.disable
  kLoaded,        // descriptor accepted, not created yet
  kCreateFailed,  // create hook failed: see reason
  kCreated,
  kStartFailed,  // start hook failed: inactive, see reason
  kStarted,
  kStopped,  // stopped and destroyed
};

// "refused", "disabled", "loaded", "create failed", "created", "start failed",
// "started", "stopped".
std::string_view module_state_name(ModuleState state);

// One *.so found in the module directory.
struct ModuleCandidate {
  std::filesystem::path path;
  ModuleInfo info;  // empty id when refused before the entry ran
  ModuleState state = ModuleState::kRefused;
  std::string reason;                                   // why refused, disabled or failed
  std::shared_ptr<boost::dll::shared_library> library;  // set while loaded
  opsup_module_hooks hooks{};                           // copied, missing ones NULL
};

struct LoaderOptions {
  std::filesystem::path directory;
  std::vector<std::string> disabled_ids;  // plugins.disable
};

// <directory of the running executable>/../lib/opampsupervisor/modules, normalized: the
// default module directory, valid in the build tree and after `cmake --install`.
std::filesystem::path default_module_directory();

// Loads the modules of `options.directory` in sorted file-name order, calling each entry
// with `host_info` (which must outlive the loaded libraries). Every *.so appears in the
// result: kLoaded with its library and hooks, or kRefused / kDisabled with a reason. A
// missing or unreadable directory yields an empty list (logged). Refusals are logged at
// warn level with the file and the reason.
std::vector<ModuleCandidate> load_modules(const LoaderOptions &options,
                                          const opsup_host_info &host_info);

}  // namespace opsup::modules
