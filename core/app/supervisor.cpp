#include "app/supervisor.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <csignal>
#include <ctime>
#include <functional>
#include <string>

#include "app/collector_options_mapping.hpp"
#include "app/config_reload.hpp"
#include "app/health_endpoint.hpp"
#include "app/log_settings_mapping.hpp"
#include "app/session_options_mapping.hpp"
#include "app/startup.hpp"
#include "app/telemetry_observers.hpp"
#include "collector/collector_controller.hpp"
#include "common/logging.hpp"
#include "common/uuid.hpp"
#include "config/capabilities.hpp"
#include "config/config_diff.hpp"
#include "modules/module_registry.hpp"
#include "opamp.pb.h"
#include "session/client_session.hpp"
#include "telemetry/supervisor_telemetry.hpp"

namespace opsup::app {
namespace {

namespace pb = opamp::proto::v1;

std::string rfc3339_now() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::uint64_t now_unix_nano() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

opsup_event_kind event_kind(collector::CollectorNoticeKind kind) {
  switch (kind) {
    case collector::CollectorNoticeKind::kStarted:
      return OPSUP_EVENT_COLLECTOR_STARTED;
    case collector::CollectorNoticeKind::kHealthy:
      return OPSUP_EVENT_COLLECTOR_HEALTHY;
    case collector::CollectorNoticeKind::kUnhealthy:
      return OPSUP_EVENT_COLLECTOR_UNHEALTHY;
    case collector::CollectorNoticeKind::kExited:
      return OPSUP_EVENT_COLLECTOR_EXITED;
  }
  return OPSUP_EVENT_COLLECTOR_UNHEALTHY;
}

// How the Collector controller describes an exit it caused (not a crash).
constexpr std::string_view kStoppedBySupervisor = "the Collector was stopped by the supervisor";

bool asks_for_full_state(std::string_view server_to_agent) {
  pb::ServerToAgent message;
  return message.ParseFromArray(server_to_agent.data(), static_cast<int>(server_to_agent.size())) &&
         (message.flags() & pb::ServerToAgentFlags_ReportFullState) != 0;
}

}  // namespace

struct Supervisor::Impl {
  const CommandLine &command;
  const config::SupervisorConfig &config;  // as started with
  // As last read (start or SIGHUP), its telemetry.logs as in force: what a reload compares
  // the live keys with. Keys that need a restart are compared with `config`.
  config::SupervisorConfig loaded;
  boost::asio::io_context io;
  // The supervisor's own telemetry; inert (no timer, no sink) until start_telemetry, and
  // after it when `telemetry` configures no exporter. The observers show it what modules
  // report. Declared before what feeds them, so they outlive it.
  std::unique_ptr<telemetry::SupervisorTelemetry> telemetry;
  std::unique_ptr<ObservedSupervisorContext> observed_context;
  std::unique_ptr<ObservedCollectorAccess> observed_collector;
  std::unique_ptr<session::ClientSession> session;
  std::unique_ptr<modules::ModuleRegistry> registry;
  std::unique_ptr<collector::CollectorController> collector;
  std::unique_ptr<HealthEndpoint> health;
  struct Applying {
    std::string hash;
    std::chrono::steady_clock::time_point since;
    telemetry::SpanHandle span;  // processRemoteConfigMessage
  };
  std::optional<Applying> applying;
  telemetry::SpanHandle message_span;  // onMessage, while a server message is routed
  bool ever_connected = false;
  bool collector_ever_started = false;
  bool modules_active = false;  // between registry start and stop: route and publish
  bool stopping = false;
  std::string server_since;  // RFC 3339 UTC of the current connection
  std::string server_last_error;

  Impl(const CommandLine &command_line, const config::SupervisorConfig &supervisor_config)
      : command(command_line),
        config(supervisor_config),
        loaded(supervisor_config),
        telemetry(std::make_unique<telemetry::SupervisorTelemetry>(
            io, telemetry::TelemetrySettings{}, telemetry::ResourceDefaults{})) {}

  void publish(opsup_event_kind kind, std::string_view text, pid_t pid = 0, int exit_code = 0,
               std::uint64_t generation = 0) {
    if (!modules_active)
      return;
    const std::string message(text);
    opsup_event event{};
    event.struct_size = sizeof(event);
    event.kind = kind;
    event.pid = pid;
    event.exit_code = exit_code;
    event.time_unix_nano = now_unix_nano();
    event.message = message.c_str();
    event.generation = generation;
    registry->publish_event(event);
  }

