// remote_config: AcceptsRemoteConfig and ReportsRemoteConfig (issue 10, item 1).
//
// A remote config from the server is persisted (last_recv_remote_config.dat) before it is
// applied, reported APPLYING, and handed to the host as the $REMOTE_CONFIG layer. It is
// APPLIED as soon as the Collector reports healthy on the generation that layer produced
// (upstream waits out the whole config_apply_timeout), or at once when the composed config
// did not change or the map is empty (the Collector is then stopped). It is FAILED when the
// host refuses it (a module's veto, the Collector's `validate` with agent.validate_config,
// a file that is not a YAML map), when the Collector exits while applying it, or when it is
// still not healthy on it at the timeout.
//
// Beyond upstream:
//   - a failed config's hash is remembered (persistent_state.yaml, modules.remote_config):
//     the same config sent again is reported FAILED with its first reason, not re-applied;
//   - with agent.automatic_config_rollback the last APPLIED config
//     (last_working_remote_config.dat) runs again after a failure, and the status keeps
//     saying FAILED for the config the server sent (upstream reports APPLIED for the old
//     hash, which invites the server to send the bad one again); a restored config that
//     fails too is not restored again (no tight loop).
//
// At start-up the last received config (or, after a failure with rollback, the last working
// one) is applied before the server answers. With agent.startup_fallback_configs and no
// persisted config, the fallback files stand in for the remote layer until the first
// connection, and are never applied again after it.
#include <opsup/module.hpp>

#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "opamp.pb.h"
#include "settings.hpp"
#include "stored_status.hpp"

namespace {

namespace proto = ::opamp::proto::v1;
using opsup::remote_config::FailedHashes;
using opsup::remote_config::Settings;
using opsup::remote_config::StoredStatus;
using opsup::remote_config::to_hex;

constexpr const char *kLastReceivedFile = "last_recv_remote_config.dat";
constexpr const char *kLastWorkingFile = "last_working_remote_config.dat";
constexpr const char *kStatusKey = "last_remote_config_status";
constexpr const char *kFailedHashesKey = "failed_config_hashes";
// How the core words the exit it caused itself (an empty map, a restart).
constexpr std::string_view kStoppedBySupervisor = "the Collector was stopped by the supervisor";

std::string short_hash(const std::string &hash) {
  const std::string hex = to_hex(hash);
  return hex.size() > 12 ? hex.substr(0, 12) : (hex.empty() ? "(none)" : hex);
}

class RemoteConfigModule : public opsup::Module {
 public:
  RemoteConfigModule(opsup::Host &host, std::string_view supervisor_config_yaml)
      : opsup::Module(host),
        settings_(opsup::remote_config::parse_settings(supervisor_config_yaml)) {}

  void start() override {
    std::string text;
    if (host().state_read(kFailedHashesKey, text) == OPSUP_OK)
      failed_ = FailedHashes::from_yaml(text);
    if (host().state_read(kStatusKey, text) == OPSUP_OK) {
      if (auto stored = opsup::remote_config::parse_status_yaml(text)) {
        reported_ = *stored;
        send_status();  // the server sees the last status at once, as upstream
      }
    }
    if (settings_.automatic_rollback)
      last_working_ = read_config_file(kLastWorkingFile);
    std::optional<proto::AgentRemoteConfig> received = read_config_file(kLastReceivedFile);
    if (received) {
      restore(*received);
    } else if (!settings_.startup_fallback_configs.empty()) {
      apply_fallback();
    } else {
      host().info(
          "remote_config: no last received remote config; the Collector runs on its "
          "local config until the server sends one");
    }
  }

  void on_server_message(std::string_view server_to_agent) override {
    proto::ServerToAgent message;
    if (!message.ParseFromArray(server_to_agent.data(), static_cast<int>(server_to_agent.size())))
      return;  // the host logged it
    if (message.has_remote_config())
      receive(message.remote_config());
  }

  void on_event(const opsup::Event &event) override {
    if (event.kind == OPSUP_EVENT_SERVER_CONNECTED && fallback_active_) {
      // Upstream: the fallback gives way at the first connection and never comes back.
      fallback_active_ = false;
      host().info("remote_config: connected; the startup fallback config gives way");
      host().clear_remote_config();
      return;
    }
    if (!applying_ || applying_->generation == 0)
      return;
    if (event.kind == OPSUP_EVENT_COLLECTOR_HEALTHY && event.generation >= applying_->generation) {
      succeed(applying_->notes);
    } else if (event.kind == OPSUP_EVENT_COLLECTOR_EXITED &&
               event.generation == applying_->generation &&
               event.message.substr(0, kStoppedBySupervisor.size()) != kStoppedBySupervisor) {
      fail("the Collector exited while applying the config: " + std::string(event.message),
           /*may_roll_back=*/true);
    }
  }

