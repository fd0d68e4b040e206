#include "collector/collector_controller.hpp"

#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstdio>
#include <deque>
#include <fstream>
#include <iterator>
#include <thread>

#include "collector/bootstrap_cache.hpp"
#include "collector/collector_bootstrap.hpp"
#include "collector/collector_log_line.hpp"
#include "collector/collector_runner.hpp"
#include "collector/collector_validation.hpp"
#include "collector/config_composition.hpp"
#include "collector/executable_update.hpp"
#include "collector/local_opamp_server.hpp"
#include "collector/update_recovery.hpp"
#include "common/logging.hpp"
#include "common/uuid.hpp"
#include "opamp.pb.h"
#include "storage/atomic_file.hpp"

namespace opsup::collector {
namespace {

namespace asio = boost::asio;
namespace pb = opamp::proto::v1;
using modules::CollectorHealth;
using modules::ConfigChangeResult;

constexpr const char *kAllowNoPipelinesGate = "service.AllowNoPipelines";

// Merged under everything when the composed config has no pipeline and the Collector cannot
// run without one (upstream does the same).
constexpr const char *kNopPipelineYaml =
    "receivers:\n  nop: {}\nexporters:\n  nop: {}\nservice:\n  pipelines:\n    traces:\n"
    "      receivers: [nop]\n      exporters: [nop]\n";

std::shared_ptr<spdlog::logger> logger() {
  return common::get_logger("collector");
}

std::uint64_t now_unix_nano() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

bool has_pipelines(const std::string &composed) {
  try {
    const YAML::Node pipelines = YAML::Load(composed)["service"]["pipelines"];
    return pipelines && pipelines.IsMap() && pipelines.size() > 0;
  } catch (const YAML::Exception &) {
    return false;
  }
}

// Logs one line of the Collector's output at its own level. The Collector's last words
// before it exits on a config it cannot run are "Error: ..." followed by the details on
// lines of their own; those belong to the error too (`failing`, reset at every start).
void log_collector_line(std::string_view line, bool &failing) {
  const CollectorLogLine parsed = parse_collector_log_line(line);
  if (parsed.text.empty())
    return;
  if (parsed.level == CollectorLogLevel::kError && parsed.text.rfind("Error: ", 0) == 0)
    failing = true;
  static const auto collector_logger = common::get_logger("collector");
  switch (failing ? CollectorLogLevel::kError : parsed.level) {
    case CollectorLogLevel::kDebug:
      collector_logger->debug("{}", parsed.text);
      break;
    case CollectorLogLevel::kWarn:
      collector_logger->warn("{}", parsed.text);
      break;
    case CollectorLogLevel::kError:
      collector_logger->error("{}", parsed.text);
      break;
    default:
      collector_logger->info("{}", parsed.text);
  }
}

// The layers a config change may touch.
struct Layers {
  struct ModuleLayer {
    std::string module_id;
    std::string name;
    std::string yaml;
    bool own_telemetry = false;  // at $OWN_TELEMETRY_CONFIG, not after $REMOTE_CONFIG
  };
  std::vector<std::string> config_files;  // agent.config_files
  std::optional<std::vector<modules::RemoteConfigFile>> remote;
  std::vector<ModuleLayer> module_layers;  // in the order first contributed
};

}  // namespace

struct CollectorController::State : std::enable_shared_from_this<CollectorController::State> {
  State(asio::io_context &io_context, CollectorControllerOptions controller_options,
        CollectorControllerCallbacks controller_callbacks)
      : io(io_context),
        options(std::move(controller_options)),
        callbacks(std::move(controller_callbacks)) {
    layers.config_files = options.config_files;
  }

  struct PendingChange {
    std::function<void(Layers &)> mutate;
    modules::ConfigChangeOptions options;
    ChangeDone done;
    // Set for work that must run alone (an executable update): it gets the queue and
    // calls `finished` to hand it back; mutate and done are unused.
    std::function<void(std::function<void()> finished)> exclusive{};
  };

  asio::io_context &io;
  CollectorControllerOptions options;
  CollectorControllerCallbacks callbacks;

  std::vector<std::string> feature_gates;
  bool allow_no_pipelines = false;
  std::string bootstrap_cache_key;
  std::optional<BootstrapResult> cached_bootstrap;

  std::unique_ptr<CollectorBootstrap> bootstrap;
  std::unique_ptr<LocalOpampServer> server;
  std::unique_ptr<CollectorRunner> runner;
  std::unique_ptr<CollectorValidation> validation;

  Layers layers;
  std::optional<std::string> composed;  // what the runner was given last
  std::uint64_t latest_generation = 0;  // of `composed`
  std::string last_description;         // serialized, as last passed on