  session::SessionCallbacks session_callbacks() {
    session::SessionCallbacks callbacks;
    callbacks.route_server_message = [this](std::string_view message, uint64_t advertised) {
      message_span = telemetry->start_span("onMessage");
      if (collector && asks_for_full_state(message))
        collector->request_full_state();
      if (modules_active)
        registry->route_server_message(message, advertised);
      telemetry->end_span(message_span);
    };
    callbacks.on_message_sent = [this] {
      telemetry->add(telemetry::Metric::kMessages, 1, "direction", "sent");
    };
    callbacks.on_message_received = [this] {
      telemetry->add(telemetry::Metric::kMessages, 1, "direction", "received");
    };
    // The session logs connection changes itself; modules hear of them as events.
    callbacks.on_connected = [this] {
      telemetry->set(telemetry::Metric::kServerConnection, 1);
      if (ever_connected)
        telemetry->add(telemetry::Metric::kServerReconnects);
      ever_connected = true;
      server_since = rfc3339_now();
      publish(OPSUP_EVENT_SERVER_CONNECTED, "");
    };
    callbacks.on_disconnected = [this](std::string_view reason) {
      telemetry->set(telemetry::Metric::kServerConnection, 0);
      server_since.clear();
      server_last_error = std::string(reason);
      publish(OPSUP_EVENT_SERVER_DISCONNECTED, reason);
    };
    callbacks.on_connect_failed = [this](std::string_view reason) {
      telemetry->add(telemetry::Metric::kServerConnectFailures);
      server_last_error = std::string(reason);
    };
    // A server-assigned UID reaches the Collector's config too (extension, resource).
    callbacks.on_instance_uid_changed = [this](const session::InstanceUid &uid) {
      if (collector)
        collector->set_instance_uid(common::format_uuid(uid));
    };
    return callbacks;
  }

  collector::CollectorControllerCallbacks collector_callbacks() {
    collector::CollectorControllerCallbacks callbacks;
    callbacks.on_description = [this](const std::string &description) {
      try {
        session->set_agent_description(description);
      } catch (const std::exception &error) {
        spdlog::warn("The Collector's AgentDescription is not used: {}", error.what());
      }
    };
    callbacks.on_collector_message = [this](const std::string &message) {
      telemetry::SpanHandle span = telemetry->start_span("handleAgentOpAMPMessage");
      if (modules_active)
        registry->route_collector_message(message);
      telemetry->end_span(span);
    };
    callbacks.on_notice = [this](const collector::CollectorNotice &notice) {
      record_collector_notice(notice);
      publish(event_kind(notice.kind), notice.message, notice.pid, notice.exit_code,
              notice.generation);
    };
    callbacks.veto = [this](const std::string &config_yaml, bool /*trusted*/) {
      std::string reasons;
      if (!modules_active)
        return reasons;
      for (const auto &veto : registry->validate_collector_config(config_yaml))
        reasons += (reasons.empty() ? "" : "; ") + ("module " + veto.id + ": " + veto.reason);
      return reasons;
    };
    callbacks.rewrite = [this](const std::string &config_yaml) {
      collector::CollectorControllerCallbacks::Rewrite result{config_yaml, {}, {}};
      if (!modules_active)
        return result;
      modules::ModuleRegistry::ConfigRewrite rewrite =
          registry->rewrite_collector_config(config_yaml);
      if (rewrite.veto) {
        result.refusal = "module " + rewrite.veto->id + ": " + rewrite.veto->reason;
        return result;
      }
      result.config = std::move(rewrite.config);
      for (const auto &note : rewrite.notes)
        result.notes += (result.notes.empty() ? "" : "\n") + note;
      return result;
    };
    return callbacks;
  }

  void record_collector_notice(const collector::CollectorNotice &notice) {
    using telemetry::Metric;
    switch (notice.kind) {
      case collector::CollectorNoticeKind::kStarted:
        if (collector_ever_started)
          telemetry->add(Metric::kCollectorRestarts);
        collector_ever_started = true;
        break;
      case collector::CollectorNoticeKind::kHealthy:
        telemetry->set(Metric::kHealthStatus, 1);
        break;
      case collector::CollectorNoticeKind::kUnhealthy:
        telemetry->set(Metric::kHealthStatus, 0);
        break;
      case collector::CollectorNoticeKind::kExited:
        telemetry->set(Metric::kHealthStatus, 0);
        if (!notice.message.starts_with(kStoppedBySupervisor))
          telemetry->add(Metric::kCollectorCrashes);
        break;
    }
  }

