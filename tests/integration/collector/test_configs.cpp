#include "test_configs.hpp"

namespace opsup::collector::testing {

std::string pipeline_config(const opsup::testing::TempDir &dir, const YAML::Node &extra) {
  YAML::Node config = opsup::testing::minimal_pipeline_config();
  if (extra.IsMap()) {
    for (const auto &entry : extra)
      config[entry.first.as<std::string>()] = entry.second;
  }
  return dir.write_file("collector.yaml", YAML::Dump(config)).string();
}

namespace {

YAML::Node fault(const char *settings) {
  YAML::Node extra;
  extra["extensions"]["fault"] = YAML::Load(settings);
  return extra;
}

}  // namespace

CollectorCommand command_for(opsup::testing::CollectorKind kind, const std::string &config_path) {
  CollectorCommand command;
  command.executable = opsup::testing::collector_executable(kind);
  command.args = {"--config", config_path};
  return command;
}

// The stand-in's fault extension must be listed in service.extensions too.
std::string stand_in_config(const opsup::testing::TempDir &dir, const char *fault_settings) {
  const auto path = pipeline_config(dir, fault(fault_settings));
  YAML::Node config = YAML::LoadFile(path);
  config["service"]["extensions"].push_back("fault");
  return dir.write_file("collector.yaml", YAML::Dump(config)).string();
}

}  // namespace opsup::collector::testing
