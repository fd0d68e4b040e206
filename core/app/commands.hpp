// The opampsupervisor verbs. Each returns the process exit code.
#pragma once

#include "app/cli.hpp"

namespace opsup::app {

int run_validate(const CommandLine &command);
int run_modules(const CommandLine &command);
int run_supervisor(const CommandLine &command);

}  // namespace opsup::app
