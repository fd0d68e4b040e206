// The Collector side of the supervisor, in one place: it learns the Collector's description
// (bootstrap, or the cache), serves its opamp extension (the local OpAMP server), composes
// its config from the local files, the supervisor's own layers, the remote config and the
// modules' layers, and keeps it running on that config (CollectorRunner). It tracks the
// Collector's health and tells the supervisor what happens, each event carrying the
// generation of the config the Collector runs.
//
// It serves the modules' Collector services (modules::CollectorAccess): config changes are
// handled one at a time in the order made; each candidate is checked by the modules'
// validate_collector_config (the `veto` callback) and, when asked, by the Collector's own
// `validate`, and applied only when the composed text changed.
//
// Threading: everything on the io_context's thread.
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

#include "collector/collector_credentials.hpp"
#include "modules/collector_access.hpp"

namespace boost::asio {
class io_context;
}

namespace opsup::collector {

struct CollectorControllerOptions {
  std::filesystem::path executable;
  std::vector<std::string> args;                          // agent.args
  std::optional<std::map<std::string, std::string>> env;  // agent.env
  std::filesystem::path storage_directory;
  std::vector<std::string> config_files;  // agent.config_files
  // agent.startup_fallback_configs: prepare() runs the Collector's `validate` on the config
  // they compose (as the remote layer, over the local files) and refuses bad ones, as
  // upstream refuses to start; `fallback_configs_origin` names them in that error.
  std::vector<std::filesystem::path> startup_fallback_configs;
  std::string fallback_configs_origin = "agent.startup_fallback_configs";
  std::string instance_uid;  // canonical UUID text
  std::chrono::milliseconds bootstrap_timeout{3000};
  std::chrono::milliseconds stop_grace{10000};
  // The local OpAMP server: a TCP port (0: free) or a Unix socket.
  std::uint16_t local_server_port = 0;
  std::filesystem::path local_server_socket;
  std::uint32_t local_server_socket_mode = 0600;
  bool passthrough_logs = false;
  bool use_hup_config_reload = false;
  std::size_t crash_log_snippet_bytes = 0;
  bool include_resource_attributes = false;
  bool reports_available_components = true;
  // What the bootstrap cache is keyed by, besides the executable and its arguments.
  std::map<std::string, std::string> identifying_overrides;
  std::map<std::string, std::string> non_identifying_overrides;
  // The Collector restart backoff.
  std::chrono::milliseconds restart_initial{1000};
  std::chrono::milliseconds restart_max{60000};
  std::chrono::milliseconds stable_after{60000};
  // agent.run_as: every Collector process runs as this user (collector_credentials.hpp).
  std::optional<CollectorCredentials> credentials;
  // Where agent.run_as is written ("supervisor.yaml:12: agent.run_as"), for messages.
  std::string credentials_origin = "agent.run_as";
};

enum class CollectorNoticeKind { kStarted, kHealthy, kUnhealthy, kExited };

struct CollectorNotice {
  CollectorNoticeKind kind = CollectorNoticeKind::kStarted;
  std::uint64_t generation = 0;  // of the config the Collector runs (or ran)
  pid_t pid = 0;
  int exit_code = 0;    // kExited: the code, or -signal
  std::string message;  // kUnhealthy: last_error; kExited: how it ended (+ the log tail)
};

struct CollectorControllerCallbacks {
  // The Collector's AgentDescription (serialized) from the bootstrap or the cache, and again
  // whenever the extension reports a different one.
  std::function<void(const std::string &agent_description)> on_description;
  // Every AgentToServer (serialized) the Collector's extension sends, and once at start the
  // bootstrap's description and available components in that form.
  std::function<void(const std::string &agent_to_server)> on_collector_message;
  std::function<void(const CollectorNotice &)> on_notice;
  // The modules' validate_collector_config on a candidate: empty accepts, else the reason.
  // `trusted`: the candidate holds only the operator's own layers (local files and the
  // supervisor's), no remote config and no module layer; a refusal of those is only
  // warned about, so a policy shows what it would do without stopping the Collector.
  std::function<std::string(const std::string &config_yaml, bool trusted)> veto;
  // The modules' rewrite_collector_config on an untrusted candidate, before the veto:
  // the config to use, what was changed (lines), or a refusal.
  struct Rewrite {
    std::string config;
    std::string notes;    // one line per change; "" when nothing changed
    std::string refusal;  // non-empty: refused
  };
  std::function<Rewrite(const std::string &config_yaml)> rewrite;
};

// A local config file that cannot be read, or a layer that is not a YAML map. what() names it.
class CollectorSetupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class CollectorController final : public modules::CollectorAccess {
 public:
  CollectorController(boost::asio::io_context &io, CollectorControllerOptions options,
                      CollectorControllerCallbacks callbacks);
  ~CollectorController() override;  // a running Collector is killed
  CollectorController(const CollectorController &) = delete;
  CollectorController &operator=(const CollectorController &) = delete;

