#include "modules/module_loader.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/dll/library_info.hpp>
#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>
#include <map>
#include <optional>
#include <system_error>
#include <type_traits>

#include "modules/module_file_checks.hpp"
#include "modules/opamp_names.hpp"
#include "opsup/opamp_constants.h"

namespace opsup::modules {
namespace {

constexpr uint64_t kCoreCapabilities = OPSUP_CAP_REPORTS_STATUS | OPSUP_CAP_REPORTS_HEARTBEAT;

using EntryFunction = std::remove_pointer_t<opsup_module_entry_fn>;

std::string status_text(opsup_status status) {
  switch (status) {
    case OPSUP_OK:
      return "OPSUP_OK";
    case OPSUP_ERR_INCOMPATIBLE:
      return "OPSUP_ERR_INCOMPATIBLE";
    case OPSUP_ERR_INVALID_ARGUMENT:
      return "OPSUP_ERR_INVALID_ARGUMENT";
    case OPSUP_ERR_FAILED:
      return "OPSUP_ERR_FAILED";
    case OPSUP_ERR_UNSUPPORTED:
      return "OPSUP_ERR_UNSUPPORTED";
    default:
      return "status " + std::to_string(status);
  }
}

std::vector<std::filesystem::path> module_files(const std::filesystem::path &directory) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  if (!std::filesystem::is_directory(directory, ec)) {
    spdlog::warn("module directory {} does not exist or is not a directory: no modules loaded",
                 directory.string());
    return files;
  }
  std::filesystem::directory_iterator it(directory, ec);
  if (ec) {
    spdlog::error("cannot list module directory {}: {}", directory.string(), ec.message());
    return files;
  }
  for (const auto end = std::filesystem::directory_iterator(); it != end; it.increment(ec)) {
    if (ec) {
      spdlog::error("cannot list module directory {}: {}", directory.string(), ec.message());
      break;
    }
    if (it->path().extension() == ".so")
      files.push_back(it->path());
  }
  std::sort(files.begin(), files.end(), [](const auto &a, const auto &b) {
    return a.filename().string() < b.filename().string();
  });
  return files;
}

// Checks the exported symbols without running module code. Returns a refusal or nullopt.
std::optional<std::string> entry_symbol_problem(const std::filesystem::path &path) {
  std::vector<std::string> symbols;
  try {
    boost::dll::library_info info(path);
    symbols = info.symbols();
  } catch (const std::exception &e) {
    return std::string("not a shared library this system can load (") + e.what() + ")";
  }
  if (std::find(symbols.begin(), symbols.end(), OPSUP_MODULE_ENTRY_SYMBOL) != symbols.end()) {
    return std::nullopt;
  }
  const std::string_view prefix = OPSUP_MODULE_ENTRY_PREFIX;
  for (const std::string &symbol : symbols) {
    if (symbol.size() <= prefix.size() || symbol.compare(0, prefix.size(), prefix) != 0)
      continue;
    const std::string major = symbol.substr(prefix.size());
    if (!std::all_of(major.begin(), major.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      continue;
    }
    return "exports ABI major " + major + " (" + symbol + "), this supervisor supports major " +
           std::to_string(OPSUP_ABI_MAJOR) + " (" OPSUP_MODULE_ENTRY_SYMBOL ")";
  }
  return "not an opampsupervisor module: no " OPSUP_MODULE_ENTRY_SYMBOL " symbol";
}

// Loads the library and reads its descriptor into `candidate`. Returns a refusal or nullopt.
std::optional<std::string> load_candidate(ModuleCandidate &candidate,
                                          const opsup_host_info &host_info) {
  auto library = std::make_shared<boost::dll::shared_library>();
  try {
    library->load(candidate.path,
                  boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::exception &e) {
    return std::string("cannot be loaded: ") + e.what();
  }
  const opsup_module_descriptor *descriptor = nullptr;
  opsup_status status;
  try {
    auto &entry = library->get<EntryFunction>(OPSUP_MODULE_ENTRY_SYMBOL);
    status = entry(&host_info, &descriptor);
  } catch (const std::exception &e) {
    return std::string("cannot find its entry: ") + e.what();
  }
  if (status != OPSUP_OK) {
    return OPSUP_MODULE_ENTRY_SYMBOL " returned " + status_text(status) + " for ABI major " +
           std::to_string(host_info.abi_major) + ", minors " +
           std::to_string(host_info.abi_minor_min) + ".." + std::to_string(host_info.abi_minor_max);
  }
  if (auto problem = read_descriptor(descriptor, candidate.info, candidate.hooks)) {
    return problem;
  }
  candidate.library = std::move(library);
  return std::nullopt;
}

std::string describe(const ModuleCandidate &candidate) {
  return "module " + candidate.info.id + " (" + candidate.path.string() + ")";
}

// The rules across modules. `accepted` holds the earlier modules in sorted order.
std::optional<std::string> conflict_problem(const ModuleCandidate &candidate,
                                            const std::vector<const ModuleCandidate *> &accepted) {
  const ModuleInfo &info = candidate.info;
  if (const uint64_t core_bits = info.capabilities & kCoreCapabilities) {
    return "claims " + capability_names(core_bits) + ", which belongs to the supervisor core";
  }
  for (const ModuleCandidate *earlier : accepted) {
    // Files load in sorted file-name order, so the earlier file keeps what both claim.
    const std::string earlier_wins = ", which comes first in file-name order";
    if (earlier->info.id == info.id) {
      return "module id " + info.id + " is already used by " + earlier->path.string() +
             earlier_wins;
    }
    if (const uint64_t shared = earlier->info.capabilities & info.capabilities) {
      return "module " + info.id + " claims " + capability_names(shared) + ", already owned by " +
             describe(*earlier) + earlier_wins;
    }
    for (const std::string &name : info.custom_capabilities) {
      const auto &owned = earlier->info.custom_capabilities;
      if (std::find(owned.begin(), owned.end(), name) != owned.end()) {
        return "module " + info.id + " claims custom capability " + name + ", already owned by " +
               describe(*earlier) + earlier_wins;
      }
    }
  }
  return std::nullopt;
}

void refuse(ModuleCandidate &candidate, std::string reason) {
  candidate.state = ModuleState::kRefused;
  candidate.reason = std::move(reason);
  candidate.library.reset();
  candidate.hooks = opsup_module_hooks{};
  spdlog::warn("module file {} refused: {}", candidate.path.string(), candidate.reason);
}

}  // namespace

std::string_view module_state_name(ModuleState state) {
  switch (state) {
    case ModuleState::kRefused:
      return "refused";
    case ModuleState::kDisabled:
      return "disabled";
    case ModuleState::kLoaded:
      return "loaded";
    case ModuleState::kCreateFailed:
      return "create failed";
    case ModuleState::kCreated:
      return "created";
    case ModuleState::kStartFailed:
      return "start failed";
    case ModuleState::kStarted:
      return "started";
    case ModuleState::kStopped:
      return "stopped";
  }
  return "unknown";
}

std::filesystem::path default_module_directory() {
  const std::filesystem::path executable = boost::dll::program_location();
  return (executable.parent_path() / ".." / "lib" / "opampsupervisor" / "modules")
      .lexically_normal();
}

std::vector<ModuleCandidate> load_modules(const LoaderOptions &options,
                                          const opsup_host_info &host_info) {
  std::vector<ModuleCandidate> candidates;
  for (const std::filesystem::path &path : module_files(options.directory)) {
    candidates.emplace_back().path = path;
  }
  std::vector<const ModuleCandidate *> accepted;
  for (ModuleCandidate &candidate : candidates) {
    if (auto problem = module_file_problem(candidate.path)) {
      refuse(candidate, *problem);
      continue;
    }
    if (auto problem = entry_symbol_problem(candidate.path)) {
      refuse(candidate, *problem);
      continue;
    }
    if (auto problem = load_candidate(candidate, host_info)) {
      refuse(candidate, *problem);
      continue;
    }
    const auto &disabled = options.disabled_ids;
    if (std::find(disabled.begin(), disabled.end(), candidate.info.id) != disabled.end()) {
      candidate.state = ModuleState::kDisabled;
      candidate.reason = "disabled by plugins.disable";
      candidate.library.reset();
      candidate.hooks = opsup_module_hooks{};
      spdlog::info("module {} ({}) is disabled by plugins.disable", candidate.info.id,
                   candidate.path.string());
      continue;
    }
    if (auto problem = conflict_problem(candidate, accepted)) {
      refuse(candidate, *problem);
      continue;
    }
    candidate.state = ModuleState::kLoaded;
    accepted.push_back(&candidate);
    std::string custom;
    for (const std::string &name : candidate.info.custom_capabilities)
      custom += (custom.empty() ? ", custom capabilities " : ",") + name;
    spdlog::info("module {} {} loaded from {}: capabilities {}{}", candidate.info.id,
                 candidate.info.version, candidate.path.string(),
                 capability_names(candidate.info.capabilities), custom);
  }
  return candidates;
}

}  // namespace opsup::modules
