// The bootstrap against the real Collector (what it learns, with and without the
// AllowNoPipelines gate) and each way it can fail, each with its own message.
#include "collector/collector_bootstrap.hpp"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "loop_thread.hpp"
#include "opamp.pb.h"
#include "support/child_process.hpp"
#include "support/collector.hpp"
#include "support/temp_dir.hpp"

namespace opsup::collector {
namespace {

using namespace std::chrono_literals;
using opsup::testing::CollectorKind;
using opsup::testing::TempDir;
namespace pb = opamp::proto::v1;

constexpr const char *kUid = "0190f6a8-1234-7abc-8def-0123456789ab";

struct Outcome {
  std::optional<BootstrapResult> result;
  std::string error;
};

Outcome bootstrap(CollectorBootstrapOptions options) {
  testing::LoopThread loop;
  testing::Recorder<Outcome> outcomes;
  std::unique_ptr<CollectorBootstrap> bootstrap;
  loop.on_loop([&] {
    bootstrap = std::make_unique<CollectorBootstrap>(
        loop.io(), options, [&](std::optional<BootstrapResult> result, const std::string &error) {
          outcomes.add({std::move(result), error});
        });
    bootstrap->start();
  });
  auto outcome = outcomes.wait_for([](const Outcome &) { return true; }, 120s);
  loop.on_loop([&] { bootstrap.reset(); });
  return outcome.value_or(Outcome{std::nullopt, "(no outcome within the test's deadline)"});
}

CollectorBootstrapOptions options_for(const std::filesystem::path &executable,
                                      const TempDir &storage) {
  CollectorBootstrapOptions options;
  options.executable = executable;
  options.storage_directory = storage.path();
  options.instance_uid = kUid;
  options.timeout = 30s;
  return options;
}

std::string attribute(const pb::AgentDescription &description, const std::string &key) {
  for (const auto &kv : description.identifying_attributes()) {
    if (kv.key() == key)
      return kv.value().string_value();
  }
  return "<absent>";
}

// `<real Collector> components`: the build info the description must agree with.
YAML::Node real_build_info() {
  opsup::testing::ChildProcess components(
      {opsup::testing::collector_executable(CollectorKind::kReal), {"components"}, {}, {}});
  components.wait_exit(60s);
  components.wait_output_closed(60s);
  return YAML::Load(components.output())["buildinfo"];
}

void expect_learned_real_collector(const Outcome &outcome) {
  ASSERT_TRUE(outcome.result) << outcome.error;
  pb::AgentDescription description;
  ASSERT_TRUE(description.ParseFromString(outcome.result->agent_description));
  const YAML::Node build = real_build_info();
  EXPECT_EQ(attribute(description, "service.name"), build["command"].as<std::string>());
  EXPECT_EQ(attribute(description, "service.version"), build["version"].as<std::string>());
  EXPECT_EQ(attribute(description, "service.instance.id"), kUid);
  pb::AvailableComponents components;
  ASSERT_TRUE(components.ParseFromString(outcome.result->available_components));
  EXPECT_GT(components.components().at("receivers").sub_component_map_size(), 0);
}

TEST(CollectorBootstrap, LearnsTheRealCollectorsDescriptionAndComponents) {
  TempDir storage;
  const auto executable = opsup::testing::collector_executable(CollectorKind::kReal);
  EXPECT_FALSE(collector_has_feature_gate(executable, "no.such.gate"));
  expect_learned_real_collector(bootstrap(options_for(executable, storage)));
}

TEST(CollectorBootstrap, LearnsTheSameWithTheAllowNoPipelinesGate) {
  TempDir storage;
  const auto executable = opsup::testing::collector_executable(CollectorKind::kReal);
  ASSERT_TRUE(collector_has_feature_gate(executable, "service.AllowNoPipelines"));
  auto options = options_for(executable, storage);
  options.allow_no_pipelines = true;
  expect_learned_real_collector(bootstrap(options));
  const YAML::Node config = YAML::LoadFile((storage.path() / "bootstrap.yaml").string());
  EXPECT_FALSE(config["service"]["pipelines"]) << config;
}

TEST(CollectorBootstrap, AMissingExecutableIsNamed) {
  TempDir storage;
  const auto missing = storage.path() / "otelcol";
  EXPECT_EQ(bootstrap(options_for(missing, storage)).error,
            "the Collector executable " + missing.string() + " is missing");
}

TEST(CollectorBootstrap, ANonExecutableFileIsNamed) {
  TempDir storage;
  const auto file = storage.write_file("otelcol", "not a program\n");
  EXPECT_EQ(bootstrap(options_for(file, storage)).error,
            "the Collector executable " + file.string() + " is not executable");
}

std::filesystem::path script(const TempDir &dir, const std::string &body) {
  const auto path = dir.write_file("otelcol.sh", "#!/bin/sh\n" + body);
  std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  return path;
}

TEST(CollectorBootstrap, AnExitGivesTheStatusAndTheLastLines) {
  TempDir storage;
  const auto outcome =
      bootstrap(options_for(script(storage, "echo 'Error: cannot start' >&2\nexit 3\n"), storage));
  EXPECT_EQ(outcome.error,
            "the Collector exited during the bootstrap (exit code 3); its last lines:\n"
            "  Error: cannot start");
}

TEST(CollectorBootstrap, NeverConnectingTimesOut) {
  TempDir storage;
  auto options = options_for(script(storage, "echo waiting\nexec sleep 60\n"), storage);
  options.timeout = 3s;  // long enough for the script's line to be read on a loaded machine
  options.stop_grace = 5s;
  EXPECT_EQ(bootstrap(options).error,
            "the Collector did not connect to the local OpAMP server within 3000 ms "
            "(agent.bootstrap_timeout); its last lines:\n  waiting");
}

// A peer that connects over plain HTTP and sends what the test gives it, found through the
// bootstrap config's endpoint.
std::string http_peer(const std::string &message_hex) {
  return "endpoint=$(sed -n 's/.*endpoint: *\"*ws:\\/\\/\\([^/\"]*\\).*/\\1/p' \"$2\")\n"
         "exec python3 - \"$endpoint\" <<'PY'\n"
         "import sys, time, urllib.request\n"
         "body = bytes.fromhex('" +
         message_hex +
         "')\n"
         "request = urllib.request.Request('http://' + sys.argv[1] + '/v1/opamp', data=body,\n"
         "    headers={'Content-Type': 'application/x-protobuf'})\n"
         "urllib.request.urlopen(request, timeout=10).read()\n"
         "print('sent')\n"
         "time.sleep(60)\n"
         "PY\n";
}

TEST(CollectorBootstrap, ConnectingWithoutADescriptionTimesOut) {
  TempDir storage;
  // instance_uid (field 1, 16 bytes) and sequence_num 1 (field 2), nothing else.
  const std::string message =
      "0a10"
      "0190f6a812347abc8def0123456789ab"
      "1001";
  auto options = options_for(script(storage, http_peer(message)), storage);
  options.timeout = 10s;  // python3 must start and post within it on a loaded machine
  const auto error = bootstrap(options).error;
  EXPECT_EQ(error.rfind("the Collector connected but sent no AgentDescription within 10000 ms "
                        "(agent.bootstrap_timeout)",
                        0),
            0u)
      << error;
}

TEST(CollectorBootstrap, AnotherInstanceUidIsRefused) {
  TempDir storage;
  // Another instance_uid and an (empty) agent_description, field 3.
  const std::string message =
      "0a10"
      "ffffffffffff7fffbfffffffffffffff"
      "1a00";
  const auto error = bootstrap(options_for(script(storage, http_peer(message)), storage)).error;
  EXPECT_EQ(error,
            "the Collector reported instance UID ffffffffffff7fffbfffffffffffffff instead of "
            "0190f6a8-1234-7abc-8def-0123456789ab (its opamp extension did not take the "
            "bootstrap config)");
}

}  // namespace
}  // namespace opsup::collector
