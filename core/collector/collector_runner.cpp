#include "collector/collector_runner.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>

#include "collector/restart_backoff.hpp"
#include "common/rotating_log_file.hpp"

namespace opsup::collector {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

CollectorEvent event_of(CollectorEventKind kind, std::uint64_t generation, pid_t pid = 0) {
  CollectorEvent event;
  event.kind = kind;
  event.generation = generation;
  event.pid = pid;
  return event;
}

enum class Stopping { kNo, kToRestart, kForGood };

}  // namespace

struct CollectorRunner::State : std::enable_shared_from_this<CollectorRunner::State> {
  State(asio::io_context &io, CollectorRunnerOptions runner_options, EventHandler handler)
      : options(std::move(runner_options)),
        on_event(std::move(handler)),
        restart_timer(io),
        backoff(options.restart_initial, options.restart_max, options.stable_after) {
    if (!options.passthrough) {
      agent_log = std::make_unique<common::RotatingLogFile>(options.storage_directory / "agent.log",
                                                            options.agent_log_max_bytes,
                                                            options.agent_log_keep_files);
    }
  }

  CollectorRunnerOptions options;
  EventHandler on_event;
  asio::steady_timer restart_timer;
  RestartBackoff backoff;
  std::unique_ptr<common::RotatingLogFile> agent_log;
  std::unique_ptr<CollectorProcess> process;
  std::string config;
  std::uint64_t generation = 0;          // of the newest composed config
  std::uint64_t running_generation = 0;  // of the config the Collector was started on
  pid_t running_pid = 0;                 // of the last process started (kept after it exits)
  Clock::time_point started_at;
  Stopping stopping = Stopping::kNo;
  std::vector<std::function<void()>> stopped_callbacks;
  std::deque<std::string> tail;
  std::size_t tail_bytes = 0;
  CollectorCounters counters;

  std::filesystem::path effective_path() const {
    return options.storage_directory / "effective.yaml";
  }

  void emit(CollectorEvent event) {
    if (on_event)
      on_event(event);
  }

  void take_line(std::string_view line) {
    if (options.passthrough)
      options.passthrough(line);
    else
      agent_log->write_line(line);
    if (options.crash_log_snippet_bytes == 0)
      return;
    tail.emplace_back(line);
    tail_bytes += line.size() + 1;
    while (tail_bytes > options.crash_log_snippet_bytes && tail.size() > 1) {
      tail_bytes -= tail.front().size() + 1;
      tail.pop_front();
    }
  }

  std::string tail_text() const {
    std::string text;
    for (const auto &line : tail)
      text += line + "\n";
    return text;
  }

  CollectorCommand command() const {
    CollectorCommand command;
    command.executable = options.executable;
    command.args = {"--config", effective_path().string()};
    if (!options.feature_gates.empty()) {
      std::string gates;
      for (const auto &gate : options.feature_gates)
        gates += (gates.empty() ? "" : ",") + gate;
      command.args.push_back("--feature-gates");
      command.args.push_back(gates);
    }
    command.args.insert(command.args.end(), options.args.begin(), options.args.end());
    command.extra_env = options.env;
    command.credentials = options.credentials;
    return command;
  }

  void start() {
    if (config.empty() || process->running())
      return;
    tail.clear();
    tail_bytes = 0;
    try {
      process->start(command());
    } catch (const std::exception &error) {
      ++counters.failed_starts;
      schedule_restart(std::chrono::milliseconds(0), error.what());
      return;
    }
    ++counters.starts;
    running_generation = generation;
    running_pid = process->pid();
    started_at = Clock::now();
    emit(event_of(CollectorEventKind::kStarted, running_generation, process->pid()));
  }

  void schedule_restart(std::chrono::milliseconds run_time, const std::string &error) {
    CollectorEvent event = event_of(CollectorEventKind::kRestartScheduled, generation);
    event.restart_delay = backoff.after_exit(run_time);
    event.error = error;
    restart_timer.expires_after(event.restart_delay);
    restart_timer.async_wait([weak = weak_from_this()](const boost::system::error_code &failed) {
      auto self = weak.lock();
      if (!failed && self)
        self->start();
    });
    emit(event);
  }