  // Blocking checks before the loop runs: finishes a Collector executable update the previous
  // process left unfinished (update_recovery.hpp); with agent.run_as, checks that the supervisor
  // may switch users (refusing to run the Collector as itself instead) and opens the storage
  // directory to the run_as group; probes `featuregate`, reads the bootstrap cache and
  // composes the local layers once, so an unreadable or invalid local config file stops
  // start-up. Throws CollectorSetupError.
  void prepare();
  // Learns the description (from the cache, or by bootstrapping: `ready` runs once that is
  // done, with "" or the bootstrap's error), starts the local server and the Collector.
  // A failed bootstrap does not stop the supervisor: the error goes to `ready`, the
  // supervisor keeps reporting with its own description and runs the Collector anyway.
  void start(std::function<void(const std::string &bootstrap_error)> ready);
  // Stops the Collector gracefully (SIGTERM, SIGKILL after stop_grace), then `done`.
  void stop(std::function<void()> done);

  // A ReportFullState from the server: asks the extension to report everything again.
  void request_full_state();
  // The server assigned a new instance UID: the config is recomposed with it (the opamp
  // extension's instance_uid, service.instance.id) and the Collector restarted on it.
  void set_instance_uid(const std::string &instance_uid);

  // agent.config_files changed, or their contents may have (SIGHUP): the local files are
  // read again and the config recomposed through the change queue, like any other change;
  // the Collector is restarted (or sent SIGHUP) only when the composed text differs. An
  // unreadable or invalid file fails the change (kInvalid, naming it) and the Collector
  // keeps its config.
  void set_config_files(std::vector<std::string> config_files, ChangeDone done);

  // modules::CollectorAccess
  void set_config_layer(std::string_view module_id, std::string_view layer_name,
                        std::optional<std::string> yaml, modules::ConfigChangeOptions options,
                        ChangeDone done) override;
  void set_remote_config(std::optional<std::vector<modules::RemoteConfigFile>> files,
                         modules::ConfigChangeOptions options, ChangeDone done) override;
  modules::CollectorStateView collector_state() const override;
  std::optional<std::string> composed_config() const override;
  bool restart_collector() override;
  bool send_to_collector(std::string_view server_to_agent) override;
  void validate_collector_config(
      std::string config_yaml,
      std::function<void(const modules::CollectorValidation &)> done) override;
  // The update waits for config changes under way and holds later ones until it is over;
  // restart requests are refused meanwhile. An interrupted update is finished by prepare().
  bool update_executable(
      const std::filesystem::path &package, std::chrono::milliseconds health_timeout,
      std::function<void(const modules::ExecutableUpdateOutcome &)> done) override;
  modules::UpdateRecoveryView update_recovery() const override;

  // The local server's endpoint (for logs and tests).
  std::string local_endpoint() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace opsup::collector