  // A module's RemoteConfigStatus: APPLYING starts the apply (span processRemoteConfigMessage,
  // a child of onMessage when the server's message started it), APPLIED or FAILED for the
  // same hash ends it and counts it.
  void record_remote_config_status(const RemoteConfigStatusSeen &seen) {
    using telemetry::Metric;
    constexpr int kApplied = 1, kApplying = 2, kFailed = 3;
    if (seen.status == kApplying) {
      if (applying && applying->hash == seen.hash)
        return;
      if (applying)
        telemetry->end_span(applying->span, "superseded by another remote config");
      applying = Applying{seen.hash, std::chrono::steady_clock::now(),
                          telemetry->start_span("processRemoteConfigMessage",
                                                message_span.active ? &message_span : nullptr)};
      return;
    }
    if ((seen.status != kApplied && seen.status != kFailed) || !applying ||
        applying->hash != seen.hash)
      return;
    const char *outcome = seen.status == kApplied ? "applied" : "failed";
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - applying->since;
    telemetry->add(Metric::kConfigApplies, 1, "outcome", outcome);
    telemetry->record(Metric::kConfigApplyDuration, took.count(), "outcome", outcome);
    telemetry->end_span(
        applying->span,
        seen.status == kApplied
            ? std::string_view{}
            : std::string_view(seen.error_message.empty() ? "FAILED" : seen.error_message));
    applying.reset();
  }

  // The supervisor's own telemetry from `telemetry`; false (logged) when it cannot be set up.
  bool start_telemetry(const std::string &instance_uid) {
    telemetry::TelemetrySettings settings;
    try {
      settings = telemetry::read_telemetry_settings(config.telemetry, config.source_name);
    } catch (const std::exception &error) {
      spdlog::error("Cannot export the supervisor's own telemetry: {}", error.what());
      return false;
    }
    // settings.notes were printed with the config's other warnings (load_config).
    const bool enabled = settings.any();
    telemetry = std::make_unique<telemetry::SupervisorTelemetry>(
        io, std::move(settings), telemetry::ResourceDefaults{instance_uid, OPSUP_VERSION});
    // The states start known: not healthy, not in fallback, not connected.
    telemetry->set(telemetry::Metric::kHealthStatus, 0);
    telemetry->set(telemetry::Metric::kFallbackStatus, 0);
    telemetry->set(telemetry::Metric::kServerConnection, 0);
    if (enabled)
      spdlog::info("Exporting the supervisor's own telemetry over OTLP/HTTP");
    return true;
  }

  HealthSnapshot health_snapshot() const {
    HealthSnapshot snapshot;
    snapshot.server_connected = session && session->is_connected();
    snapshot.server_since = snapshot.server_connected ? server_since : "";
    snapshot.server_last_error = server_last_error;
    if (collector) {
      const modules::CollectorStateView state = collector->collector_state();
      snapshot.collector_running = state.running;
      // An empty composed config is an empty remote config map: stopped on purpose.
      const std::optional<std::string> composed = collector->composed_config();
      snapshot.collector_expected_to_run = !composed || !composed->empty();
      snapshot.collector_health = state.health == modules::CollectorHealth::kHealthy ? "healthy"
                                  : state.health == modules::CollectorHealth::kUnhealthy
                                      ? "unhealthy"
                                      : "unknown";
      snapshot.collector_pid = state.pid;
      snapshot.collector_restarts = state.restart_count;
      snapshot.collector_generation = state.generation;
      snapshot.collector_last_error = state.last_error;
    }
    if (registry) {
      for (const auto &module : registry->listing()) {
        switch (module.state) {
          case modules::ModuleState::kStarted:
            snapshot.modules_started.push_back(module.id);
            break;
          case modules::ModuleState::kRefused:
            snapshot.modules_refused.push_back(module.path.filename().string() + ": " +
                                               module.reason);
            break;
          case modules::ModuleState::kCreateFailed:
          case modules::ModuleState::kStartFailed:
            snapshot.modules_failed.push_back(module.id + ": " + module.reason);
            break;
          default:
            break;
        }
      }
    }
    return snapshot;
  }