 private:
  struct Applying {
    proto::AgentRemoteConfig config;
    uint64_t serial = 0;
    uint64_t generation = 0;  // 0 until the host composed it
    opsup::Host::TimerId timer = 0;
    bool quiet = false;     // restored at start-up or rolled back: the status is not changed
    bool rollback = false;  // the last working config, restored after a failure
    std::string notes;      // what modules rewrote in it, reported with APPLIED
  };

  // ---- receiving and applying ----

  void receive(const proto::AgentRemoteConfig &config) {
    const std::string &hash = config.config_hash();
    fallback_active_ = false;
    if (auto reason = failed_.reason(hash); reason && !hash.empty()) {
      host().warn("remote_config: config " + short_hash(hash) +
                  " failed before; not applying it again: " + *reason);
      report(proto::RemoteConfigStatuses_FAILED, hash, *reason);
      return;
    }
    if (host().storage_write(kLastReceivedFile, config.SerializeAsString()) != OPSUP_OK)
      host().warn(std::string("remote_config: could not persist ") + kLastReceivedFile);
    rollback_failed_ = false;
    report(proto::RemoteConfigStatuses_APPLYING, hash, "");
    apply(config, /*quiet=*/false, /*rollback=*/false);
  }

  void apply(const proto::AgentRemoteConfig &config, bool quiet, bool rollback) {
    if (applying_ && applying_->timer != 0)
      host().cancel_timer(applying_->timer);
    opsup::CollectorState state;
    const uint64_t latest_before =
        host().collector_state(state) == OPSUP_OK ? state.latest_generation : 0;
    applying_ = Applying{config, ++last_serial_, 0, 0, quiet, rollback, {}};

    std::vector<opsup::ConfigFile> files;
    for (const auto &[name, file] : config.config().config_map())
      files.push_back({name, file.body(), file.content_type()});
    const bool empty = files.empty();
    const uint32_t flags = settings_.validate_config && !empty ? OPSUP_CONFIG_VALIDATE : 0;
    const uint64_t serial = applying_->serial;
    const opsup_status queued = host().set_remote_config(
        files,
        [this, serial, latest_before, empty](const opsup::ConfigChangeResult &result) {
          composed(serial, latest_before, empty, result);
        },
        flags);
    if (queued != OPSUP_OK)
      fail("the supervisor could not take the config (status " + std::to_string(queued) + ")",
           /*may_roll_back=*/false);
  }

  void composed(uint64_t serial, uint64_t latest_before, bool empty,
                const opsup::ConfigChangeResult &result) {
    if (!applying_ || applying_->serial != serial)
      return;  // a newer config replaced this one
    if (!result.ok()) {
      // Refused before it ran: the Collector still runs the previous config.
      fail(result.error.empty() ? "refused by the supervisor" : result.error,
           /*may_roll_back=*/false);
      return;
    }
    applying_->notes = result.error;  // on success: what was rewritten, if anything
    if (empty || result.generation == latest_before) {
      succeed(applying_->notes);  // nothing to wait for: stopped (empty map) or unchanged
      return;
    }
    applying_->generation = result.generation;
    opsup::CollectorState state;
    if (host().collector_state(state) == OPSUP_OK &&
        state.health == opsup::CollectorHealth::kHealthy && state.generation >= result.generation) {
      succeed(applying_->notes);
      return;
    }
    applying_->timer = host().start_timer(settings_.apply_timeout, [this, serial] {
      if (!applying_ || applying_->serial != serial)
        return;
      applying_->timer = 0;
      opsup::CollectorState now;
      if (host().collector_state(now) == OPSUP_OK &&
          now.health == opsup::CollectorHealth::kHealthy &&
          now.generation >= applying_->generation) {
        succeed(applying_->notes);
        return;
      }
      std::string reason = "Config apply timeout exceeded";
      if (!now.last_error.empty())
        reason += ": " + now.last_error;
      fail(reason, /*may_roll_back=*/true);
    });
  }

  void succeed(std::string notes = "") {  // by value: applying_ is moved from below
    Applying done = std::move(*applying_);
    applying_.reset();
    if (done.timer != 0)
      host().cancel_timer(done.timer);
    const std::string &hash = done.config.config_hash();
    if (done.rollback) {
      host().info("remote_config: the last working config " + short_hash(hash) + " runs again");
      return;  // the status stays FAILED for the config the server sent
    }
    if (settings_.automatic_rollback && !done.quiet) {
      if (host().storage_write(kLastWorkingFile, done.config.SerializeAsString()) != OPSUP_OK)
        host().warn(std::string("remote_config: could not persist ") + kLastWorkingFile);
      last_working_ = done.config;
    }
    // A module may have rewritten the config (config_policy's sanitise mode): say what.
    report(proto::RemoteConfigStatuses_APPLIED, hash,
           notes.empty() ? "" : "applied with changes: " + notes);
  }