  bool ready = false;  // the bootstrap is over: changes may be applied
  bool stopping = false;
  bool change_running = false;
  std::deque<PendingChange> changes;

  // The Collector executable update under way, what start-up found of an interrupted one,
  // and what the bootstrap cache is refreshed with afterwards.
  std::unique_ptr<ExecutableUpdate> update;
  UpdateRecovery recovery;
  std::string description_before_update;
  std::string last_available_components;  // serialized, with components, from the extension
  std::thread cache_refresh;

  bool collector_failing = false;  // passthrough: the Collector printed its final "Error: "
  CollectorHealth health = CollectorHealth::kUnknown;
  std::string last_error = "the Collector has not started yet";
  std::uint64_t start_time_unix_nano = 0;

  void notify(CollectorNoticeKind kind, std::uint64_t generation, pid_t pid,
              std::string message = {}, int exit_code = 0) {
    if (!callbacks.on_notice)
      return;
    CollectorNotice notice;
    notice.kind = kind;
    notice.generation = generation;
    notice.pid = pid;
    notice.exit_code = exit_code;
    notice.message = std::move(message);
    callbacks.on_notice(notice);
    if (update)
      update_observes(notice);
  }

  // The health gate of an executable update watches the Collector. A failure is handled
  // after the runner finished with the event that reported it (it stops and starts the
  // Collector, which must not happen inside the runner's own callback).
  void update_observes(const CollectorNotice &notice) {
    // Only the new Collector counts: not the stop of the old one before the swap.
    if (!update->in_health_gate())
      return;
    std::string failure;
    if (notice.kind == CollectorNoticeKind::kHealthy) {
      update->collector_healthy();
      return;
    }
    if (notice.kind == CollectorNoticeKind::kExited) {
      failure = "the new Collector exited: " + notice.message;
    } else if (notice.kind == CollectorNoticeKind::kUnhealthy &&
               notice.message.rfind("cannot start the Collector", 0) == 0) {
      failure = "the new executable did not run: " + notice.message;
    } else {
      return;
    }
    asio::post(io, [weak = weak_from_this(), failure] {
      if (auto self = weak.lock(); self && self->update)
        self->update->collector_failed(failure);
    });
  }

  CompositionInput composition_input(const Layers &from) const {
    CompositionInput input;
    input.config_files = from.config_files;
    input.opamp_extension_yaml = server ? server->extension_config_yaml() : std::string();
    if (from.remote) {
      for (const auto &file : *from.remote)
        input.remote_config.push_back({file.name, file.body});
    }
    for (const auto &layer : from.module_layers) {
      (layer.own_telemetry ? input.own_telemetry_layers : input.module_layers)
          .push_back({layer.module_id + "/" + layer.name, layer.yaml});
    }
    input.instance_uid = options.instance_uid;
    return input;
  }

  // The config the Collector should run for `from`: "" when it must not run (a received
  // empty remote config map). Throws CompositionError.
  std::string compose(const Layers &from) const {
    if (from.remote && from.remote->empty())
      return {};
    CompositionInput input = composition_input(from);
    std::string text = compose_collector_config(input);
    if (!allow_no_pipelines && !has_pipelines(text)) {
      input.base_yaml = kNopPipelineYaml;
      text = compose_collector_config(input);
    }
    return text;
  }

  // ---- config changes, one at a time ----

  void enqueue(PendingChange change) {
    if (stopping) {
      asio::post(io, [done = std::move(change.done)] {
        if (done)
          done({ConfigChangeResult::Status::kFailed, 0, false, "the supervisor is stopping"});
      });
      return;
    }
    changes.push_back(std::move(change));
    schedule_next();
  }

  void schedule_next() {
    asio::post(io, [weak = weak_from_this()] {
      if (auto self = weak.lock())
        self->next_change();
    });
  }

  void finish_change(const ChangeDone &done, ConfigChangeResult result) {
    change_running = false;
    if (done)
      done(result);
    if (!changes.empty())
      schedule_next();
  }

