// opampsupervisor: an OpAMP supervisor for the OpenTelemetry Collector.
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "app/cli.hpp"
#include "app/commands.hpp"
#include "opsup/module.h"

int main(int argc, char **argv) {
  using namespace opsup::app;
  CommandLine command;
  try {
    command = parse_command_line(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::exception &error) {
    std::cerr << "opampsupervisor: " << error.what() << "\n";
    return 2;
  }
  try {
    switch (command.verb) {
      case Verb::kVersion:
        // Version (CMake's project version), commit (see core/app/CMakeLists.txt) and the
        // newest module ABI this host loads.
        std::cout << "opampsupervisor " << OPSUP_VERSION << " (commit " << OPSUP_COMMIT
                  << ", module ABI " << OPSUP_ABI_MAJOR << "." << OPSUP_HEADER_ABI_MINOR << ")\n";
        return 0;
      case Verb::kHelp:
        std::cout << usage_text();
        return 0;
      case Verb::kValidate:
        return run_validate(command);
      case Verb::kModules:
        return run_modules(command);
      case Verb::kRun:
        return run_supervisor(command);
    }
  } catch (const std::exception &error) {
    std::cerr << "opampsupervisor: " << error.what() << "\n";
    return 1;
  }
  return 1;
}
