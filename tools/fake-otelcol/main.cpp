// fake-otelcol: a Collector stand-in with the real command line and the opamp extension's
// behaviour, for testing the supervisor without otelcol-contrib.
#include <iostream>
#include <stdexcept>

#include "cli.hpp"
#include "collector.hpp"
#include "components.hpp"
#include "feature_gates.hpp"

int main(int argc, char **argv) {
  using namespace opsup::fakeotelcol;
  CommandLine command;
  FeatureGates gates;
  try {
    command = parse_command_line(argc, argv);
    for (const auto &list : command.feature_gates)
      gates.apply(list);
  } catch (const std::invalid_argument &e) {
    std::cerr << "Error: " << e.what() << "\n" << usage_text();
    return 1;
  }
  switch (command.verb) {
    case Verb::kVersion:
      std::cout << kBuildCommand << " version " << kBuildVersion << std::endl;
      return 0;
    case Verb::kHelp:
      std::cout << usage_text();
      return 0;
    case Verb::kComponents:
      std::cout << describe_components();
      return 0;
    case Verb::kFeatureGate:
      try {
        std::cout << describe_feature_gates(gates, command.feature_gate_id);
      } catch (const std::invalid_argument &e) {
        print_run_error(e.what());
        return 1;
      }
      return 0;
    case Verb::kValidate:
      return validate_only(command, gates);
    case Verb::kRun:
      return run_collector(command, gates);
  }
  return 1;
}