  void next_change() {
    if (!ready || change_running || changes.empty() || stopping)
      return;
    change_running = true;
    PendingChange change = std::move(changes.front());
    changes.pop_front();
    if (change.exclusive) {
      change.exclusive([weak = weak_from_this()] {
        if (auto self = weak.lock())
          self->finish_change(nullptr, {});
      });
      return;
    }
    Layers candidate = layers;
    change.mutate(candidate);
    std::string text;
    try {
      text = compose(candidate);
    } catch (const CompositionError &error) {
      finish_change(change.done, {ConfigChangeResult::Status::kInvalid, 0, false, error.what()});
      return;
    }
    const bool trusted = !candidate.remote && candidate.module_layers.empty();
    std::string notes;
    if (!trusted && !text.empty() && callbacks.rewrite) {
      CollectorControllerCallbacks::Rewrite rewritten = callbacks.rewrite(text);
      if (!rewritten.refusal.empty()) {
        finish_change(change.done,
                      {ConfigChangeResult::Status::kVeto, 0, false, rewritten.refusal});
        return;
      }
      if (!rewritten.notes.empty()) {
        logger()->warn("A module rewrote the candidate config: {}", rewritten.notes);
        text = std::move(rewritten.config);
        notes = std::move(rewritten.notes);
      }
    }
    if (composed && text == *composed) {
      layers = std::move(candidate);
      finish_change(change.done,
                    {ConfigChangeResult::Status::kOk, latest_generation, false, notes});
      return;
    }
    if (!text.empty() && callbacks.veto) {
      if (std::string reason = callbacks.veto(text, trusted); !reason.empty()) {
        if (!trusted) {
          finish_change(change.done, {ConfigChangeResult::Status::kVeto, 0, false, reason});
          return;
        }
        logger()->warn(
            "The local config breaks a module's rule; local files are trusted, so the "
            "Collector runs it anyway: {}",
            reason);
      }
    }
    if (text.empty() || !change.options.validate_with_collector) {
      commit(std::move(candidate), std::move(text), change.done, notes);
      return;
    }
    validation->run(text, [weak = weak_from_this(), candidate = std::move(candidate), text, notes,
                           done = change.done](const ValidationOutcome &outcome) mutable {
      auto self = weak.lock();
      if (!self)
        return;
      if (self->stopping) {
        self->finish_change(
            done, {ConfigChangeResult::Status::kFailed, 0, false, "the supervisor is stopping"});
      } else if (!outcome.valid) {
        self->finish_change(done,
                            {ConfigChangeResult::Status::kVeto, 0, false,
                             "the Collector's validate refused the config: " + outcome.message});
      } else {
        self->commit(std::move(candidate), std::move(text), done, notes);
      }
    });
  }

  void commit(Layers candidate, std::string text, const ChangeDone &done,
              const std::string &notes = {}) {
    std::uint64_t generation = 0;
    try {
      generation = runner->apply(text);
    } catch (const std::exception &error) {
      finish_change(done, {ConfigChangeResult::Status::kFailed, 0, false, error.what()});
      return;
    }
    layers = std::move(candidate);
    composed = std::move(text);
    latest_generation = generation;
    if (composed->empty()) {
      logger()->info("No config to run (an empty remote config map): the Collector is stopped");
      health = CollectorHealth::kUnknown;
      last_error = "not running: the remote config map is empty";
    } else {
      logger()->info("Collector config generation {} written to {}", generation,
                     runner->effective_config_path().string());
    }
    finish_change(done, {ConfigChangeResult::Status::kOk, generation, true, notes});
  }

  // ---- the Collector ----

  void on_runner_event(const CollectorEvent &event) {
    switch (event.kind) {
      case CollectorEventKind::kStarted:
      case CollectorEventKind::kReloaded:
        health = CollectorHealth::kUnknown;
        last_error.clear();
        collector_failing = false;
        if (event.kind == CollectorEventKind::kStarted)
          start_time_unix_nano = now_unix_nano();
        server->expect_collector_pid(event.pid);
        logger()->info("Collector {} (pid {}) on config generation {}",
                       event.kind == CollectorEventKind::kStarted ? "started" : "reloaded",
                       event.pid, event.generation);
        notify(CollectorNoticeKind::kStarted, event.generation, event.pid);
        break;
      case CollectorEventKind::kExited:
      case CollectorEventKind::kStopped: {
        const bool unexpected = event.kind == CollectorEventKind::kExited;
        server->expect_collector_pid(0);
        health = unexpected ? CollectorHealth::kUnhealthy : CollectorHealth::kUnknown;
        last_error = unexpected ? "the Collector exited (" + event.exit.describe() + ")"
                                : "the Collector was stopped by the supervisor";
        start_time_unix_nano = 0;
        std::string message = last_error;
        if (unexpected && !event.log_tail.empty())
          message += "; its last output:\n" + event.log_tail;
        if (unexpected) {
          logger()->warn("Collector (pid {}) exited unexpectedly: {}", event.pid,
                         event.exit.describe());
        }
        notify(CollectorNoticeKind::kExited, event.generation, event.pid, message,
               event.exit.signal != 0 ? -event.exit.signal : event.exit.code);
        break;
      }
      case CollectorEventKind::kRestartScheduled:
        if (!event.error.empty()) {
          health = CollectorHealth::kUnhealthy;
          last_error = "cannot start the Collector: " + event.error;
          logger()->error("{}", last_error);
          notify(CollectorNoticeKind::kUnhealthy, event.generation, 0, last_error);
        }
        logger()->info("Restarting the Collector in {} ms", event.restart_delay.count());
        break;
    }
  }

