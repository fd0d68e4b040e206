// health: reports AgentToServer.health (ReportsHealth, issue 10 item 3).
//
// The Collector's opamp extension reports a ComponentHealth tree; the core routes each
// AgentToServer holding `health` here and tells the module when the process starts and
// exits. The module reports the tree with the process state laid over it
// (health_overlay.hpp) and sends only when that changes.
//
// Events it ignores, on purpose:
//   - SERVER_CONNECTED / SERVER_DISCONNECTED: a new connection changes nothing about the
//     Collector. Upstream resets health to unhealthy on every OpAMP client start, which
//     reports a healthy Collector as unhealthy after a reconnect (I#51009). The core keeps
//     the module's field and resends it in the full report of a new connection.
//   - COLLECTOR_HEALTHY, and COLLECTOR_UNHEALTHY while the Collector runs: the core derives
//     them from the same reports this module reads whole, so they add nothing. (While it
//     does not run, COLLECTOR_UNHEALTHY says why the core could not start it.)
#include <opsup/module.hpp>

#include <chrono>
#include <optional>
#include <string>

#include "health_overlay.hpp"
#include "opamp.pb.h"
#include "serialize.hpp"

namespace {

namespace health = opsup::health;
namespace proto = ::opamp::proto::v1;
using Phase = health::ProcessState::Phase;

uint64_t now_unix_nano() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

class HealthModule : public opsup::Module {
 public:
  explicit HealthModule(opsup::Host &host) : opsup::Module(host) {}

  void start() override {
    started_ = true;
    if (process_.phase == Phase::kUnknown)
      process_.changed_unix_nano = now_unix_nano();
    publish();  // "unknown" until the core or the Collector says more
  }

  void on_collector_message(std::string_view agent_to_server) override {
    proto::AgentToServer message;
    if (!message.ParseFromArray(agent_to_server.data(), static_cast<int>(agent_to_server.size()))) {
      host().warn("health: ignoring an AgentToServer from the Collector that does not parse");
      return;
    }
    if (!message.has_health())
      return;
    // A report that arrives after the exit comes from the dead process.
    if (process_.phase == Phase::kStopped) {
      host().debug("health: ignoring a health report from a Collector that has exited");
      return;
    }
    reported_ = message.health();
    publish();
  }

  void on_event(const opsup::Event &event) override {
    const uint64_t time = event.time_unix_nano != 0 ? event.time_unix_nano : now_unix_nano();
    switch (event.kind) {
      case OPSUP_EVENT_COLLECTOR_STARTED:
        started(event.pid, time);
        break;
      case OPSUP_EVENT_COLLECTOR_EXITED:
        stopped(health::exit_reason(event.exit_code, event.message), event.exit_code != 0, time);
        break;
      case OPSUP_EVENT_COLLECTOR_UNHEALTHY:
        // While the Collector runs, this repeats its extension's report, which the module
        // reads whole. While it does not run, the core could not start it and says why.
        if (process_.phase == Phase::kRunning)
          return;
        stopped(event.message.empty() ? "Collector could not start" : std::string(event.message),
                /*failed=*/true, time);
        break;
      default:
        return;  // see the header comment
    }
    // The previous process's tree says nothing about the new one.
    reported_.reset();
    publish();
  }

 private:
  void started(int64_t pid, uint64_t time) {
    // The same process started again: the core reloaded it (SIGHUP). Its pipelines restart,
    // so its tree goes, but the process, and with it start_time, stays.
    const bool reload = process_.phase == Phase::kRunning && pid != 0 && pid == process_.pid;
    if (!reload)
      process_.start_unix_nano = time;
    process_.changed_unix_nano = time;
    process_.phase = Phase::kRunning;
    process_.pid = pid;
    process_.reason.clear();
    process_.failed = false;
  }

  void stopped(std::string reason, bool failed, uint64_t time) {
    process_.phase = Phase::kStopped;
    process_.changed_unix_nano = time;
    process_.start_unix_nano = 0;
    process_.reason = std::move(reason);
    process_.failed = failed;
  }

  // Sets the health field unless it is what was sent last.
  void publish() {
    if (!started_)
      return;
    proto::AgentToServer fields;
    *fields.mutable_health() = health::overlay(process_, reported_);
    std::string bytes = opsup::health::serialize_deterministic(fields);
    if (bytes == last_sent_)
      return;
    const opsup_status status = host().set_agent_fields(bytes);
    if (status != OPSUP_OK) {
      host().error("health: the host refused the health field (status " + std::to_string(status) +
                   ")");
      return;
    }
    last_sent_ = std::move(bytes);
  }

  bool started_ = false;
  health::ProcessState process_;
  std::optional<proto::ComponentHealth> reported_;  // from the current process's extension
  std::string last_sent_;
};

}  // namespace

OPSUP_DEFINE_MODULE(HealthModule,
                    {.id = "health",
                     .version = "0.1.0",
                     .description = "Reports the Collector's component health, overlaid with "
                                    "whether its process runs",
                     .capabilities = OPSUP_CAP_REPORTS_HEALTH,
                     .agent_to_server_fields = {OPSUP_A2S_HEALTH}})
