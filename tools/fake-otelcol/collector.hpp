// The `run` command: load and validate the config, run a Service, and handle
// SIGTERM/SIGINT (graceful exit 0) and SIGHUP (reload the config files).
#pragma once

#include "cli.hpp"
#include "feature_gates.hpp"

namespace opsup::fakeotelcol {

// Returns the process exit code.
int run_collector(const CommandLine &command, const FeatureGates &gates);

// Loads and validates like `run` would; prints the Collector's error on failure.
int validate_only(const CommandLine &command, const FeatureGates &gates);

// "Error: <message>" then the Go log.Fatal line, as the Collector's main() prints them.
void print_run_error(const std::string &message);

}  // namespace opsup::fakeotelcol
