// Shared helpers for the fake-otelcol tests: configs built with yaml-cpp, and starting the
// binary as a real process.
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "support/child_process.hpp"
#include "support/eventually.hpp"
#include "support/http.hpp"
#include "support/opamp_test_server.hpp"
#include "support/ports.hpp"
#include "support/temp_dir.hpp"

namespace opsup::testing {

using namespace std::chrono_literals;

inline constexpr auto kDeadline = std::chrono::seconds(30);
inline constexpr const char *kInstanceUid = "0190f6a8-1234-7abc-8def-0123456789ab";

struct RunResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr lines
};

// Runs fake-otelcol with `args` to completion.
RunResult run_fake_otelcol(const std::vector<std::string> &args);
std::unique_ptr<ChildProcess> start_fake_otelcol(
    const std::vector<std::string> &args,
    const std::vector<std::pair<std::string, std::string>> &env = {});

// otlp receiver -> debug exporter in a traces pipeline, nothing else.
YAML::Node minimal_config();
// Adds `id` under extensions with `settings` and to service.extensions.
void add_extension(YAML::Node &config, const std::string &id, const YAML::Node &settings);
// The opamp extension pointing at `endpoint` (ws:// or http://), with a fixed instance_uid.
YAML::Node opamp_settings(const std::string &endpoint);
std::string write_config(const TempDir &dir, const YAML::Node &config,
                         const std::string &name = "config.yaml");

// Predicates on recorded messages.
bool has_health_tree(const OpampTestServer::AgentToServer &message, bool healthy);
std::string attribute(const google::protobuf::RepeatedPtrField<opamp::proto::v1::KeyValue> &list,
                      const std::string &key);

}  // namespace opsup::testing