  void fail(const std::string &reason, bool may_roll_back) {
    Applying failed = std::move(*applying_);
    applying_.reset();
    if (failed.timer != 0)
      host().cancel_timer(failed.timer);
    const std::string &hash = failed.config.config_hash();
    if (failed.rollback) {
      rollback_failed_ = true;
      host().error("remote_config: the restored last working config " + short_hash(hash) +
                   " failed too (" + reason + "); not restoring it again");
      return;
    }
    host().warn("remote_config: config " + short_hash(hash) + " failed: " + reason);
    if (!hash.empty()) {
      failed_.add(hash, reason);
      host().state_write(kFailedHashesKey, failed_.to_yaml());
    }
    const bool roll_back = may_roll_back && settings_.automatic_rollback && last_working_ &&
                           last_working_->config_hash() != hash && !rollback_failed_;
    report(proto::RemoteConfigStatuses_FAILED, hash,
           roll_back ? reason + "; running the last working config (" +
                           short_hash(last_working_->config_hash()) + ") again"
                     : reason);
    if (roll_back)
      apply(*last_working_, /*quiet=*/true, /*rollback=*/true);
  }

  // ---- start-up ----

  void restore(const proto::AgentRemoteConfig &received) {
    const std::string &hash = received.config_hash();
    const bool failed_before =
        failed_.reason(hash).has_value() ||
        (reported_ && reported_->status == proto::RemoteConfigStatuses_FAILED &&
         reported_->hash == hash);
    if (failed_before) {
      if (settings_.automatic_rollback && last_working_) {
        host().info("remote_config: the last received config " + short_hash(hash) +
                    " failed; starting from the last working one (" +
                    short_hash(last_working_->config_hash()) + ")");
        apply(*last_working_, /*quiet=*/true, /*rollback=*/true);
      } else {
        host().warn("remote_config: the last received config " + short_hash(hash) +
                    " failed before; starting on the local config until the server sends "
                    "another");
      }
      return;
    }
    host().info("remote_config: applying the last received config " + short_hash(hash) +
                " before the server answers");
    apply(received, /*quiet=*/true, /*rollback=*/false);
  }

  void apply_fallback() {
    proto::AgentRemoteConfig fallback;
    int index = 0;
    for (const auto &path : settings_.startup_fallback_configs) {
      std::ifstream in(path);
      std::stringstream text;
      text << in.rdbuf();
      if (!in) {
        host().error("remote_config: cannot read startup fallback config " + path.string() +
                     "; not using the fallback");
        return;
      }
      // Named in order, so they merge in the order written (the unnamed file goes last).
      char name[32];
      std::snprintf(name, sizeof name, "fallback-%03d", index++);
      auto &file = (*fallback.mutable_config()->mutable_config_map())[name];
      file.set_body(text.str());
      file.set_content_type("text/yaml");
    }
    fallback_active_ = true;
    host().info(
        "remote_config: no persisted remote config; switching to the startup fallback "
        "config until the first connection");
    apply(fallback, /*quiet=*/true, /*rollback=*/false);
  }

  std::optional<proto::AgentRemoteConfig> read_config_file(const char *name) {
    std::string bytes;
    if (host().storage_read(name, bytes) != OPSUP_OK)
      return std::nullopt;
    proto::AgentRemoteConfig config;
    if (!config.ParseFromString(bytes)) {
      host().warn(std::string("remote_config: ") + name + " does not parse; ignoring it");
      return std::nullopt;
    }
    return config;
  }

  // ---- status ----

  void report(proto::RemoteConfigStatuses status, const std::string &hash,
              const std::string &error) {
    reported_ = StoredStatus{status, hash, error};
    host().state_write(kStatusKey, opsup::remote_config::status_yaml(*reported_));
    send_status();
  }

  void send_status() {
    proto::AgentToServer fields;
    auto *status = fields.mutable_remote_config_status();
    status->set_status(static_cast<proto::RemoteConfigStatuses>(reported_->status));
    status->set_last_remote_config_hash(reported_->hash);
    status->set_error_message(reported_->error_message);
    host().set_agent_fields(fields.SerializeAsString());
  }

  Settings settings_;
  FailedHashes failed_;
  std::optional<StoredStatus> reported_;
  std::optional<proto::AgentRemoteConfig> last_working_;
  std::optional<Applying> applying_;
  uint64_t last_serial_ = 0;
  bool rollback_failed_ = false;
  bool fallback_active_ = false;
};

}  // namespace

OPSUP_DEFINE_MODULE(RemoteConfigModule,
                    {.id = "remote_config",
                     .version = "1.0.0",
                     .description = "applies the server's remote config and reports its status",
                     .capabilities = OPSUP_CAP_ACCEPTS_REMOTE_CONFIG |
                                     OPSUP_CAP_REPORTS_REMOTE_CONFIG,
                     .server_to_agent_fields = {OPSUP_S2A_REMOTE_CONFIG}})
