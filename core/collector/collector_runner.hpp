// Keeps the Collector running on a composed config: writes <storage>/effective.yaml
// (atomically, 0600, or 0640 with the run_as group under agent.run_as) when the config
// changes, starts the Collector on it (or, with use_hup_config_reload, sends SIGHUP to the
// running one), keeps its output in agent.log or hands it over (passthrough), restarts it
// with a backoff when it exits on its own, and stops it gracefully. Every composed config
// gets a generation number; events carry the generation the Collector runs, so a caller
// can tell "running my config" from the old one.
//
// Threading: every member function and every callback runs on the io_context's thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collector/collector_process.hpp"

namespace boost::asio {
class io_context;
}

namespace opsup::collector {

struct CollectorRunnerOptions {
  std::filesystem::path executable;
  std::vector<std::string> args;                          // agent.args, after --config
  std::optional<std::map<std::string, std::string>> env;  // agent.env
  std::vector<std::string> feature_gates;                 // passed as --feature-gates a,b
  std::filesystem::path storage_directory;                // effective.yaml, agent.log
  std::uint64_t agent_log_max_bytes = 10 * 1024 * 1024;
  int agent_log_keep_files = 3;
  // With a handler, the Collector's lines go to it instead of agent.log.
  std::function<void(std::string_view line)> passthrough;
  bool use_hup_config_reload = false;
  std::chrono::milliseconds stop_grace{10000};
  std::chrono::milliseconds restart_initial{1000};
  std::chrono::milliseconds restart_max{60000};
  std::chrono::milliseconds stable_after{60000};
  std::size_t crash_log_snippet_bytes = 0;  // agent.collector_crash_log_snippet_kib * 1024
  // agent.run_as: the Collector's user; effective.yaml gets its group (0640).
  std::optional<CollectorCredentials> credentials;
};

enum class CollectorEventKind { kStarted, kReloaded, kExited, kRestartScheduled, kStopped };

struct CollectorEvent {
  CollectorEventKind kind = CollectorEventKind::kStarted;
  std::uint64_t generation = 0;  // the config the Collector runs (or ran)
  pid_t pid = 0;
  ExitStatus exit;       // kExited, kStopped
  std::string log_tail;  // kExited: the last crash_log_snippet_bytes of output
  std::chrono::milliseconds restart_delay{0};  // kRestartScheduled
  std::string error;                           // kRestartScheduled after a failed start
};

struct CollectorCounters {
  std::uint64_t starts = 0;
  std::uint64_t unexpected_exits = 0;
  std::uint64_t failed_starts = 0;
};

class CollectorRunner {
 public:
  using EventHandler = std::function<void(const CollectorEvent &)>;

  // Throws std::runtime_error naming agent.log when it cannot be opened.
  CollectorRunner(boost::asio::io_context &io, CollectorRunnerOptions options,
                  EventHandler on_event);
  ~CollectorRunner();  // kills a running Collector (SIGKILL)
  CollectorRunner(const CollectorRunner &) = delete;
  CollectorRunner &operator=(const CollectorRunner &) = delete;

  // Runs the Collector on `config` (composed YAML). Returns its generation: a new one when the
  // text changed (the Collector is restarted, or reloaded with SIGHUP), the current one when
  // it did not (nothing happens). An empty `config` stops the Collector (upstream: an empty
  // remote config map means "do not run"). Throws std::runtime_error when effective.yaml
  // cannot be written; a Collector that cannot be started is reported as an event and
  // retried with the backoff.
  std::uint64_t apply(const std::string &config);
  // Stops for good (until the next apply): SIGTERM, SIGKILL after stop_grace; `done` runs
  // once it is down (at once when it is not running).
  void stop(std::function<void()> done = {});
  // Restarts on the current config (a restart command).
  void restart();

  bool running() const;
  pid_t pid() const;
  std::uint64_t generation() const;  // of the config the Collector runs
  const CollectorCounters &counters() const;
  std::filesystem::path effective_config_path() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace opsup::collector
