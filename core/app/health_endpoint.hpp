// The supervisor's `healthcheck` endpoint (upstream keys `endpoint`, `tls`; off unless an
// endpoint with a port is configured, as upstream):
//
//   GET /health        200 while the supervisor runs, as upstream (existing probes keep
//                      working); the body says how everything is.
//   GET /health/live   200 while the supervisor's loop answers (liveness).
//   GET /health/ready  200 only while the server link is up and the Collector is healthy (or
//                      deliberately not running, for an empty remote config); 503 otherwise,
//                      the body saying why (readiness).
//
// The body is one JSON object: {"status", "server": {connected, since, last_error},
// "collector": {running, health, pid, restarts, generation, last_error},
// "modules": {started: [...], refused: [...], failed: [...]}}.
//
// Threading: construct, start() and the snapshot callback on the loop thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/supervisor_config.hpp"

namespace boost::asio {
class io_context;
}

namespace opsup::app {

struct HealthSnapshot {
  bool server_connected = false;
  std::string server_since;  // RFC 3339 UTC of the current connection, "" when down
  std::string server_last_error;
  bool collector_running = false;
  bool collector_expected_to_run = true;     // false: stopped on purpose (empty remote config)
  std::string collector_health = "unknown";  // "healthy", "unhealthy", "unknown"
  pid_t collector_pid = 0;
  std::uint64_t collector_restarts = 0;
  std::uint64_t collector_generation = 0;
  std::string collector_last_error;
  std::vector<std::string> modules_started;
  std::vector<std::string> modules_refused;  // "<file>: <reason>"
  std::vector<std::string> modules_failed;   // "<id>: <reason>"
};

// Ready: the server link is up and the Collector is healthy or not meant to run.
bool ready(const HealthSnapshot &snapshot);
// The JSON body described above.
std::string health_json(const HealthSnapshot &snapshot);

class HealthEndpoint {
 public:
  // Throws std::invalid_argument naming healthcheck.endpoint or healthcheck.tls when they
  // cannot be used.
  HealthEndpoint(boost::asio::io_context &io, const config::HealthCheckConfig &config,
                 std::function<HealthSnapshot()> snapshot);
  ~HealthEndpoint();
  // Binds and serves. Throws std::system_error naming the address.
  void start();
  std::uint16_t port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace opsup::app
