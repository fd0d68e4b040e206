// What the server learns about the agent, end to end with the real Collector and every
// capability module installed: the advertised capabilities, the AgentDescription with the
// operator's overrides (and again when the Collector's resource changes), and the available
// components. Each test is named after the upstream e2e scenario it mirrors.
#include <gtest/gtest.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <csignal>
#include <filesystem>
#include <string>

#include "e2e_support.hpp"
#include "supervisor_fixture.hpp"
#include "support/collector.hpp"

namespace opsup::testing {
namespace {

using namespace std::chrono_literals;
constexpr auto kDeadline = 60s;

constexpr const char *kDescriptionOverrides =
    "  description:\n"
    "    identifying_attributes:\n      client.id: my-client-id\n"
    "    non_identifying_attributes:\n      env: prod\n";

class AgentDescriptionE2e : public ::testing::Test {
 protected:
  TempDir dir_;
  OpampServerProcess server_;
  std::unique_ptr<ChildProcess> supervisor_;
  std::string uid_;

  void start(const std::string &agent_yaml, const std::string &extra_yaml) {
    SupervisorRun run{.endpoint = server_.websocket_url(),
                      .storage = dir_.path() / "storage",
                      .modules_dir = OPSUP_MODULES_DIR,
                      .extra_yaml = extra_yaml,
                      .collector = collector_executable(CollectorKind::kReal),
                      .agent_yaml = agent_yaml};
    supervisor_ = start_supervisor(run, dir_.path());
    uid_ = wait_for_connected_agent(server_, kDeadline);
    ASSERT_FALSE(uid_.empty()) << supervisor_->output();
  }

  void stop() {
    supervisor_->send_signal(SIGTERM);
    EXPECT_EQ(supervisor_->wait_exit(kDeadline), 0) << supervisor_->output();
  }

  // Waits until the server's view of the agent satisfies `done`; the view then.
  boost::json::value wait_for_agent(const std::function<bool(const boost::json::value &)> &done) {
    boost::json::value agent;
    EXPECT_TRUE(eventually(
        [&] {
          agent = server_.agent(uid_);
          return done(agent);
        },
        kDeadline))
        << boost::json::serialize(agent) << "\n"
        << supervisor_->output();
    return agent;
  }
};

std::string identifying(const boost::json::value &agent, const char *key) {
  return string_at(agent, {"description", "identifying_attributes", key});
}
std::string non_identifying(const boost::json::value &agent, const char *key) {
  return string_at(agent, {"description", "non_identifying_attributes", key});
}

// Every capability written false (upstream's supervisor_nocap.yaml), every module installed:
// only the core's ReportsStatus and ReportsHeartbeat are advertised.
TEST_F(AgentDescriptionE2e, SupervisorConfiguresCapabilities) {
  start("",
        "capabilities:\n  reports_effective_config: false\n  reports_own_metrics: false\n"
        "  reports_health: false\n  accepts_remote_config: false\n"
        "  accepts_restart_command: false\n  reports_available_components: false\n");
  const boost::json::value agent = server_.agent(uid_);
  EXPECT_EQ(at(agent, {"capabilities", "value"}).to_number<uint64_t>(), 0x2001u)
      << boost::json::serialize(at(agent, {"capabilities"}));
  stop();
}

// The configured identifying and non-identifying attributes are merged with what the
// Collector and the host say about themselves.
TEST_F(AgentDescriptionE2e, SupervisorAgentDescriptionConfigApplies) {
  start(kDescriptionOverrides, "");
  const boost::json::value agent =
      wait_for_agent([](const auto &view) { return !identifying(view, "service.name").empty(); });
  EXPECT_EQ(identifying(agent, "client.id"), "my-client-id");
  EXPECT_EQ(identifying(agent, "service.name"), "otelcol-opsup");
  EXPECT_FALSE(identifying(agent, "service.version").empty());
  EXPECT_EQ(identifying(agent, "service.instance.id"), uid_);
  EXPECT_EQ(non_identifying(agent, "env"), "prod");
  utsname host{};
  ASSERT_EQ(::uname(&host), 0);
  EXPECT_EQ(non_identifying(agent, "host.name"), host.nodename);
  EXPECT_EQ(non_identifying(agent, "os.type"), "linux");
  EXPECT_EQ(non_identifying(agent, "host.arch"),
            std::string(host.machine) == "x86_64" ? "amd64" : std::string(host.machine));
  stop();
}

// A remote config changes the Collector's resource; the Collector's new description reaches
// the server with the operator's overrides still applied.
TEST_F(AgentDescriptionE2e, SupervisorForwardsUpdatedAgentDescriptionFromCollector) {
  start(std::string(kDescriptionOverrides) + "    include_resource_attributes: true\n",
        "capabilities:\n  accepts_remote_config: true\n");
  wait_for_agent([](const auto &view) { return !identifying(view, "service.name").empty(); });
  push_remote_config(server_, uid_,
                     "receivers:\n  nop: {}\nexporters:\n  nop: {}\nservice:\n  telemetry:\n"
                     "    metrics:\n      level: none\n    resource:\n"
                     "      service.name: updated-agent-description-e2e\n"
                     "      service.version: updated-version-e2e\n"
                     "      test.resource.attr: updated-resource-value\n"
                     "  pipelines:\n    logs:\n      receivers: [nop]\n      exporters: [nop]\n");
  const boost::json::value agent = wait_for_agent([](const auto &view) {
    return identifying(view, "service.name") == "updated-agent-description-e2e";
  });
  EXPECT_EQ(identifying(agent, "service.version"), "updated-version-e2e");
  EXPECT_EQ(identifying(agent, "client.id"), "my-client-id");
  EXPECT_EQ(non_identifying(agent, "env"), "prod");
  EXPECT_EQ(non_identifying(agent, "test.resource.attr"), "updated-resource-value");
  stop();
}

// The hash comes first; the server asks for the full map (ReportAvailableComponents) and gets
// every kind of component, the opamp extension among them.
TEST_F(AgentDescriptionE2e, SupervisorBootstrapsCollectorAvailableComponents) {
  start("", "capabilities:\n  reports_available_components: true\n");
  const boost::json::value agent = wait_for_agent([](const auto &view) {
    return at(view, {"available_components", "full_map_received"}) == boost::json::value(true);
  });
  const auto &components = at(agent, {"available_components", "components"});
  for (const char *kind : {"receivers", "processors", "exporters", "extensions", "connectors"})
    EXPECT_TRUE(components.as_object().contains(kind)) << kind;
  EXPECT_FALSE(at(components, {"extensions", "sub_components", "opamp"}).is_null())
      << boost::json::serialize(at(components, {"extensions"}));

  // The first report carried the hash alone; the full map came when the server asked.
  const boost::json::value messages = server_.get_json("/api/agents/" + uid_ + "/messages");
  bool hash_only_first = false;
  bool seen = false;
  for (const auto &message : at(messages, {"messages"}).as_array()) {
    bool has_components = false;
    for (const auto &field : at(message, {"fields"}).as_array())
      has_components = has_components || field == "available_components";
    if (!has_components || seen)
      continue;
    seen = true;
    hash_only_first = at(message, {"available_components_full"}) == boost::json::value(false);
  }
  EXPECT_TRUE(hash_only_first) << boost::json::serialize(messages);
  stop();
}

}  // namespace
}  // namespace opsup::testing
