// Collector configs and commands shared by the core/collector process tests.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

#include "collector/collector_process.hpp"
#include "support/collector.hpp"
#include "support/temp_dir.hpp"

namespace opsup::collector::testing {

// otlp (gRPC on a free loopback port) -> debug, internal metrics off, written to
// dir/collector.yaml; `extra`'s top-level keys are added.
std::string pipeline_config(const opsup::testing::TempDir &dir, const YAML::Node &extra = {});
// The same with the stand-in's fault extension (`fault_settings` is its YAML) switched on.
std::string stand_in_config(const opsup::testing::TempDir &dir, const char *fault_settings);
// <executable of that kind> --config <config_path>.
CollectorCommand command_for(opsup::testing::CollectorKind kind, const std::string &config_path);

}  // namespace opsup::collector::testing