  // Everything before the loop runs. False when start-up must stop (already logged).
  bool start() {
    try {
      session = std::make_unique<session::ClientSession>(
          io, make_session_options(config, /*advertised_capabilities=*/0x1), session_callbacks());
    } catch (const std::exception &error) {
      spdlog::error("Cannot start the OpAMP session: {}", error.what());
      return false;
    }
    if (!start_telemetry(common::format_uuid(session->instance_uid())))
      return false;
    observed_context = std::make_unique<ObservedSupervisorContext>(
        *session,
        [this](const RemoteConfigStatusSeen &seen) { record_remote_config_status(seen); });
    registry = std::make_unique<modules::ModuleRegistry>(io, *observed_context,
                                                         modules_config(command, config));
    StartupOutcome outcome = load_and_create_modules(*registry, config);
    for (const auto &info : outcome.infos)
      spdlog::info("{}", info);
    if (!outcome.errors.empty()) {
      for (const auto &error : outcome.errors)
        spdlog::error("{}", error);
      registry->stop();
      return false;
    }
    const std::string instance_uid = common::format_uuid(session->instance_uid());
    collector = std::make_unique<collector::CollectorController>(
        io, make_collector_options(config, instance_uid), collector_callbacks());
    observed_collector =
        std::make_unique<ObservedCollectorAccess>(*collector, [this](bool fallback) {
          telemetry->set(telemetry::Metric::kFallbackStatus, fallback ? 1 : 0);
        });
    registry->set_collector_access(observed_collector.get());
    try {
      collector->prepare();
    } catch (const std::exception &error) {
      spdlog::error("Cannot run the Collector: {}", error.what());
      registry->stop();
      return false;
    }
    if (config.healthcheck.enabled()) {
      try {
        health = std::make_unique<HealthEndpoint>(io, config.healthcheck,
                                                  [this] { return health_snapshot(); });
        health->start();
        spdlog::info("Health endpoint listening on {} (/health, /health/live, /health/ready)",
                     config.healthcheck.endpoint);
      } catch (const std::exception &error) {
        spdlog::error("Cannot serve healthcheck.endpoint {}: {}", config.healthcheck.endpoint,
                      error.what());
        registry->stop();
        return false;
      }
    }
    session->set_capabilities(outcome.advertised_capabilities);
    modules_active = true;
    for (const auto &failure : registry->start())
      spdlog::error("Module {} did not start: {}", failure.id, failure.reason);
    count_module_failures();
    spdlog::info("Supervisor starting: id {}, advertising {}", instance_uid,
                 config::capability_names(session->capabilities()));
    try {
      // The session connects once the Collector's description is known (or the bootstrap
      // failed), so the server's first view of this agent is the Collector's own.
      auto bootstrap =
          std::make_shared<telemetry::SpanHandle>(telemetry->start_span("GetBootstrapInfo"));
      collector->start([this, bootstrap](const std::string &bootstrap_error) {
        telemetry->end_span(*bootstrap, bootstrap_error);
        if (!stopping)
          session->start();
      });
    } catch (const std::exception &error) {
      spdlog::error("Cannot run the Collector: {}", error.what());
      modules_active = false;
      registry->stop();
      return false;
    }
    return true;
  }

  // Opens the log outputs of `logs` anew (a file logrotate moved away is created again).
  // False, logged, when they cannot be used: the previous outputs stay.
  static bool reopen_logs(const config::LogsConfig &logs, const std::string &file) {
    try {
      common::configure_logging(make_log_settings(logs));
      return true;
    } catch (const std::exception &error) {
      spdlog::error("{}: telemetry.logs: {}; the log outputs stay as they were", file,
                    error.what());
      return false;
    }
  }