  // ---- the executable update ----

  void run_update(const std::filesystem::path &package, std::chrono::milliseconds timeout,
                  const std::function<void(const modules::ExecutableUpdateOutcome &)> &done,
                  const std::function<void()> &finished) {
    using Outcome = modules::ExecutableUpdateOutcome;
    auto refuse = [&](const std::string &why) {
      asio::post(io, [done, why] { done({Outcome::Status::kNotTried, why}); });
      finished();
    };
    if (stopping || !runner)
      return refuse("the supervisor is stopping");
    if (!composed || composed->empty())
      return refuse("the Collector has no config to run, so a new executable cannot be checked");
    std::error_code error;
    const std::filesystem::path target = std::filesystem::canonical(options.executable, error);
    if (error) {
      return refuse("cannot resolve agent.executable " + options.executable.string() + ": " +
                    error.message());
    }
    ExecutableUpdateHooks hooks;
    std::weak_ptr<State> weak = weak_from_this();
    hooks.stop_collector = [weak](std::function<void()> stopped) {
      auto self = weak.lock();
      if (!self || !self->runner)
        return;
      self->description_before_update = self->last_description;
      self->last_available_components.clear();
      self->runner->stop(std::move(stopped));
    };
    hooks.start_collector = [weak] {
      if (auto self = weak.lock(); self && self->runner && !self->stopping)
        self->runner->restart();
    };
    hooks.on_installed = [weak] {
      if (auto self = weak.lock())
        self->refresh_bootstrap_cache();
    };
    update = std::make_unique<ExecutableUpdate>(
        io, ExecutableUpdateOptions{target, options.storage_directory, package, timeout},
        std::move(hooks), [weak, done, finished](const ExecutableUpdateResult &result) {
          auto self = weak.lock();
          if (!self)
            return;
          // Destroyed after this callback returns, not inside it.
          asio::post(self->io, [weak] {
            if (auto self = weak.lock())
              self->update.reset();
          });
          static constexpr Outcome::Status kStatus[] = {
              Outcome::Status::kInstalled, Outcome::Status::kRefused, Outcome::Status::kRolledBack,
              Outcome::Status::kNotTried};
          done({kStatus[static_cast<int>(result.status)], result.error});
          finished();
        });
    update->start();
  }

  // The executable's identity changed: the cache is written again for the new executable
  // with what the new Collector reported, or removed when that is not known (the next start
  // bootstraps). The executable is hashed on a thread of its own.
  void refresh_bootstrap_cache() {
    if (cache_refresh.joinable())
      cache_refresh.join();
    BootstrapInputs inputs;
    inputs.executable = options.executable;
    inputs.args = options.args;
    inputs.env = options.env;
    inputs.feature_gates = feature_gates;
    inputs.identifying_overrides = options.identifying_overrides;
    inputs.non_identifying_overrides = options.non_identifying_overrides;
    std::optional<BootstrapResult> result;
    if (!last_description.empty() && last_description != description_before_update &&
        !last_available_components.empty()) {
      result = BootstrapResult{last_description, last_available_components};
    }
    cache_refresh = std::thread([weak = weak_from_this(), &io = io, inputs, result,
                                 storage = options.storage_directory] {
      std::string key;
      std::string problem;
      try {
        key = bootstrap_key(inputs);
        if (result)
          write_bootstrap_cache(storage, key, *result);
        else
          std::filesystem::remove(storage / kBootstrapCacheFile);
      } catch (const std::exception &error) {
        problem = error.what();
        std::error_code ignored;
        std::filesystem::remove(storage / kBootstrapCacheFile, ignored);
      }
      asio::post(io, [weak, key, problem, written = result.has_value()] {
        auto self = weak.lock();
        if (!self)
          return;
        if (!key.empty())
          self->bootstrap_cache_key = key;
        if (!problem.empty())
          logger()->warn("Bootstrap cache for the new Collector executable: removed ({})", problem);
        else
          logger()->info("Bootstrap cache for the new Collector executable: {}",
                         written ? "refreshed with its description and components"
                                 : "removed; the next start bootstraps it");
      });
    });
  }

