// fake-otelcol against the real opamp-server process (both as child processes): what the
// opamp extension reports shows in the server's JSON API, and what the server asks for
// through the API (the components map, full state, a restart) reaches fake-otelcol and
// shows there too.
#include <unistd.h>

#include <gtest/gtest.h>
#include <boost/json/serialize.hpp>

#include <functional>

#include "fake_otelcol_fixture.hpp"
#include "server_process.hpp"

namespace opsup::testing {
namespace {

namespace json = boost::json;

std::string text(const json::value &value) {
  return json::serialize(value);
}

// Polls GET /api/agents/<kInstanceUid> until `condition` holds; returns the last view.
json::value wait_for_view(const OpampServerProcess &server,
                          const std::function<bool(const json::value &)> &condition) {
  json::value last;
  eventually(
      [&] {
        last = server.agent(kInstanceUid);
        return !last.is_null() && condition(last);
      },
      kDeadline, 100ms);
  return last;
}

uint64_t number_at(const json::value &value, std::initializer_list<const char *> path) {
  const auto &found = at(value, path);
  return found.is_number() ? found.to_number<uint64_t>() : 0;
}

bool contains(const json::value &array, const std::string &wanted) {
  if (!array.is_array())
    return false;
  for (const auto &entry : array.as_array()) {
    if (entry.is_string() && entry.as_string() == wanted)
      return true;
  }
  return false;
}

// Entries of /api/agents/<uid>/messages (received) or /sent.
json::array log_entries(const OpampServerProcess &server, const std::string &log) {
  auto answer = server.get_json("/api/agents/" + std::string(kInstanceUid) + "/" + log);
  const auto &messages = at(answer, {"messages"});
  return messages.is_array() ? messages.as_array() : json::array();
}

std::string local_host_name() {
  char buffer[256] = {};
  gethostname(buffer, sizeof buffer - 1);
  return buffer;
}

class FakeOtelcolWithOpampServer : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const bool websocket = GetParam() == "ws";
    YAML::Node config = minimal_config();
    YAML::Node opamp = opamp_settings(websocket ? server.websocket_url() : server.http_url());
    opamp["capabilities"]["accepts_restart_command"] = true;
    opamp["agent_description"]["non_identifying_attributes"]["deployment.environment"] = "test";
    add_extension(config, "opamp", opamp);
    collector = start_fake_otelcol({"--feature-gates", "extension.opampextension.RemoteRestarts",
                                    "--config", write_config(dir, config)});
  }

  std::string api(const std::string &action) const {
    return "/api/agents/" + std::string(kInstanceUid) + "/" + action;
  }

  OpampServerProcess server;
  TempDir dir;
  std::unique_ptr<ChildProcess> collector;
};

INSTANTIATE_TEST_SUITE_P(Transports, FakeOtelcolWithOpampServer, ::testing::Values("ws", "http"),
                         [](const auto &info) { return info.param; });

