#include "fake_otelcol_fixture.hpp"

#include "support/paths.hpp"

namespace opsup::testing {

RunResult run_fake_otelcol(const std::vector<std::string> &args) {
  ChildProcess child({binary("fake-otelcol"), args, {}, {}});
  RunResult result;
  result.exit_code = child.wait_exit(kDeadline).value_or(-1);
  child.wait_output_closed(kDeadline);
  result.output = child.output();
  return result;
}

std::unique_ptr<ChildProcess> start_fake_otelcol(
    const std::vector<std::string> &args,
    const std::vector<std::pair<std::string, std::string>> &env) {
  return std::make_unique<ChildProcess>(ProcessOptions{binary("fake-otelcol"), args, env, {}});
}

YAML::Node minimal_config() {
  return YAML::Load(R"(
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:0
exporters:
  debug:
    verbosity: basic
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [debug]
)");
}

void add_extension(YAML::Node &config, const std::string &id, const YAML::Node &settings) {
  config["extensions"][id] = settings;
  config["service"]["extensions"].push_back(id);
}

YAML::Node opamp_settings(const std::string &endpoint) {
  YAML::Node settings;
  settings["instance_uid"] = kInstanceUid;
  const bool websocket = endpoint.rfind("ws", 0) == 0;
  YAML::Node server;
  server["endpoint"] = endpoint;
  server["tls"]["insecure"] = true;
  if (!websocket)
    server["polling_interval"] = "200ms";
  settings["server"][websocket ? "ws" : "http"] = server;
  return settings;
}

std::string write_config(const TempDir &dir, const YAML::Node &config, const std::string &name) {
  return dir.write_file(name, YAML::Dump(config)).string();
}

bool has_health_tree(const OpampTestServer::AgentToServer &message, bool healthy) {
  if (!message.has_health() || message.health().healthy() != healthy)
    return false;
  const auto &pipelines = message.health().component_health_map();
  return pipelines.count("pipeline:traces") > 0;
}

std::string attribute(const google::protobuf::RepeatedPtrField<opamp::proto::v1::KeyValue> &list,
                      const std::string &key) {
  for (const auto &kv : list) {
    if (kv.key() == key)
      return kv.value().string_value();
  }
  return "<absent>";
}

}  // namespace opsup::testing