  void exited(const ExitStatus &status) {
    const Stopping why = stopping;
    stopping = Stopping::kNo;
    if (why == Stopping::kToRestart) {
      start();
      return;
    }
    if (why == Stopping::kForGood) {
      CollectorEvent event =
          event_of(CollectorEventKind::kStopped, running_generation, running_pid);
      event.exit = status;
      emit(event);
      auto callbacks = std::move(stopped_callbacks);
      stopped_callbacks.clear();
      for (auto &callback : callbacks)
        callback();
      return;
    }
    ++counters.unexpected_exits;
    CollectorEvent event = event_of(CollectorEventKind::kExited, running_generation, running_pid);
    event.exit = status;
    event.log_tail = tail_text();
    emit(event);
    schedule_restart(
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started_at), "");
  }
};

CollectorRunner::CollectorRunner(asio::io_context &io, CollectorRunnerOptions options,
                                 EventHandler on_event)
    : state_(std::make_shared<State>(io, std::move(options), std::move(on_event))) {
  std::weak_ptr<State> weak = state_;
  state_->process = std::make_unique<CollectorProcess>(
      io,
      [weak](std::string_view line) {
        if (auto self = weak.lock())
          self->take_line(line);
      },
      [weak](const ExitStatus &status) {
        if (auto self = weak.lock())
          self->exited(status);
      });
}

CollectorRunner::~CollectorRunner() {
  state_->on_event = nullptr;
  state_->restart_timer.cancel();
  state_->process.reset();  // SIGKILL + reap
}

std::uint64_t CollectorRunner::apply(const std::string &config) {
  State &s = *state_;
  if (s.generation > 0 && config == s.config)
    return s.generation;
  if (!config.empty())
    write_collector_file(s.effective_path(), config, s.options.credentials);
  s.config = config;
  ++s.generation;
  s.restart_timer.cancel();
  if (config.empty()) {
    stop();
    return s.generation;
  }
  if (!s.process->running()) {
    s.stopping = Stopping::kNo;
    s.start();
  } else if (s.stopping != Stopping::kNo) {
    s.stopping = Stopping::kToRestart;  // already going down: come back on the new config
  } else if (s.options.use_hup_config_reload && s.process->signal(SIGHUP)) {
    s.running_generation = s.generation;
    s.emit(event_of(CollectorEventKind::kReloaded, s.running_generation, s.process->pid()));
  } else {
    s.stopping = Stopping::kToRestart;
    s.process->stop(s.options.stop_grace);
  }
  return s.generation;
}

void CollectorRunner::stop(std::function<void()> done) {
  State &s = *state_;
  s.restart_timer.cancel();
  if (!s.process->running()) {
    if (done)
      done();
    return;
  }
  if (done)
    s.stopped_callbacks.push_back(std::move(done));
  if (s.stopping == Stopping::kNo)
    s.process->stop(s.options.stop_grace);
  s.stopping = Stopping::kForGood;
}

void CollectorRunner::restart() {
  State &s = *state_;
  if (!s.process->running()) {
    s.restart_timer.cancel();
    s.start();
    return;
  }
  if (s.stopping == Stopping::kNo)
    s.process->stop(s.options.stop_grace);
  s.stopping = Stopping::kToRestart;
}

bool CollectorRunner::running() const {
  return state_->process->running();
}

pid_t CollectorRunner::pid() const {
  return state_->process->pid();
}

std::uint64_t CollectorRunner::generation() const {
  return state_->running_generation;
}

const CollectorCounters &CollectorRunner::counters() const {
  return state_->counters;
}

std::filesystem::path CollectorRunner::effective_config_path() const {
  return state_->effective_path();
}

}  // namespace opsup::collector
