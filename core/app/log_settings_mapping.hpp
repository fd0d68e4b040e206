// Maps the supervisor config's `telemetry.logs` onto the logging settings.
#pragma once

#include "common/logging.hpp"
#include "config/supervisor_config.hpp"

namespace opsup::app {

// Throws std::invalid_argument for an unknown encoding.
common::LogSettings make_log_settings(const config::LogsConfig &logs);

}  // namespace opsup::app
