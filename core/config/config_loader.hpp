// Loading and checking the supervisor config file.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/diagnostic.hpp"
#include "config/supervisor_config.hpp"

namespace opsup::config {

// Looks up an environment variable; nullopt when unset.
using EnvironmentLookup = std::function<std::optional<std::string>(const std::string &name)>;

EnvironmentLookup process_environment();  // getenv

struct LoadOptions {
  // Enabled feature gates, from --feature-gates (e.g. "opampsupervisor.Extensions").
  std::set<std::string> feature_gates;
  EnvironmentLookup lookup_env = process_environment();
  // When set, a plugins.<id> section for a module not in this list is a warning.
  std::optional<std::vector<std::string>> installed_module_ids;
};

struct LoadResult {
  std::optional<SupervisorConfig> config;  // set exactly when `errors` is empty
  Diagnostics errors;                      // every problem found, in file order
  Diagnostics warnings;                    // unset variables, sections for absent modules

  bool ok() const { return errors.empty(); }
};

// Reads, expands (${env:VAR}, ${VAR}, ${file:path}, $$), parses and validates the file:
// every rule that needs no running Collector. agent.executable must be given but is not
// stat'ed here (see check_agent_executable); startup_fallback_configs must exist.
LoadResult load_supervisor_config(const std::filesystem::path &path, const LoadOptions &options);

// The same for text; `display_name` stands for the file in messages.
LoadResult load_supervisor_config_from_string(std::string_view text,
                                              const std::string &display_name,
                                              const LoadOptions &options);

// Upstream requires agent.executable to stat at validation: `validate` and start-up call
// this after loading. Empty when it exists and is an executable regular file.
Diagnostics check_agent_executable(const SupervisorConfig &config);

// plugins.<id> sections naming a module that is not installed (warnings). `refused_ids`
// maps the id of a module file that was refused to why ("<path>: <reason>"): its section
// says so instead of "no installed module". `unidentified_refusals` says which files were
// refused before their id was known; it is added to every "no installed module" warning,
// since the section may be theirs.
Diagnostics check_module_sections(const SupervisorConfig &config,
                                  const std::vector<std::string> &installed_module_ids,
                                  const std::map<std::string, std::string> &refused_ids = {},
                                  const std::string &unidentified_refusals = {});

// 1-based line of a dotted key ("agent.config_files[1]", "plugins.com.example.x.key") in
// `document`, or of its nearest written parent; 0 when nothing of it is written. Modules
// name their bad keys; the core adds the line with this.
int line_of(const YAML::Node &document, std::string_view dotted_key);

}  // namespace opsup::config