  // SIGHUP: reads the config file again and applies what can change while running (see
  // config_diff.hpp); a file that does not load changes nothing.
  void reload() {
    const std::string file = config.source_name;
    ReloadedConfig reloaded = reload_config(command, config);
    if (!reloaded.config) {
      (void)reopen_logs(loaded.telemetry.logs, file);
      spdlog::info("Received SIGHUP: read {} again", file);
      for (const auto &error : reloaded.errors)
        spdlog::error("Reload refused, still running on the previous config: {}", error);
      return;
    }
    config::SupervisorConfig next = std::move(*reloaded.config);
    // The log outputs first, so the rest of the reload is logged where the new file says.
    if (!reopen_logs(next.telemetry.logs, file))
      next.telemetry.logs = loaded.telemetry.logs;
    spdlog::info("Received SIGHUP: read {} again", file);
    for (const auto &warning : reloaded.warnings)
      spdlog::warn("{}", warning);

    std::vector<std::string> applied;
    for (const auto &change : config::diff_configs(loaded, next)) {
      if (change.live)
        applied.push_back(change.key);
    }
    std::vector<std::string> pending;
    for (const auto &change : config::diff_configs(config, next)) {
      if (!change.live)
        pending.push_back(change.key);
    }
    for (const auto &key : pending) {
      spdlog::warn(
          "{} differs from the config the supervisor started with; it takes effect "
          "only after a restart",
          key_location(next, key));
    }
    const auto &description = next.agent.description;
    if (description.identifying_attributes != loaded.agent.description.identifying_attributes ||
        description.non_identifying_attributes !=
            loaded.agent.description.non_identifying_attributes) {
      session->set_description_overrides(
          {description.identifying_attributes, description.non_identifying_attributes});
    }
    if (next.server.heartbeat_interval != loaded.server.heartbeat_interval) {
      session->set_heartbeat_interval(
          std::chrono::ceil<std::chrono::seconds>(next.server.heartbeat_interval));
    }
    std::string applied_list;
    for (const auto &key : applied)
      applied_list += (applied_list.empty() ? "" : ", ") + key;
    spdlog::info("Reloaded {}: {}", file,
                 applied.empty() ? std::string("no change to apply while running")
                                 : "applied " + applied_list);
    // The local config files are read again even when their list is the same: an edited
    // file is picked up; an unchanged composition leaves the Collector alone.
    collector->set_config_files(
        next.agent.config_files, [file](const modules::ConfigChangeResult &result) {
          using Status = modules::ConfigChangeResult::Status;
          if (result.status != Status::kOk) {
            spdlog::error(
                "Reload of {} finished: the Collector keeps its previous config, the reloaded "
                "agent.config_files cannot be used: {}",
                file, result.error);
          } else if (result.changed) {
            spdlog::info("Reload of {} finished: the Collector runs config generation {}", file,
                         result.generation);
          } else {
            spdlog::info("Reload of {} finished: the Collector's config is unchanged", file);
          }
        });
    loaded = std::move(next);
  }

  // Modules refused at load or failed to be created or started.
  void count_module_failures() {
    for (const auto &module : registry->listing()) {
      if (module.state == modules::ModuleState::kRefused ||
          module.state == modules::ModuleState::kCreateFailed ||
          module.state == modules::ModuleState::kStartFailed)
        telemetry->add(telemetry::Metric::kModuleLoadFailures);
    }
  }

  // SIGTERM/SIGINT: the Collector stops, then agent_disconnect and close, then the modules.
  // A second signal during that bounded wait exits at once.
  void shut_down(boost::asio::signal_set &signals, boost::asio::signal_set &hangups) {
    stopping = true;
    collector->stop([this, &signals, &hangups] {
      session->shutdown([this, &signals, &hangups] {
        modules_active = false;
        registry->stop();
        signals.cancel();
        hangups.cancel();
        // The last spans, log records and metrics, within a bounded wait.
        telemetry->shutdown(std::chrono::seconds(2), [this] { io.stop(); });
      });
    });
  }
};

Supervisor::Supervisor(const CommandLine &command, const config::SupervisorConfig &config)
    : impl_(std::make_unique<Impl>(command, config)) {}

Supervisor::~Supervisor() {
  if (impl_->registry) {
    impl_->modules_active = false;
    impl_->registry->stop();
  }
}

int Supervisor::run() {
  Impl &s = *impl_;
  // Installed before start-up, whose probes and checks block: a SIGTERM then waits for the
  // loop instead of ending the process by its default action.
  boost::asio::signal_set signals(s.io, SIGINT, SIGTERM);
  boost::asio::signal_set hangups(s.io, SIGHUP);
  if (!s.start())
    return 1;
  std::function<void(const boost::system::error_code &, int)> on_signal =
      [&](const boost::system::error_code &error, int signal_number) {
        if (error)
          return;
        if (s.stopping) {
          spdlog::warn("Second signal {}; exiting now", signal_number);
          std::_Exit(1);
        }
        spdlog::info("Received signal {}; shutting down", signal_number);
        signals.async_wait(on_signal);
        s.shut_down(signals, hangups);
      };
  signals.async_wait(on_signal);
  // SIGHUP (systemctl reload; upstream's packages send it): the config file is read again.
  std::function<void(const boost::system::error_code &, int)> on_hangup =
      [&](const boost::system::error_code &error, int) {
        if (error || s.stopping)
          return;
        s.reload();
        hangups.async_wait(on_hangup);
      };
  hangups.async_wait(on_hangup);
  s.io.run();
  spdlog::info("Supervisor stopped");
  return 0;
}

}  // namespace opsup::app
