// What the end-to-end tests of the supervisor with the real Collector share: a pipeline to
// push data through, the data, and reading the Collector's pid from the supervisor's log.
#pragma once

#include <sys/types.h>

#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "../opamp_server/server_process.hpp"

namespace opsup::testing {

// A Collector pipeline on a free port: OTLP/HTTP in, the debug exporter's detailed output
// (span names included) out, internal metrics off so no fixed port has to be free.
std::string pipeline_yaml(uint16_t otlp_http_port);

// The same with receiver otlp/<name> and pipeline traces/<name>, so several merge side by side;
// the port may be a `${env:...}` reference the Collector expands.
std::string named_pipeline_yaml(const std::string &otlp_http_port, const std::string &name);

// Writes `yaml` as storage/last_recv_remote_config.dat, a serialized AgentRemoteConfig as the
// Go supervisor and ours persist it, with the config hash `hash` (raw bytes).
void write_last_received_config(const std::filesystem::path &storage, const std::string &yaml,
                                const std::string &hash);

// A config the real Collector refuses when it starts (unknown component type), so it exits.
inline constexpr const char *kCrashingConfig =
    "receivers:\n  nosuchreceiver: {}\nexporters:\n  debug: {}\nservice:\n  telemetry:\n"
    "    metrics:\n      level: none\n  pipelines:\n    traces:\n      receivers: "
    "[nosuchreceiver]\n"
    "      exporters: [debug]\n";

// One span named `span_name` as OTLP/JSON, for POST /v1/traces.
std::string one_span_json(const std::string &span_name);

// POSTs one span to the Collector's OTLP/HTTP receiver; true on 200.
bool send_span(uint16_t otlp_http_port, const std::string &span_name);

// Pushes `yaml` as the agent's whole remote config map (one unnamed file) through the
// server's API; returns the config's hash (hex), "" when the server refused (a test failure).
std::string push_remote_config(const OpampServerProcess &server, const std::string &uid,
                               const std::string &yaml);

// Waits until the server has remote_config_status `status` for `hash`; the agent's view then,
// nullopt at the deadline.
std::optional<boost::json::value> wait_for_remote_config_status(const OpampServerProcess &server,
                                                                const std::string &uid,
                                                                const std::string &status,
                                                                const std::string &hash,
                                                                std::chrono::milliseconds timeout);

// The pid in the supervisor's "Collector started (pid N)" line; 0 when there is none.
pid_t collector_pid_from(const std::string &line);

// True while `pid` runs (a zombie does not).
bool process_exists(pid_t pid);

}  // namespace opsup::testing