  void on_collector_message(const pb::AgentToServer &message) {
    if (message.has_available_components() &&
        message.available_components().components_size() > 0) {
      last_available_components = message.available_components().SerializeAsString();
    }
    if (message.has_agent_description()) {
      std::string description = message.agent_description().SerializeAsString();
      if (description != last_description) {
        last_description = description;
        if (callbacks.on_description)
          callbacks.on_description(description);
      }
    }
    if (message.has_health() && runner && runner->running()) {
      const auto &reported = message.health();
      const CollectorHealth now =
          reported.healthy() ? CollectorHealth::kHealthy : CollectorHealth::kUnhealthy;
      const bool changed = now != health || (now == CollectorHealth::kUnhealthy &&
                                             reported.last_error() != last_error);
      health = now;
      last_error = reported.last_error();
      if (changed) {
        notify(now == CollectorHealth::kHealthy ? CollectorNoticeKind::kHealthy
                                                : CollectorNoticeKind::kUnhealthy,
               runner->generation(), runner->pid(), last_error);
      }
    }
    if (callbacks.on_collector_message)
      callbacks.on_collector_message(message.SerializeAsString());
  }

  // Tells the supervisor what the bootstrap (or the cache) learned.
  void deliver_bootstrap(const BootstrapResult &result) {
    last_description = result.agent_description;
    if (callbacks.on_description)
      callbacks.on_description(result.agent_description);
    if (!callbacks.on_collector_message)
      return;
    pb::AgentToServer message;
    if (const auto uid = common::parse_uuid(options.instance_uid))
      message.set_instance_uid(std::string(uid->begin(), uid->end()));
    message.mutable_agent_description()->ParseFromString(result.agent_description);
    message.mutable_available_components()->ParseFromString(result.available_components);
    callbacks.on_collector_message(message.SerializeAsString());
  }

  // agent.run_as: refuses to go on when the supervisor cannot switch users (the Collector
  // never runs as the supervisor's own user instead), opens the storage directory to the
  // run_as group, and warns about what that user cannot reach. Throws CollectorSetupError.
  // The feature gates the Collector gets: ours, and those agent.args enables.
  std::vector<std::string> gates_with_args() const {
    std::vector<std::string> gates = feature_gates;
    constexpr std::string_view kFlag = "--feature-gates";
    for (std::size_t at = 0; at < options.args.size(); ++at) {
      const std::string &arg = options.args[at];
      if (arg == kFlag && at + 1 < options.args.size()) {
        gates.push_back(options.args[++at]);
      } else if (arg.starts_with(std::string(kFlag) + "=")) {
        gates.push_back(arg.substr(kFlag.size() + 1));
      }
    }
    return gates;
  }

  // Runs the Collector's `validate` on what the startup fallback configs compose to, before
  // the loop runs; throws CollectorSetupError naming them and what the Collector said.
  void validate_startup_fallbacks() {
    std::string names;
    Layers candidate;
    candidate.config_files = options.config_files;
    candidate.remote.emplace();
    int index = 0;
    for (const auto &path : options.startup_fallback_configs) {
      names += (names.empty() ? "" : ", ") + path.string();
      std::ifstream in(path, std::ios::binary);
      if (!in.is_open()) {
        throw CollectorSetupError(options.fallback_configs_origin + ": cannot read " +
                                  path.string());
      }
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      char name[32];
      std::snprintf(name, sizeof name, "fallback-%03d", index++);
      candidate.remote->push_back({name, std::move(text), "text/yaml"});
    }
    std::string composed;
    try {
      composed = compose(candidate);
    } catch (const CompositionError &error) {
      throw CollectorSetupError(options.fallback_configs_origin + " (" + names +
                                "): " + error.what());
    }
    asio::io_context own_loop;
    CollectorValidation validation(
        own_loop, CollectorValidationOptions{options.executable, gates_with_args(), options.env,
                                             options.storage_directory, std::chrono::seconds(30),
                                             options.credentials});
    ValidationOutcome outcome;
    validation.run(composed, [&outcome](const ValidationOutcome &result) { outcome = result; });
    own_loop.run();
    if (!outcome.valid) {
      throw CollectorSetupError(options.fallback_configs_origin + " (" + names +
                                "): the Collector's `validate` refuses them: " + outcome.message);
    }
    logger()->info("Startup fallback configs ({}) pass the Collector's validate", names);
  }

