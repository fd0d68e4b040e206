// What the module host needs from the Collector side of the supervisor to serve the ABI's
// Collector services (minor 3): config layers, the remote config layer, the Collector's
// state, restarts and `validate` runs. The supervisor's wiring implements it; the module host
// calls it on behalf of modules. Free of Asio, protobuf and YAML so both sides include it
// cheaply.
//
// Threading: every member is called on the loop thread, and every callback runs there.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace opsup::modules {

enum class CollectorHealth { kUnknown, kHealthy, kUnhealthy };

struct CollectorStateView {
  bool running = false;
  pid_t pid = 0;
  CollectorHealth health = CollectorHealth::kUnknown;
  std::string last_error;                  // the extension's last_error, or why it is not running
  std::uint64_t generation = 0;            // of the config the Collector runs (0: none yet)
  std::uint64_t latest_generation = 0;     // of the newest composed config
  std::uint64_t restart_count = 0;         // unexpected exits since the supervisor started
  std::uint64_t start_time_unix_nano = 0;  // of the running process; 0 when not running
};

// The outcome of a config change, given to its completion callback.
struct ConfigChangeResult {
  // kOk, kVeto (a module's validate_collector_config or the Collector's `validate`
  // refused the candidate), kInvalid (a layer is not a YAML map, names the line),
  // kFailed (effective.yaml could not be written, the supervisor is stopping).
  enum class Status { kOk, kVeto, kInvalid, kFailed } status = Status::kOk;
  // The generation of the composed config now in force: a new one when the composed text
  // changed, the current one when it did not. 0 unless kOk.
  std::uint64_t generation = 0;
  bool changed = false;  // the composed text changed (the Collector is restarted/reloaded)
  // Why, when not kOk. On kOk: what modules rewrote in the candidate (one line each), or "".
  std::string error;
};

struct RemoteConfigFile {
  std::string name;  // AgentConfigMap key ("" is the unnamed file, merged last)
  std::string body;  // YAML text
  std::string content_type;
};

struct ConfigChangeOptions {
  // Run `<executable> validate` on the composed candidate first (agent.validate_config);
  // a refusal is kVeto with the Collector's message.
  bool validate_with_collector = false;
  // set_config_layer: the layer goes at $OWN_TELEMETRY_CONFIG, not after $REMOTE_CONFIG.
  bool own_telemetry_slot = false;
};

struct CollectorValidation {
  bool valid = false;
  int exit_code = 0;    // of `validate`; -1 when it could not be run
  std::string message;  // the Collector's output tail, or why it could not be run
};

// The outcome of a Collector executable update (ABI minor 6, update_collector_executable).
struct ExecutableUpdateOutcome {
  // kInstalled: the new executable runs and is healthy. kRefused: the package was refused,
  // nothing changed. kRolledBack: the new executable failed, the old one is back. kNotTried:
  // nothing was changed (busy, stopping, no config to run, a file could not be written).
  enum class Status { kInstalled, kRefused, kRolledBack, kNotTried } status = Status::kInstalled;
  std::string error;  // why, unless kInstalled
};

// What the supervisor found at start-up of an update its previous process did not finish.
struct UpdateRecoveryView {
  enum class Outcome { kNone, kInstalled, kRolledBack } outcome = Outcome::kNone;
  std::string message;
};

class CollectorAccess {
 public:
  using ChangeDone = std::function<void(const ConfigChangeResult &)>;

  virtual ~CollectorAccess() = default;

  // Sets (`yaml` given) or removes (nullopt) layer `layer_name` of module `module_id`.
  // Changes are handled in the order they are made; `done` runs once, on the loop thread,
  // never before this call returns. A refused change leaves the layers as they were.
  virtual void set_config_layer(std::string_view module_id, std::string_view layer_name,
                                std::optional<std::string> yaml, ConfigChangeOptions options,
                                ChangeDone done) = 0;

  // Replaces the $REMOTE_CONFIG layer. nullopt: no remote config (the layer is absent).
  // An empty vector: a received empty config map, which means "do not run the Collector".
  virtual void set_remote_config(std::optional<std::vector<RemoteConfigFile>> files,
                                 ConfigChangeOptions options, ChangeDone done) = 0;

  virtual CollectorStateView collector_state() const = 0;
  // The composed config now in force; nullopt before the first composition.
  virtual std::optional<std::string> composed_config() const = 0;
  // Restarts the Collector on its current config. False when it has no config to run.
  virtual bool restart_collector() = 0;
  // Sends a ServerToAgent (serialized; the caller checked its fields) to the connected
  // Collector, with instance_uid filled in. False when no Collector is connected.
  virtual bool send_to_collector(std::string_view server_to_agent) {
    (void)server_to_agent;
    return false;
  }
  // Runs `<executable> validate --config <tmp>` on `config_yaml` off the loop thread.
  virtual void validate_collector_config(std::string config_yaml,
                                         std::function<void(const CollectorValidation &)> done) = 0;

  // Replaces the Collector executable with the one in `package` (executable_update.hpp in
  // core/collector says how) and requires it healthy within `health_timeout`. `done` runs once,
  // on the loop thread, never before this call returns. False when there is no Collector to
  // update (`done` is then never called).
  virtual bool update_executable(const std::filesystem::path &package,
                                 std::chrono::milliseconds health_timeout,
                                 std::function<void(const ExecutableUpdateOutcome &)> done) {
    (void)package;
    (void)health_timeout;
    (void)done;
    return false;
  }
  virtual UpdateRecoveryView update_recovery() const { return {}; }
};

}  // namespace opsup::modules