TEST_P(FakeOtelcolWithOpampServer, ReportsEverythingAndAnswersTheServer) {
  // ---- the first reports: description, health tree, effective config, components ----
  json::value view = wait_for_view(server, [](const json::value &v) {
    return at(v, {"connection", "connected"}) == json::value(true) &&
           !at(v, {"description"}).is_null() && at(v, {"health", "healthy"}) == json::value(true) &&
           !at(v, {"effective_config"}).is_null() &&
           at(v, {"available_components", "full_map_received"}) == json::value(true);
  });
  ASSERT_EQ(at(view, {"available_components", "full_map_received"}), json::value(true))
      << text(view) << "\n"
      << collector->output() << "\n"
      << server.process().output();
  EXPECT_EQ(string_at(view, {"connection", "transport"}), GetParam());

  // Description.
  const auto &identifying = at(view, {"description", "identifying_attributes"});
  EXPECT_EQ(string_at(identifying, {"service.name"}), "fake-otelcol") << text(view);
  EXPECT_EQ(string_at(identifying, {"service.version"}), "0.130.0");
  EXPECT_EQ(string_at(identifying, {"service.instance.id"}), kInstanceUid);
  const auto &non_identifying = at(view, {"description", "non_identifying_attributes"});
  EXPECT_EQ(string_at(non_identifying, {"os.type"}), "linux");
  EXPECT_FALSE(string_at(non_identifying, {"host.arch"}).empty()) << text(view);
  EXPECT_EQ(string_at(non_identifying, {"host.name"}), local_host_name());
  EXPECT_EQ(string_at(non_identifying, {"deployment.environment"}), "test");

  // Capabilities: the extension's defaults plus the accepted restart command.
  const auto &capabilities = at(view, {"capabilities", "names"});
  for (const char *name : {"ReportsStatus", "ReportsEffectiveConfig", "ReportsHealth",
                           "ReportsAvailableComponents", "AcceptsRestartCommand"}) {
    EXPECT_TRUE(contains(capabilities, name)) << name << ": " << text(capabilities);
  }
  EXPECT_FALSE(contains(capabilities, "AcceptsRemoteConfig")) << text(capabilities);

  // Health: healthy, with the per-component tree.
  EXPECT_EQ(string_at(view, {"health", "status"}), "StatusOK");
  EXPECT_GT(number_at(view, {"health", "start_time_unix_nano"}), 0u);
  const auto &pipeline = at(view, {"health", "components", "pipeline:traces"});
  EXPECT_EQ(at(pipeline, {"healthy"}), json::value(true)) << text(view);
  EXPECT_EQ(string_at(pipeline, {"components", "receiver:otlp", "status"}), "StatusOK");
  EXPECT_EQ(at(pipeline, {"components", "exporter:debug", "healthy"}), json::value(true));
  EXPECT_FALSE(
      at(view, {"health", "components", "extensions", "components", "extension:opamp"}).is_null())
      << text(view);

  // Effective config: the merged YAML under "".
  EXPECT_EQ(string_at(view, {"effective_config", "files", "", "content_type"}), "text/yaml");
  YAML::Node effective = YAML::Load(string_at(view, {"effective_config", "files", "", "body"}));
  EXPECT_TRUE(effective["receivers"]["otlp"]) << text(view);
  EXPECT_TRUE(effective["exporters"]["debug"]) << text(view);
  EXPECT_TRUE(effective["extensions"]["opamp"]) << text(view);

  // Available components: the full map, which the server asked for after the hash.
  const auto &components = at(view, {"available_components", "components"});
  ASSERT_TRUE(components.is_object()) << text(view);
  EXPECT_EQ(components.as_object().size(), 5u) << text(components);
  EXPECT_FALSE(
      string_at(components, {"extensions", "sub_components", "opamp", "metadata", "code.namespace"})
          .empty())
      << text(components);
  EXPECT_FALSE(at(components, {"receivers", "sub_components", "otlp"}).is_null());
  EXPECT_EQ(string_at(view, {"available_components", "hash"}).size(), 64u);
  bool asked_for_components = false;
  for (const auto &entry : log_entries(server, "sent")) {
    asked_for_components =
        asked_for_components || contains(at(entry, {"flag_names"}), "ReportAvailableComponents");
  }
  EXPECT_TRUE(asked_for_components);
  bool map_received = false;
  for (const auto &entry : log_entries(server, "messages")) {
    map_received = map_received || at(entry, {"available_components_full"}) == json::value(true);
  }
  EXPECT_TRUE(map_received);

  // ---- remote config: the extension does not accept it, so it stays pending ----
  auto pushed = server.post_json(api("config"), R"({"config": "exporters:\n  debug: {}\n"})");
  ASSERT_EQ(pushed.status, 200) << text(pushed.body);
  EXPECT_EQ(string_at(pushed.body, {"delivery"}), "pending") << text(pushed.body);

  // ---- full state on request: a later message carries the whole report again ----
  const uint64_t count_before = number_at(view, {"message_count"});
  const uint64_t sequence_before = number_at(view, {"sequence_num"});
  auto requested = server.post_json(api("full-state"), "{}");
  ASSERT_EQ(requested.status, 200) << text(requested.body);
  auto full_report_after = [&](uint64_t after) {
    for (const auto &entry : log_entries(server, "messages")) {
      const auto &fields = at(entry, {"fields"});
      if (number_at(entry, {"sequence_num"}) > after && contains(fields, "agent_description") &&
          contains(fields, "health") && contains(fields, "effective_config")) {
        return true;
      }
    }
    return false;
  };
  EXPECT_TRUE(eventually([&] { return full_report_after(sequence_before); }, kDeadline))
      << text(log_entries(server, "messages")) << "\n"
      << collector->output();
  view = wait_for_view(
      server, [&](const json::value &v) { return number_at(v, {"message_count"}) > count_before; });
  EXPECT_GT(number_at(view, {"message_count"}), count_before);
  EXPECT_EQ(at(view, {"pending", "report_full_state"}), json::value(false)) << text(view);
  bool full_state_sent = false;
  bool remote_config_sent = false;
  for (const auto &entry : log_entries(server, "sent")) {
    full_state_sent = full_state_sent || contains(at(entry, {"flag_names"}), "ReportFullState");
    remote_config_sent = remote_config_sent || !at(entry, {"remote_config_hash"}).is_null();
  }
  EXPECT_TRUE(full_state_sent);
  EXPECT_FALSE(remote_config_sent) << "remote config went to an agent that does not accept it";
  // Like the real extension, it reports an empty status (UNSET, no hash) and never applies.
  EXPECT_EQ(string_at(view, {"remote_config_status", "status"}), "UNSET") << text(view);
  EXPECT_EQ(string_at(view, {"remote_config_status", "last_remote_config_hash"}), "") << text(view);
  EXPECT_FALSE(string_at(view, {"remote_config", "hash"}).empty()) << text(view);

  // ---- restart: fake-otelcol reloads, says goodbye and reports as a new connection ----
  const uint64_t start_time_before = number_at(view, {"health", "start_time_unix_nano"});
  const uint64_t connections_before = number_at(view, {"connection", "connection_count"});
  auto restarted = server.post_json(api("restart"), "{}");
  ASSERT_EQ(restarted.status, 200) << text(restarted.body);
  ASSERT_TRUE(collector->wait_for_line("Received restart command", kDeadline))
      << collector->output();
  view = wait_for_view(server, [&](const json::value &v) {
    return number_at(v, {"connection", "connection_count"}) > connections_before &&
           at(v, {"connection", "connected"}) == json::value(true) &&
           at(v, {"health", "healthy"}) == json::value(true) &&
           number_at(v, {"health", "start_time_unix_nano"}) > start_time_before;
  });
  EXPECT_GT(number_at(view, {"connection", "connection_count"}), connections_before)
      << text(view) << "\n"
      << collector->output();
  EXPECT_GE(number_at(view, {"connection", "disconnect_count"}), 1u) << text(view);
  EXPECT_GT(number_at(view, {"health", "start_time_unix_nano"}), start_time_before) << text(view);
  EXPECT_EQ(at(view, {"pending", "restart"}), json::value(false));
  bool command_sent = false;
  for (const auto &entry : log_entries(server, "sent"))
    command_sent = command_sent || string_at(entry, {"command"}) == "Restart";
  EXPECT_TRUE(command_sent);
  EXPECT_TRUE(collector->running());
}

}  // namespace
}  // namespace opsup::testing