  void prepare_credentials() {
    const CollectorCredentials &credentials = *options.credentials;
    if (const std::string missing = missing_privileges(credentials); !missing.empty()) {
      throw CollectorSetupError(
          options.credentials_origin + ": cannot run the Collector as " + credentials.description +
          ": " + missing +
          "; run the supervisor as root (or give it these capabilities) or remove "
          "agent.run_as (the Collector is never run as the supervisor's own user instead)");
    }
    try {
      storage::ensure_private_directory(options.storage_directory);
      open_storage_directory(options.storage_directory, credentials);
    } catch (const std::exception &error) {
      throw CollectorSetupError(options.credentials_origin + ": " + error.what());
    }
    for (const auto &[path, execute] :
         {std::pair{options.storage_directory, false}, std::pair{options.executable, true}}) {
      if (const std::string why = unreachable_reason(path, credentials, execute); !why.empty()) {
        logger()->warn("{}: the Collector will fail: {}", options.credentials_origin, why);
      }
    }
    if (!options.local_server_socket.empty()) {
      const auto parent = options.local_server_socket.parent_path();
      if (const std::string why = unreachable_reason(parent, credentials, false); !why.empty()) {
        logger()->warn("{}: the Collector cannot reach the local OpAMP server's socket: {}",
                       options.credentials_origin, why);
      }
    }
    logger()->info("Every Collector process runs as {}", credentials.description);
  }

