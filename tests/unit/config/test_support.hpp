// Shared helpers for the config tests.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <string_view>

#include "config/config_loader.hpp"

namespace opsup::config::testing {

inline const std::string kTestdata = OPSUP_CONFIG_TESTDATA;

// server + agent, the two required keys; lines 1-4, so added agent keys start at line 5.
inline constexpr std::string_view kBase =
    "server:\n"
    "  endpoint: ws://127.0.0.1:4320/v1/opamp\n"
    "agent:\n"
    "  executable: /usr/bin/otelcol\n";

inline LoadOptions options_with(std::map<std::string, std::string> env,
                                std::set<std::string> gates = {}) {
  LoadOptions options;
  options.feature_gates = std::move(gates);
  options.lookup_env = [env =
                            std::move(env)](const std::string &name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end())
      return std::nullopt;
    return it->second;
  };
  return options;
}

inline LoadResult load_text(std::string_view text, const LoadOptions &options = options_with({})) {
  return load_supervisor_config_from_string(text, "supervisor.yaml", options);
}

inline std::string describe(const Diagnostics &diagnostics) {
  std::string text;
  for (const auto &diagnostic : diagnostics)
    text += "  " + diagnostic.to_string() + "\n";
  return text.empty() ? "  (none)\n" : text;
}

inline const Diagnostic *find_by_key(const Diagnostics &diagnostics, std::string_view key) {
  for (const auto &diagnostic : diagnostics) {
    if (diagnostic.key == key)
      return &diagnostic;
  }
  return nullptr;
}

// The config must load; returns it.
inline SupervisorConfig expect_loads(const LoadResult &result) {
  EXPECT_TRUE(result.ok()) << "errors:\n" << describe(result.errors);
  return result.config.value_or(SupervisorConfig{});
}

}  // namespace opsup::config::testing
