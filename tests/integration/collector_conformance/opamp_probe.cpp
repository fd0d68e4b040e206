#include "opamp_probe.hpp"

#include <signal.h>
#include <sys/types.h>

#include <algorithm>
#include <set>

#include "support/eventually.hpp"
#include "support/opamp_test_server.hpp"
#include "support/paths.hpp"

namespace opsup::testing {
namespace {

namespace pb = opamp::proto::v1;
using Message = OpampTestServer::AgentToServer;

std::string sorted_joined(std::vector<std::string> items) {
  std::sort(items.begin(), items.end());
  std::string text;
  for (const auto &item : items)
    text += (text.empty() ? "" : ",") + item;
  return text;
}

// The top-level fields a message carries (sequence_num and instance_uid always do), with
// effective_config left out when `with_effective_config` is false.
std::string fields_set(const Message &m, bool with_effective_config = true) {
  std::vector<std::string> fields;
  if (m.has_agent_description())
    fields.push_back("agent_description");
  if (m.capabilities() != 0)
    fields.push_back("capabilities");
  if (m.has_health())
    fields.push_back("health");
  if (with_effective_config && m.has_effective_config())
    fields.push_back("effective_config");
  if (m.has_remote_config_status())
    fields.push_back("remote_config_status");
  if (m.has_package_statuses())
    fields.push_back("package_statuses");
  if (m.has_agent_disconnect())
    fields.push_back("agent_disconnect");
  if (m.flags() != 0)
    fields.push_back("flags");
  if (m.has_connection_settings_request())
    fields.push_back("connection_settings_request");
  if (m.has_custom_capabilities())
    fields.push_back("custom_capabilities");
  if (m.has_custom_message())
    fields.push_back("custom_message");
  if (m.has_available_components())
    fields.push_back("available_components");
  if (m.has_connection_settings_status())
    fields.push_back("connection_settings_status");
  return sorted_joined(fields);
}

std::string capability_names(uint64_t bits) {
  std::vector<std::string> names;
  for (int bit = 0; bit < 64; ++bit) {
    const uint64_t value = uint64_t{1} << bit;
    if ((bits & value) == 0)
      continue;
    const auto name = pb::AgentCapabilities_Name(static_cast<pb::AgentCapabilities>(value));
    names.push_back(name.empty() ? "bit" + std::to_string(bit) : name);
  }
  return sorted_joined(names);
}

std::vector<std::string> keys_of(const google::protobuf::RepeatedPtrField<pb::KeyValue> &list) {
  std::vector<std::string> keys;
  for (const auto &kv : list)
    keys.push_back(kv.key());
  return keys;
}

// "{healthy,status=StatusOK,start,status_time}[child{...}[...],...]" without times' values.
std::string health_shape(const pb::ComponentHealth &health) {
  std::string text = "{";
  text += health.healthy() ? "healthy" : "unhealthy";
  text += ",status=" + health.status();
  if (health.start_time_unix_nano() != 0)
    text += ",start_time";
  if (health.status_time_unix_nano() != 0)
    text += ",status_time";
  if (!health.last_error().empty())
    text += ",last_error";
  if (health.attributes_size() != 0)
    text += ",attributes=" + sorted_joined(keys_of(health.attributes()));
  text += "}";
  std::vector<std::string> children;
  for (const auto &[name, child] : health.component_health_map())
    children.push_back(name + health_shape(child));
  if (!children.empty()) {
    std::sort(children.begin(), children.end());
    text += "[";
    for (size_t i = 0; i < children.size(); ++i)
      text += (i ? "," : "") + children[i];
    text += "]";
  }
  return text;
}

bool healthy_with_pipeline(const Message &m) {
  return m.has_health() && m.health().healthy() &&
         m.health().component_health_map().count("pipeline:traces") > 0;
}

uint64_t last_sequence(OpampTestServer &server) {
  auto all = server.messages();
  return all.empty() ? 0 : all.back().sequence_num();
}

std::optional<Message> ask(OpampTestServer &server, const Message &first, uint64_t flags,
                           const std::function<bool(const Message &)> &answer) {
  const uint64_t before = last_sequence(server);
  pb::ServerToAgent request;
  request.set_instance_uid(first.instance_uid());
  request.set_flags(flags);
  server.send(request);
  return server.wait_for_message(
      [&](const Message &m) { return m.sequence_num() > before && answer(m); }, kProbeDeadline);
}

std::string components_shape(const pb::AvailableComponents &components) {
  std::vector<std::string> kinds;
  std::set<std::string> metadata_keys;
  for (const auto &[kind, details] : components.components()) {
    kinds.push_back(kind);
    for (const auto &[type, component] : details.sub_component_map()) {
      for (const auto &key : keys_of(component.metadata()))
        metadata_keys.insert(key);
    }
  }
  return "kinds=" + sorted_joined(kinds) +
         " metadata=" + sorted_joined({metadata_keys.begin(), metadata_keys.end()});
}

// SIGTERM, then the exit code as text ("still running" at the deadline).
std::string exit_after_sigterm(ChildProcess &collector) {
  collector.send_signal(SIGTERM);
  const auto exit_code = collector.wait_exit(kProbeDeadline);
  collector.wait_output_closed(kProbeDeadline);
  return exit_code ? std::to_string(*exit_code) : "still running";
}

// The Collector of `kind` with `config` plus the opamp extension pointing at `server`.
std::unique_ptr<ChildProcess> start_with_opamp(CollectorKind kind, OpampTestServer &server,
                                               const TempDir &dir, YAML::Node config) {
  add_opamp_extension(config, server.ws_url());
  return start_collector(kind, {"--config", write_config(dir, config)});
}

}  // namespace

Shape observe_opamp_session(CollectorKind kind, std::string &output) {
  Shape shape;
  OpampTestServer server;
  TempDir dir;
  auto collector = start_with_opamp(kind, server, dir, minimal_pipeline_config());

  auto first = server.wait_for_message([](const Message &) { return true; }, kProbeDeadline);
  if (!first) {
    output = collector->output();
    shape["connected"] = "no";
    return shape;
  }
  shape["first.sequence_num"] = std::to_string(first->sequence_num());
  // Whether the effective config rides in the first message is a race in the real one.
  shape["first.fields"] = fields_set(*first, /*with_effective_config=*/false);
  shape["first.capabilities"] = capability_names(first->capabilities());
  if (first->has_remote_config_status()) {
    const auto &status = first->remote_config_status();
    shape["first.remote_config_status"] =
        "hash bytes=" + std::to_string(status.last_remote_config_hash().size()) +
        " status=" + pb::RemoteConfigStatuses_Name(status.status()) +
        (status.error_message().empty() ? "" : " error");
  }
  if (first->has_package_statuses()) {
    const auto &statuses = first->package_statuses();
    shape["first.package_statuses"] =
        "packages=" + std::to_string(statuses.packages_size()) +
        " hash bytes=" + std::to_string(statuses.server_provided_all_packages_hash().size());
  }
  if (first->has_available_components()) {
    shape["first.available_components"] =
        "hash bytes=" + std::to_string(first->available_components().hash().size()) +
        " components=" + std::to_string(first->available_components().components_size());
  }

  auto described = server.wait_for_message(
      [](const Message &m) { return m.has_agent_description(); }, kProbeDeadline);
  if (described) {
    const auto &description = described->agent_description();
    shape["description.identifying"] = sorted_joined(keys_of(description.identifying_attributes()));
    shape["description.non_identifying"] =
        sorted_joined(keys_of(description.non_identifying_attributes()));
    std::string instance_id;
    for (const auto &kv : description.identifying_attributes()) {
      if (kv.key() == "service.instance.id")
        instance_id = kv.value().string_value();
    }
    shape["description.service.instance.id"] =
        instance_id == kProbeInstanceUid ? "the configured instance_uid" : "'" + instance_id + "'";
  }

  auto healthy = server.wait_for_message(healthy_with_pipeline, kProbeDeadline);
  shape["health.tree"] = healthy ? health_shape(healthy->health()) : "never healthy";

  auto configured = server.wait_for_message(
      [](const Message &m) { return m.has_effective_config(); }, kProbeDeadline);
  if (configured) {
    std::vector<std::string> files;
    std::string parsed = "no";
    for (const auto &[name, file] : configured->effective_config().config_map().config_map()) {
      files.push_back("'" + name + "':" + file.content_type());
      try {
        const YAML::Node body = YAML::Load(file.body());
        if (body["receivers"]["otlp"] && body["extensions"]["opamp"])
          parsed = "yaml with receivers.otlp and extensions.opamp";
      } catch (const YAML::Exception &) {
        parsed = "not yaml";
      }
    }
    shape["effective_config.files"] = sorted_joined(files);
    shape["effective_config.body"] = parsed;
  } else {
    shape["effective_config.files"] = "never sent";
  }

  auto full_state = ask(server, *first, pb::ServerToAgentFlags_ReportFullState,
                        [](const Message &m) { return m.has_agent_description(); });
  shape["report_full_state.answer"] = full_state ? fields_set(*full_state) : "none";

  auto components =
      ask(server, *first, pb::ServerToAgentFlags_ReportAvailableComponents,
          [](const Message &m) { return m.available_components().components_size() > 0; });
  shape["report_available_components.answer"] =
      components ? components_shape(components->available_components()) : "none";

  // A remote config it did not ask for, then ReportFullState: whatever it says to the
  // config comes before the full state (one connection, in order).
  const uint64_t before_config = last_sequence(server);
  pb::ServerToAgent offer;
  offer.set_instance_uid(first->instance_uid());
  auto &file = (*offer.mutable_remote_config()->mutable_config()->mutable_config_map())[""];
  file.set_body("receivers:\n  nop: {}\n");
  file.set_content_type("text/yaml");
  offer.mutable_remote_config()->set_config_hash("conformance");
  server.send(offer);
  auto after_config = ask(server, *first, pb::ServerToAgentFlags_ReportFullState,
                          [](const Message &m) { return m.has_agent_description(); });
  std::string config_answer = after_config ? "ignored" : "no full state afterwards";
  for (const auto &m : server.messages()) {
    if (after_config && m.sequence_num() > before_config &&
        m.sequence_num() < after_config->sequence_num() && m.has_remote_config_status())
      config_answer = "remote_config_status " +
                      pb::RemoteConfigStatuses_Name(m.remote_config_status().status());
  }
  shape["remote_config.answer"] = config_answer;
  shape["remote_config.still_running"] = collector->running() ? "yes" : "no";

  shape["sigterm.exit_code"] = exit_after_sigterm(*collector);
  shape["sigterm.agent_disconnect"] =
      server.wait_for_message([](const Message &m) { return m.has_agent_disconnect(); }, 5s)
          ? "sent"
          : "not sent";
  output = collector->output();
  return shape;
}

// One SIGHUP observation; see observe_sighup.
Shape observe_sighup_once(CollectorKind kind, std::string &output) {
  Shape shape;
  OpampTestServer server;
  TempDir dir;
  auto collector = start_with_opamp(kind, server, dir, minimal_pipeline_config());
  if (!server.wait_for_message(healthy_with_pipeline, kProbeDeadline)) {
    output = collector->output();
    shape["healthy"] = "never";
    return shape;
  }
  // The real Collector reports healthy before it installs its SIGHUP handler, which comes
  // right after it logs "Everything is ready": a SIGHUP before that ends it (exit 129).
  if (!collector->wait_for_line("Everything is ready", kProbeDeadline)) {
    output = collector->output();
    shape["ready"] = "never";
    return shape;
  }
  const auto connections_before = server.connections_opened();
  const auto messages_before = server.messages().size();
  collector->send_signal(SIGHUP);
  // Done reloading: connected again and healthy once more, or the process is gone.
  const bool settled = eventually(
      [&] {
        if (!collector->running())
          return true;
        if (server.connections_opened() == connections_before)
          return false;
        auto all = server.messages();
        return std::any_of(all.begin() + static_cast<std::ptrdiff_t>(messages_before), all.end(),
                           healthy_with_pipeline);
      },
      kProbeDeadline);
  shape["sighup.settled"] = settled ? "yes" : "no";
  shape["sighup.running"] = collector->running() ? "yes" : "no";
  shape["sighup.reconnected"] =
      server.connections_opened() > connections_before ? "new connection" : "same connection";
  bool disconnect = false;
  for (const auto &m : server.messages())
    disconnect = disconnect || m.has_agent_disconnect();
  shape["sighup.agent_disconnect"] = disconnect ? "sent" : "not sent";
  shape["sighup.then_sigterm_exit_code"] = exit_after_sigterm(*collector);
  output = collector->output();
  return shape;
}

Shape observe_sighup(CollectorKind kind, std::string &output) {
  // The real Collector logs "Everything is ready" a moment before it asks for SIGHUP
  // (signal.Notify follows service start), and nothing it does shows that moment. A SIGHUP
  // inside that window ends it (exit 129) before it says it received the signal: that is
  // the start-up window, not its reload behaviour, so the observation starts over.
  Shape shape;
  for (int attempt = 0; attempt < 5; ++attempt) {
    shape = observe_sighup_once(kind, output);
    const bool died_in_startup_window = shape["sighup.running"] == "no" &&
                                        output.find("Received signal from OS") == std::string::npos;
    if (!died_in_startup_window)
      break;
  }
  return shape;
}

Shape observe_parent_death(CollectorKind kind, std::string &output) {
  Shape shape;
  OpampTestServer server;
  TempDir dir;
  YAML::Node config = minimal_pipeline_config();
  add_opamp_extension(config, server.ws_url());
  config["extensions"]["opamp"]["ppid"] = "${env:PROBE_PARENT_PID}";
  config["extensions"]["opamp"]["ppid_poll_interval"] = "100ms";
  const auto path = write_config(dir, config);
  // The shell stays alive as the Collector's parent and says the Collector's pid, so the
  // test can clean up an orphan that does not stop by itself.
  ChildProcess shell({"/bin/sh",
                      {"-c",
                       "PROBE_PARENT_PID=$$ \"$0\" --config \"$1\" & echo \"collector pid $!\"; "
                       "wait",
                       collector_executable(kind).string(), path},
                      {},
                      {}});
  const auto pid_line = shell.wait_for_line("^collector pid [0-9]+$", kProbeDeadline);
  if (!pid_line || !server.wait_for_message(healthy_with_pipeline, kProbeDeadline)) {
    output = shell.output();
    shape["healthy"] = "never";
    return shape;
  }
  const pid_t collector_pid = std::stoi(pid_line->substr(std::string("collector pid ").size()));
  shell.send_signal(SIGKILL);
  shell.wait_exit(kProbeDeadline);
  // A working watch (polling every 100 ms) stops the Collector well within this; the orphan
  // closes the pipes it inherited when it exits.
  const bool exited = shell.wait_output_closed(kOrphanGrace);
  shape["orphan.exits"] = exited ? "yes" : "no";
  shape["orphan.agent_disconnect"] =
      server.wait_for_message([](const Message &m) { return m.has_agent_disconnect(); },
                              exited ? kProbeDeadline : 0s)
          ? "sent"
          : "not sent";
  shape["orphan.logs_orphaned"] = shell.count_lines("collector was orphaned") > 0 ? "yes" : "no";
  if (!exited) {
    ::kill(collector_pid, SIGKILL);
    shell.wait_output_closed(kProbeDeadline);
  }
  output = shell.output();
  return shape;
}

}  // namespace opsup::testing
