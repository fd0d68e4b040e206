// Maps the supervisor config's `agent` section onto the Collector controller's options.
#pragma once

#include <string>

#include "collector/collector_controller.hpp"
#include "config/supervisor_config.hpp"

namespace opsup::app {

collector::CollectorControllerOptions make_collector_options(const config::SupervisorConfig &config,
                                                             const std::string &instance_uid);

}  // namespace opsup::app
