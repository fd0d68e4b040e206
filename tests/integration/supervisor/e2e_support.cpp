#include "e2e_support.hpp"

#include <signal.h>

#include <fstream>
#include <regex>

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "opamp.pb.h"
#include "support/eventually.hpp"
#include "support/http.hpp"

namespace opsup::testing {

std::string pipeline_yaml(uint16_t otlp_http_port) {
  return "receivers:\n  otlp:\n    protocols:\n      http:\n        endpoint: 127.0.0.1:" +
         std::to_string(otlp_http_port) +
         "\nexporters:\n  debug:\n    verbosity: detailed\n"
         "service:\n  telemetry:\n    metrics:\n      level: none\n"
         "  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [debug]\n";
}

std::string named_pipeline_yaml(const std::string &otlp_http_port, const std::string &name) {
  return "receivers:\n  otlp/" + name +
         ":\n    protocols:\n      http:\n        endpoint: 127.0.0.1:" + otlp_http_port +
         "\nexporters:\n  debug:\n    verbosity: detailed\n"
         "service:\n  telemetry:\n    metrics:\n      level: none\n"
         "  pipelines:\n    traces/" +
         name + ":\n      receivers: [otlp/" + name + "]\n      exporters: [debug]\n";
}

void write_last_received_config(const std::filesystem::path &storage, const std::string &yaml,
                                const std::string &hash) {
  std::filesystem::create_directories(storage);
  std::filesystem::permissions(storage, std::filesystem::perms::owner_all);
  opamp::proto::v1::AgentRemoteConfig remote;
  remote.set_config_hash(hash);
  auto &file = (*remote.mutable_config()->mutable_config_map())[""];
  file.set_body(yaml);
  file.set_content_type("text/yaml");
  std::ofstream(storage / "last_recv_remote_config.dat", std::ios::binary)
      << remote.SerializeAsString();
}

std::string one_span_json(const std::string &span_name) {
  return R"({"resourceSpans":[{"resource":{"attributes":[]},"scopeSpans":[{"scope":{},"spans":[)"
         R"({"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",)"
         R"("name":")" +
         span_name +
         R"(","kind":1,"startTimeUnixNano":"1544712660000000000","endTimeUnixNano":)"
         R"("1544712661000000000"}]}]}]})";
}

bool send_span(uint16_t otlp_http_port, const std::string &span_name) {
  const auto response =
      http_post("http://127.0.0.1:" + std::to_string(otlp_http_port) + "/v1/traces",
                one_span_json(span_name), "application/json", std::chrono::seconds(5));
  return response.status == 200;
}

std::string push_remote_config(const OpampServerProcess &server, const std::string &uid,
                               const std::string &yaml) {
  const auto answer =
      server.post_json("/api/agents/" + uid + "/config",
                       "{\"config\": " + boost::json::serialize(boost::json::value(yaml)) + "}");
  EXPECT_EQ(answer.status, 200) << boost::json::serialize(answer.body);
  return string_at(answer.body, {"hash"});
}

std::optional<boost::json::value> wait_for_remote_config_status(const OpampServerProcess &server,
                                                                const std::string &uid,
                                                                const std::string &status,
                                                                const std::string &hash,
                                                                std::chrono::milliseconds timeout) {
  boost::json::value agent;
  const bool reached = eventually(
      [&] {
        agent = server.agent(uid);
        return string_at(agent, {"remote_config_status", "status"}) == status &&
               string_at(agent, {"remote_config_status", "last_remote_config_hash"}) == hash;
      },
      timeout);
  if (!reached)
    return std::nullopt;
  return agent;
}

pid_t collector_pid_from(const std::string &line) {
  std::smatch match;
  if (!std::regex_search(line, match, std::regex("Collector started \\(pid ([0-9]+)\\)")))
    return 0;
  return static_cast<pid_t>(std::stoi(match[1].str()));
}

bool process_exists(pid_t pid) {
  if (pid <= 0 || ::kill(pid, 0) != 0)
    return false;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("State:", 0) == 0)
      return line.find('Z') == std::string::npos;
  }
  return false;
}

}  // namespace opsup::testing
