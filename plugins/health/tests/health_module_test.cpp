// The built health.so in the SDK's FakeHost: each rule of the health overlay, seen through
// the AgentToServer.health fields the module sets.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include <opsup/testing/loaded_module.hpp>
#include "opamp.pb.h"

namespace {

namespace proto = ::opamp::proto::v1;

uint64_t now_unix_nano() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// What the Collector's extension would send: a pipeline with one receiver.
proto::ComponentHealth extension_tree(bool healthy, uint64_t start_time = 1'000) {
  proto::ComponentHealth receiver;
  receiver.set_healthy(healthy);
  receiver.set_status(healthy ? "StatusOK" : "StatusRecoverableError");
  if (!healthy)
    receiver.set_last_error("connection refused");
  proto::ComponentHealth pipeline;
  pipeline.set_healthy(healthy);
  pipeline.set_status(receiver.status());
  (*pipeline.mutable_component_health_map())["receiver:otlp"] = receiver;
  proto::ComponentHealth tree;
  tree.set_healthy(healthy);
  tree.set_start_time_unix_nano(start_time);
  tree.set_status(receiver.status());
  tree.set_status_time_unix_nano(2'000);
  (*tree.mutable_component_health_map())["pipeline:traces"] = pipeline;
  return tree;
}

std::string collector_message(const proto::ComponentHealth &health) {
  proto::AgentToServer message;
  message.set_instance_uid(std::string(16, '\x01'));
  *message.mutable_health() = health;
  return message.SerializeAsString();
}

class HealthModule : public opsup::testing::LoadedModule {
 protected:
  HealthModule() : LoadedModule(OPSUP_HEALTH_MODULE) {}

  size_t sent() { return host().agent_fields().size(); }

  // The health field of the module's latest set_agent_fields.
  proto::ComponentHealth last_health() {
    EXPECT_FALSE(host().agent_fields().empty());
    proto::AgentToServer fields;
    EXPECT_TRUE(fields.ParseFromString(host().agent_fields().back()));
    EXPECT_TRUE(fields.has_health());
    return fields.health();
  }

  // COLLECTOR_STARTED; returns the earliest time the event can carry.
  uint64_t collector_started(int64_t pid = 4242) {
    const uint64_t before = now_unix_nano();
    host().deliver_event(OPSUP_EVENT_COLLECTOR_STARTED, "", pid);
    return before;
  }
};

TEST_F(HealthModule, OwnsReportsHealthAndReadsTheHealthField) {
  const opsup_module_descriptor &descriptor = host().descriptor();
  EXPECT_STREQ(descriptor.id, "health");
  EXPECT_EQ(descriptor.abi_minor, 2u);
  EXPECT_EQ(descriptor.capabilities, OPSUP_CAP_REPORTS_HEALTH);
  ASSERT_EQ(descriptor.agent_to_server_field_count, 1u);
  EXPECT_EQ(descriptor.agent_to_server_fields[0], uint32_t{OPSUP_A2S_HEALTH});
  EXPECT_EQ(descriptor.server_to_agent_field_count, 0u);
}

TEST_F(HealthModule, ReportsUnknownBeforeAnythingIsKnown) {
  start();
  ASSERT_EQ(sent(), 1u);
  EXPECT_EQ(opsup::testing::FakeHost::top_level_fields(host().agent_fields().back()),
            std::vector<uint32_t>{OPSUP_A2S_HEALTH});
  const proto::ComponentHealth health = last_health();
  EXPECT_FALSE(health.healthy());
  EXPECT_EQ(health.status(), "StatusStarting");
  EXPECT_EQ(health.last_error(),
            "Collector is not running yet; waiting for its first health report");
  EXPECT_EQ(health.start_time_unix_nano(), 0u);
  EXPECT_TRUE(health.component_health_map().empty());
}

TEST_F(HealthModule, AStartedCollectorIsStartingUntilItReports) {
  start();
  const uint64_t before = collector_started(4242);
  const proto::ComponentHealth health = last_health();
  EXPECT_FALSE(health.healthy());
  EXPECT_EQ(health.status(), "StatusStarting");
  EXPECT_EQ(health.last_error(),
            "Collector started (pid 4242); waiting for its first health report");
  EXPECT_GE(health.start_time_unix_nano(), before);
  EXPECT_LE(health.start_time_unix_nano(), now_unix_nano());
}

TEST_F(HealthModule, ForwardsTheExtensionTreeWithTheProcessStartTime) {
  start();
  const uint64_t before = collector_started();
  const uint64_t process_start = last_health().start_time_unix_nano();
  ASSERT_GE(process_start, before);

  proto::ComponentHealth tree = extension_tree(true, /*start_time=*/1'000);
  tree.add_attributes()->set_key("host.name");
  host().deliver_collector_message(collector_message(tree));

  const proto::ComponentHealth health = last_health();
  EXPECT_TRUE(health.healthy());
  EXPECT_EQ(health.status(), "StatusOK");
  EXPECT_EQ(health.start_time_unix_nano(), process_start);  // not the extension's 1000
  EXPECT_EQ(health.status_time_unix_nano(), 2'000u);
  ASSERT_EQ(health.attributes_size(), 1);
  EXPECT_EQ(health.attributes(0).key(), "host.name");
  ASSERT_TRUE(health.component_health_map().contains("pipeline:traces"));
  const auto &pipeline = health.component_health_map().at("pipeline:traces");
  ASSERT_TRUE(pipeline.component_health_map().contains("receiver:otlp"));
  EXPECT_EQ(pipeline.component_health_map().at("receiver:otlp").status(), "StatusOK");
}

TEST_F(HealthModule, ForwardsAnUnhealthyTreeAsIs) {
  start();
  collector_started();
  host().deliver_collector_message(collector_message(extension_tree(false)));
  const proto::ComponentHealth health = last_health();
  EXPECT_FALSE(health.healthy());
  EXPECT_EQ(health.status(), "StatusRecoverableError");
  EXPECT_EQ(health.component_health_map()
                .at("pipeline:traces")
                .component_health_map()
                .at("receiver:otlp")
                .last_error(),
            "connection refused");
}

TEST_F(HealthModule, AnExitIsUnhealthyWithTheCoresReason) {
  start();
  collector_started();
  host().deliver_collector_message(collector_message(extension_tree(true)));
  host().deliver_event(OPSUP_EVENT_COLLECTOR_EXITED,
                       "the Collector exited (exit code 2); its last output:\n"
                       "Error: cannot unmarshal the configuration\n",
                       4242, 2);

  const proto::ComponentHealth health = last_health();
  EXPECT_FALSE(health.healthy());
  EXPECT_EQ(health.status(), "StatusFatalError");
  EXPECT_EQ(health.last_error(),
            "the Collector exited (exit code 2); its last output:\n"
            "Error: cannot unmarshal the configuration");
  EXPECT_EQ(health.start_time_unix_nano(), 0u);  // the spec: 0 when not running
  EXPECT_TRUE(health.component_health_map().empty());
}

TEST_F(HealthModule, AnExitWithoutAMessageNamesTheCode) {
  start();
  collector_started();
  host().deliver_event(OPSUP_EVENT_COLLECTOR_EXITED, "", 4242, 2);
  EXPECT_EQ(last_health().last_error(), "Collector exited with code 2");
}

TEST_F(HealthModule, AKillBySignalNamesTheSignal) {
  start();
  collector_started();
  host().deliver_event(OPSUP_EVENT_COLLECTOR_EXITED, "", 4242, -9);
  EXPECT_EQ(last_health().last_error(), "Collector was killed by signal 9");
}

TEST_F(HealthModule, ACleanExitIsStoppedAndStillUnhealthy) {
  start();
  collector_started();
  host().deliver_event(OPSUP_EVENT_COLLECTOR_EXITED, "", 4242, 0);
  const proto::ComponentHealth health = last_health();
  EXPECT_FALSE(health.healthy());
  EXPECT_EQ(health.status(), "StatusStopped");
  EXPECT_EQ(health.last_error(), "Collector exited with code 0");
}

TEST_F(HealthModule, AStartFailureIsUnhealthyWithTheCoresReason) {
  start();
  host().deliver_event(OPSUP_EVENT_COLLECTOR_UNHEALTHY,
                       "cannot start the Collector: /opt/otelcol: No such file or directory");
  const proto::ComponentHealth health = last_health();
  EXPECT_FALSE(health.healthy());
  EXPECT_EQ(health.status(), "StatusFatalError");
  EXPECT_EQ(health.last_error(),
            "cannot start the Collector: /opt/otelcol: No such file or directory");
  EXPECT_EQ(health.start_time_unix_nano(), 0u);
}

TEST_F(HealthModule, AReloadKeepsTheStartTimeAndWaitsForANewReport) {
  start();
  collector_started(7);
  const uint64_t process_start = last_health().start_time_unix_nano();
  host().deliver_collector_message(collector_message(extension_tree(true)));
  ASSERT_TRUE(last_health().healthy());

  collector_started(7);  // SIGHUP: the same process on a new config
  proto::ComponentHealth health = last_health();
  EXPECT_FALSE(health.healthy());
  EXPECT_EQ(health.status(), "StatusStarting");
  EXPECT_EQ(health.start_time_unix_nano(), process_start);
  EXPECT_TRUE(health.component_health_map().empty());

  host().deliver_collector_message(collector_message(extension_tree(true)));
  health = last_health();
  EXPECT_TRUE(health.healthy());
  EXPECT_EQ(health.start_time_unix_nano(), process_start);
}

TEST_F(HealthModule, IgnoresReportsThatArriveAfterTheExit) {
  start();
  collector_started();
  host().deliver_event(OPSUP_EVENT_COLLECTOR_EXITED, "", 4242, 1);
  const size_t before = sent();
  host().deliver_collector_message(collector_message(extension_tree(true)));
  EXPECT_EQ(sent(), before);
  EXPECT_FALSE(last_health().healthy());
}

TEST_F(HealthModule, ARestartForgetsTheOldTreeAndStartTime) {
  start();
  collector_started(1);
  const uint64_t first_start = last_health().start_time_unix_nano();
  host().deliver_collector_message(collector_message(extension_tree(true, first_start)));
  host().deliver_event(OPSUP_EVENT_COLLECTOR_EXITED, "", 1, 0);

  const uint64_t before = collector_started(2);
  proto::ComponentHealth health = last_health();
  EXPECT_FALSE(health.healthy());
  EXPECT_TRUE(health.component_health_map().empty());
  const uint64_t second_start = health.start_time_unix_nano();
  EXPECT_GE(second_start, before);

  // The new process's extension still claims the old start time.
  host().deliver_collector_message(collector_message(extension_tree(true, first_start)));
  health = last_health();
  EXPECT_TRUE(health.healthy());
  EXPECT_EQ(health.start_time_unix_nano(), second_start);
}

TEST_F(HealthModule, AServerReconnectNeverFlipsAHealthyCollector) {
  start();
  collector_started();
  host().deliver_collector_message(collector_message(extension_tree(true)));
  const size_t before = sent();
  host().deliver_event(OPSUP_EVENT_SERVER_DISCONNECTED, "connection reset");
  host().deliver_event(OPSUP_EVENT_SERVER_CONNECTED);
  EXPECT_EQ(sent(), before);
  EXPECT_TRUE(last_health().healthy());
}

TEST_F(HealthModule, TheCoresHealthEventsDoNotOverrideTheTree) {
  start();
  collector_started();
  host().deliver_collector_message(collector_message(extension_tree(true)));
  const size_t before = sent();
  host().deliver_event(OPSUP_EVENT_COLLECTOR_HEALTHY, "", 4242);
  host().deliver_event(OPSUP_EVENT_COLLECTOR_UNHEALTHY, "late", 4242);
  EXPECT_EQ(sent(), before);
  EXPECT_TRUE(last_health().healthy());
}

TEST_F(HealthModule, SendsOnlyWhenTheHealthChanges) {
  start();
  collector_started();
  const size_t before = sent();
  host().deliver_collector_message(collector_message(extension_tree(true)));
  host().deliver_collector_message(collector_message(extension_tree(true)));
  EXPECT_EQ(sent(), before + 1);
  host().deliver_collector_message(collector_message(extension_tree(false)));
  EXPECT_EQ(sent(), before + 2);
}

TEST_F(HealthModule, TrustsAReportThatComesBeforeTheStartEvent) {
  start();
  host().deliver_collector_message(collector_message(extension_tree(true, 1'000)));
  const proto::ComponentHealth health = last_health();
  EXPECT_TRUE(health.healthy());
  EXPECT_EQ(health.start_time_unix_nano(), 1'000u);
}

TEST_F(HealthModule, IgnoresMessagesWithoutHealthAndOnesThatDoNotParse) {
  start();
  const size_t before = sent();
  proto::AgentToServer without_health;
  without_health.mutable_agent_description();
  host().deliver_collector_message(without_health.SerializeAsString());
  host().deliver_collector_message("\xff\xff\xff");
  EXPECT_EQ(sent(), before);
  EXPECT_TRUE(host().logged("does not parse", OPSUP_LOG_WARN));
}

TEST_F(HealthModule, SendsNothingBeforeItIsStarted) {
  ASSERT_EQ(host().create(), OPSUP_OK);
  host().deliver_event(OPSUP_EVENT_COLLECTOR_STARTED, "", 7);
  host().deliver_collector_message(collector_message(extension_tree(true)));
  EXPECT_EQ(sent(), 0u);
  ASSERT_EQ(host().start(), OPSUP_OK);
  EXPECT_EQ(sent(), 1u);
  EXPECT_TRUE(last_health().healthy());
}

}  // namespace
