// The bootstrap (running the Collector once to learn its AgentDescription and available
// components) is cached in <storage>/bootstrap_cache.yaml, keyed by everything its result
// depends on: the executable (path, size, modification time and SHA-256 of its content),
// agent.args, agent.env, the feature gates and the description overrides. A restart with the
// same inputs skips the bootstrap; any change (a new binary, an edited override) redoes it.
// The cached results are serialized protobuf messages, kept as bytes here.
//
// Threading: plain functions; they block on file I/O (the executable is hashed), so call
// them at start-up or off the loop.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace opsup::collector {

struct BootstrapInputs {
  std::filesystem::path executable;
  std::vector<std::string> args;
  std::optional<std::map<std::string, std::string>> env;
  std::vector<std::string> feature_gates;
  std::map<std::string, std::string> identifying_overrides;
  std::map<std::string, std::string> non_identifying_overrides;
};

struct BootstrapResult {
  std::string agent_description;     // serialized opamp.proto.v1.AgentDescription
  std::string available_components;  // serialized opamp.proto.v1.AvailableComponents
};

inline constexpr const char *kBootstrapCacheFile = "bootstrap_cache.yaml";
inline constexpr std::uintmax_t kMaxBootstrapCacheBytes = 16 * 1024 * 1024;

// Hex SHA-256 of the inputs. Throws std::runtime_error naming the executable when it cannot
// be inspected or read.
std::string bootstrap_key(const BootstrapInputs &inputs);

// The cached result for `key`, or nullopt: no cache, a cache for other inputs, or a cache
// that cannot be used, in which case `problem` (when given) says why, naming the file.
std::optional<BootstrapResult> read_bootstrap_cache(const std::filesystem::path &storage_directory,
                                                    const std::string &key,
                                                    std::string *problem = nullptr);

// Replaces the cache atomically (mode 0600). Throws std::runtime_error naming the file.
void write_bootstrap_cache(const std::filesystem::path &storage_directory, const std::string &key,
                           const BootstrapResult &result);

}  // namespace opsup::collector
