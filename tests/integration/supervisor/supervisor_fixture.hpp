// Runs opampsupervisor as a real process with a generated config against a real
// opamp-server, and finds it in the server's JSON API.
#pragma once

#include <boost/json/value.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../opamp_server/server_process.hpp"
#include "support/test_support.hpp"

namespace opsup::testing {

struct SupervisorRun {
  std::string endpoint{};                 // the server URL to connect to
  std::filesystem::path storage{};        // storage.directory
  std::filesystem::path modules_dir{};    // --modules-dir
  std::string extra_yaml{};               // appended to the generated config
  std::string server_yaml{};              // appended inside `server:` (indent it two spaces)
  std::vector<std::string> extra_args{};  // after --config and --modules-dir
  // agent.executable; empty: the stand-in (tools/fake-otelcol), which starts fast and needs
  // no config of its own. Tests about the Collector itself pass the real one.
  std::filesystem::path collector{};
  std::string agent_yaml{};  // appended inside `agent:` (indent it two spaces)
  // The whole top-level `telemetry:` section; empty: console logs at debug on stdout, which
  // the tests read.
  std::string telemetry_yaml{};
  // Added to (or replacing) the supervisor's environment, e.g. HTTPS_PROXY.
  std::vector<std::pair<std::string, std::string>> env{};
};

// The supervisor's YAML for `run`.
std::string supervisor_yaml(const SupervisorRun &run);

// Starts `opampsupervisor --config <dir>/supervisor.yaml --modules-dir ...`.
std::unique_ptr<ChildProcess> start_supervisor(const SupervisorRun &run,
                                               const std::filesystem::path &config_dir);

// The UID of the single agent the server knows, once it is connected; "" on timeout.
std::string wait_for_connected_agent(const OpampServerProcess &server,
                                     std::chrono::milliseconds timeout);

// Runs the supervisor binary with `args` to completion; returns exit code and output.
struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr, line by line
};
CommandResult run_supervisor_command(const std::vector<std::string> &args);

}  // namespace opsup::testing