  void become_ready() {
    ready = true;
    // The first composition goes through the queue like every other change.
    enqueue({[](Layers &) {},
             {},
             [](const ConfigChangeResult &result) {
               if (result.status != ConfigChangeResult::Status::kOk)
                 logger()->error("Cannot run the Collector: {}", result.error);
             }});
  }
};

CollectorController::CollectorController(asio::io_context &io, CollectorControllerOptions options,
                                         CollectorControllerCallbacks callbacks)
    : state_(std::make_shared<State>(io, std::move(options), std::move(callbacks))) {}

CollectorController::~CollectorController() {
  state_->callbacks = {};
  state_->update.reset();
  if (state_->cache_refresh.joinable())
    state_->cache_refresh.join();
  state_->bootstrap.reset();
  state_->validation.reset();
  state_->runner.reset();
  state_->server.reset();
}

void CollectorController::prepare() {
  State &s = *state_;
  s.recovery = recover_interrupted_update(s.options.storage_directory, s.options.executable);
  if (s.recovery.outcome == RecoveryOutcome::kInstalled)
    logger()->info("Collector update finished at start-up: {}", s.recovery.message);
  else if (s.recovery.outcome == RecoveryOutcome::kRolledBack)
    logger()->warn("Collector update finished at start-up: {}", s.recovery.message);
  if (s.options.credentials)
    s.prepare_credentials();
  s.allow_no_pipelines = collector_has_feature_gate(
      s.options.executable, kAllowNoPipelinesGate, std::chrono::seconds(10), s.options.credentials);
  if (s.allow_no_pipelines)
    s.feature_gates = {kAllowNoPipelinesGate};
  BootstrapInputs inputs;
  inputs.executable = s.options.executable;
  inputs.args = s.options.args;
  inputs.env = s.options.env;
  inputs.feature_gates = s.feature_gates;
  inputs.identifying_overrides = s.options.identifying_overrides;
  inputs.non_identifying_overrides = s.options.non_identifying_overrides;
  try {
    s.bootstrap_cache_key = bootstrap_key(inputs);
  } catch (const std::exception &error) {
    throw CollectorSetupError(error.what());
  }
  std::string problem;
  s.cached_bootstrap =
      read_bootstrap_cache(s.options.storage_directory, s.bootstrap_cache_key, &problem);
  if (!problem.empty())
    logger()->warn("{}; bootstrapping the Collector again", problem);
  try {
    (void)s.compose(s.layers);  // the local files: unreadable or invalid ones stop start-up
  } catch (const CompositionError &error) {
    throw CollectorSetupError(error.what());
  }
  if (!s.options.startup_fallback_configs.empty())
    s.validate_startup_fallbacks();
}

void CollectorController::start(std::function<void(const std::string &)> ready) {
  State &s = *state_;
  LocalOpampServerOptions server_options;
  server_options.port = s.options.local_server_port;
  server_options.unix_socket_path = s.options.local_server_socket;
  server_options.unix_socket_mode = s.options.local_server_socket_mode;
  server_options.instance_uid = s.options.instance_uid;
  server_options.reports_available_components = s.options.reports_available_components;
  server_options.include_resource_attributes = s.options.include_resource_attributes;
  server_options.collector_credentials = s.options.credentials;
  std::weak_ptr<State> weak = state_;
  LocalOpampServerCallbacks server_callbacks;
  server_callbacks.on_message = [weak](const pb::AgentToServer &message) {
    if (auto self = weak.lock())
      self->on_collector_message(message);
  };
  CollectorRunnerOptions runner_options;
  runner_options.executable = s.options.executable;
  runner_options.args = s.options.args;
  runner_options.env = s.options.env;
  runner_options.feature_gates = s.feature_gates;
  runner_options.storage_directory = s.options.storage_directory;
  if (s.options.passthrough_logs) {
    runner_options.passthrough = [weak](std::string_view line) {
      if (auto self = weak.lock())
        log_collector_line(line, self->collector_failing);
    };
  }
  runner_options.use_hup_config_reload = s.options.use_hup_config_reload;
  runner_options.stop_grace = s.options.stop_grace;
  runner_options.restart_initial = s.options.restart_initial;
  runner_options.restart_max = s.options.restart_max;
  runner_options.stable_after = s.options.stable_after;
  runner_options.crash_log_snippet_bytes = s.options.crash_log_snippet_bytes;
  runner_options.credentials = s.options.credentials;
  try {
    s.server = std::make_unique<LocalOpampServer>(s.io, server_options, server_callbacks);
    s.server->start();
    s.runner = std::make_unique<CollectorRunner>(s.io, runner_options,
                                                 [weak](const CollectorEvent &event) {
                                                   if (auto self = weak.lock())
                                                     self->on_runner_event(event);
                                                 });
  } catch (const std::exception &error) {
    throw CollectorSetupError(error.what());
  }
  s.validation = std::make_unique<CollectorValidation>(
      s.io, CollectorValidationOptions{s.options.executable, s.feature_gates, s.options.env,
                                       s.options.storage_directory, std::chrono::seconds(10),
                                       s.options.credentials});

  if (s.cached_bootstrap) {
    logger()->info("Collector description taken from the bootstrap cache ({})",
                   kBootstrapCacheFile);
    s.deliver_bootstrap(*s.cached_bootstrap);
    s.become_ready();
    asio::post(s.io, [ready] {
      if (ready)
        ready("");
    });
    return;
  }
  CollectorBootstrapOptions bootstrap_options;
  bootstrap_options.executable = s.options.executable;
  bootstrap_options.args = s.options.args;
  bootstrap_options.env = s.options.env;
  bootstrap_options.storage_directory = s.options.storage_directory;
  bootstrap_options.instance_uid = s.options.instance_uid;
  bootstrap_options.timeout = s.options.bootstrap_timeout;
  bootstrap_options.allow_no_pipelines = s.allow_no_pipelines;
  bootstrap_options.credentials = s.options.credentials;
  logger()->info("Bootstrapping the Collector to learn its description (up to {} ms)",
                 s.options.bootstrap_timeout.count());
  s.bootstrap = std::make_unique<CollectorBootstrap>(
      s.io, bootstrap_options,
      [weak, ready](std::optional<BootstrapResult> result, const std::string &error) {
        auto self = weak.lock();
        if (!self)
          return;
        asio::post(self->io, [weak] {
          if (auto self = weak.lock())
            self->bootstrap.reset();
        });
        if (result) {
          try {
            write_bootstrap_cache(self->options.storage_directory, self->bootstrap_cache_key,
                                  *result);
          } catch (const std::exception &failure) {
            logger()->warn("The bootstrap result is not cached: {}", failure.what());
          }
          self->deliver_bootstrap(*result);
        } else {
          logger()->error("Collector bootstrap failed: {}", error);
        }
        if (!self->stopping)
          self->become_ready();
        if (ready)
          ready(result ? std::string() : error);
      });
  s.bootstrap->start();
}

void CollectorController::stop(std::function<void()> done) {
  State &s = *state_;
  s.stopping = true;
  for (auto &change : s.changes) {
    if (change.done) {
      asio::post(s.io, [done = std::move(change.done)] {
        done({ConfigChangeResult::Status::kFailed, 0, false, "the supervisor is stopping"});
      });
    }
  }
  s.changes.clear();
  s.bootstrap.reset();
  s.validation.reset();
  // An update under way keeps its journal: the next start finishes it (update_recovery.hpp).
  s.update.reset();
  if (!s.runner) {
    if (s.server)
      s.server->stop();
    if (done)
      done();
    return;
  }
  s.runner->stop([weak = std::weak_ptr<State>(state_), done = std::move(done)] {
    if (auto self = weak.lock()) {
      if (self->server)
        self->server->stop();
    }
    if (done)
      done();
  });
}

void CollectorController::request_full_state() {
  State &s = *state_;
  if (!s.server)
    return;
  pb::ServerToAgent message;
  if (const auto uid = common::parse_uuid(s.options.instance_uid))
    message.set_instance_uid(std::string(uid->begin(), uid->end()));
  message.set_flags(pb::ServerToAgentFlags_ReportFullState);
  s.server->send(message);
}

void CollectorController::set_instance_uid(const std::string &instance_uid) {
  State &s = *state_;
  if (instance_uid == s.options.instance_uid)
    return;
  logger()->info("Instance UID is now {}: recomposing the Collector config", instance_uid);
  s.options.instance_uid = instance_uid;
  if (s.server)
    s.server->set_instance_uid(instance_uid);
  s.enqueue({[](Layers &) {},
             {},
             [](const ConfigChangeResult &result) {
               if (result.status != ConfigChangeResult::Status::kOk)
                 logger()->error("Cannot recompose for the new instance UID: {}", result.error);
             }});
}

void CollectorController::set_config_files(std::vector<std::string> config_files, ChangeDone done) {
  state_->enqueue(
      {[files = std::move(config_files)](Layers &layers) { layers.config_files = files; },
       {},
       std::move(done)});
}

void CollectorController::set_config_layer(std::string_view module_id, std::string_view layer_name,
                                           std::optional<std::string> yaml,
                                           modules::ConfigChangeOptions options, ChangeDone done) {
  state_->enqueue(
      {[module_id = std::string(module_id), name = std::string(layer_name), yaml = std::move(yaml),
        own_telemetry = options.own_telemetry_slot](Layers &layers) {
         auto &list = layers.module_layers;
         auto found = std::find_if(list.begin(), list.end(), [&](const auto &layer) {
           return layer.module_id == module_id && layer.name == name;
         });
         if (!yaml) {
           if (found != list.end())
             list.erase(found);
         } else if (found != list.end()) {
           found->yaml = *yaml;
           found->own_telemetry = own_telemetry;
         } else {
           list.push_back({module_id, name, *yaml, own_telemetry});
         }
       },
       options, std::move(done)});
}

void CollectorController::set_remote_config(
    std::optional<std::vector<modules::RemoteConfigFile>> files,
    modules::ConfigChangeOptions options, ChangeDone done) {
  state_->enqueue({[files = std::move(files)](Layers &layers) { layers.remote = files; }, options,
                   std::move(done)});
}

modules::CollectorStateView CollectorController::collector_state() const {
  const State &s = *state_;
  modules::CollectorStateView view;
  view.running = s.runner && s.runner->running();
  view.pid = view.running ? s.runner->pid() : 0;
  view.health = s.health;
  view.last_error = s.last_error;
  view.generation = s.runner ? s.runner->generation() : 0;
  view.latest_generation = s.latest_generation;
  view.restart_count = s.runner ? s.runner->counters().unexpected_exits : 0;
  view.start_time_unix_nano = view.running ? s.start_time_unix_nano : 0;
  return view;
}

std::optional<std::string> CollectorController::composed_config() const {
  return state_->composed;
}

bool CollectorController::restart_collector() {
  State &s = *state_;
  if (!s.runner || !s.composed || s.composed->empty() || s.stopping || s.update)
    return false;
  logger()->info("Restarting the Collector on request");
  s.runner->restart();
  return true;
}

bool CollectorController::send_to_collector(std::string_view server_to_agent) {
  State &s = *state_;
  pb::ServerToAgent message;
  if (!s.server ||
      !message.ParseFromArray(server_to_agent.data(), static_cast<int>(server_to_agent.size())))
    return false;
  if (const auto uid = common::parse_uuid(s.options.instance_uid))
    message.set_instance_uid(std::string(uid->begin(), uid->end()));
  return s.server->send(message);
}

void CollectorController::validate_collector_config(
    std::string config_yaml, std::function<void(const modules::CollectorValidation &)> done) {
  State &s = *state_;
  if (!s.validation) {
    asio::post(s.io, [done = std::move(done)] { done({false, -1, "the supervisor is stopping"}); });
    return;
  }
  s.validation->run(config_yaml, [done = std::move(done)](const ValidationOutcome &outcome) {
    done({outcome.valid, outcome.exit_code, outcome.message});
  });
}

bool CollectorController::update_executable(
    const std::filesystem::path &package, std::chrono::milliseconds health_timeout,
    std::function<void(const modules::ExecutableUpdateOutcome &)> done) {
  State &s = *state_;
  if (!s.runner || s.stopping)
    return false;
  State::PendingChange change;
  change.exclusive = [weak = std::weak_ptr<State>(state_), package, health_timeout,
                      done = std::move(done)](std::function<void()> finished) {
    if (auto self = weak.lock())
      self->run_update(package, health_timeout, done, finished);
  };
  s.enqueue(std::move(change));
  return true;
}

modules::UpdateRecoveryView CollectorController::update_recovery() const {
  using Outcome = modules::UpdateRecoveryView::Outcome;
  const UpdateRecovery &recovery = state_->recovery;
  return {recovery.outcome == RecoveryOutcome::kInstalled    ? Outcome::kInstalled
          : recovery.outcome == RecoveryOutcome::kRolledBack ? Outcome::kRolledBack
                                                             : Outcome::kNone,
          recovery.message};
}

std::string CollectorController::local_endpoint() const {
  return state_->server ? state_->server->endpoint() : std::string();
}

}  // namespace opsup::collector
