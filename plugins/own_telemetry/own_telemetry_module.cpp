// own_telemetry: ReportsOwnMetrics, ReportsOwnLogs and ReportsOwnTraces (issue 10, item 5).
//
// The server offers where the Collector should send its own telemetry in
// ServerToAgent.connection_settings (own_metrics, own_logs, own_traces; the host passes a
// part only when its capability is advertised). The module keeps the offered parts, turns
// them into one Collector config layer (telemetry_layer.hpp) and persists them in
// last_recv_own_telemetry_config.dat (a serialized ConnectionSettingsOffers holding just
// those parts, as the Go supervisor writes it), which it applies again at the next start
// before the server answers.
//
// Rules:
//   - A part the message leaves out keeps what the module has (the spec: an unset part
//     means "keep"); a part with an empty destination_endpoint removes that signal.
//   - The layer is replaced only when its text changed. When only the offered certificates
//     changed (the same files, new contents), the Collector is restarted so it reads them.
//   - PEM files (own_telemetry_<signal>_{ca,cert,key}.pem, mode 0600; under agent.run_as the
//     run_as group and 0640, so the Collector can read them) are written with
//     storage_write before the layer names them, and removed once no layer in force names
//     them any more (the ABI has no storage delete, so the module removes its own files in
//     the storage directory itself).
//   - The layer goes where $OWN_TELEMETRY_CONFIG stands (OPSUP_CONFIG_OWN_TELEMETRY), first
//     by default, as upstream: local files and the remote config can still override it.
#include <opsup/module.hpp>

#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>

#include "opamp.pb.h"
#include "serialize.hpp"
#include "settings.hpp"
#include "shared/collector_group.hpp"
#include "shared/redact_endpoint.hpp"
#include "telemetry_layer.hpp"

namespace {

namespace ot = opsup::own_telemetry;
namespace proto = ::opamp::proto::v1;

constexpr const char *kPersistedFile = "last_recv_own_telemetry_config.dat";
constexpr const char *kLayerName = "own_telemetry";
constexpr std::string_view kFilePrefix = "own_telemetry_";
constexpr std::string_view kFileSuffix = ".pem";

// Where distributions keep the system's CA bundle (the list Go's crypto/x509 tries).
constexpr const char *kSystemCaBundles[] = {
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
};

std::optional<std::string> read_system_ca_bundle() {
  for (const char *path : kSystemCaBundles) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
      continue;
    std::ostringstream text;
    text << in.rdbuf();
    if (!text.str().empty())
      return text.str();
  }
  return std::nullopt;
}

bool offers_tls_with_system_pool(const proto::ConnectionSettingsOffers &offers) {
  for (ot::Signal signal : ot::kSignals) {
    if (ot::has_part(offers, signal) &&
        ot::part(offers, signal).tls().include_system_ca_certs_pool())
      return true;
  }
  return false;
}

// Only the own_* parts with an endpoint: the state the module keeps and persists.
proto::ConnectionSettingsOffers own_parts(const proto::ConnectionSettingsOffers &offers) {
  proto::ConnectionSettingsOffers kept;
  for (ot::Signal signal : ot::kSignals) {
    if (ot::has_part(offers, signal) && !ot::part(offers, signal).destination_endpoint().empty())
      *ot::mutable_part(kept, signal) = ot::part(offers, signal);
  }
  return kept;
}

class OwnTelemetryModule : public opsup::Module {
 public:
  OwnTelemetryModule(opsup::Host &host, std::string_view supervisor_config_yaml)
      : opsup::Module(host) {
    try {
      settings_ = ot::parse_supervisor_settings(supervisor_config_yaml, host.own_settings_yaml());
    } catch (const ot::SettingsError &e) {
      throw opsup::ConfigError(e.what());
    }
    try {
      collector_gid_ = opsup::plugins::collector_group(supervisor_config_yaml);
    } catch (const std::invalid_argument &e) {
      throw opsup::ConfigError(e.what());
    }
    if (const auto interval = host.setting_duration("metrics_interval")) {
      if (interval->count() <= 0)
        throw opsup::ConfigError("plugins.own_telemetry.metrics_interval: must be positive");
      settings_.metrics_interval_ms = static_cast<uint64_t>(interval->count());
    }
  }

  void start() override {
    stopped_ = false;
    std::string bytes;
    const opsup_status status = host().storage_read(kPersistedFile, bytes);
    if (status == OPSUP_ERR_NOT_FOUND) {
      remove_stale_files();
      return;
    }
    proto::ConnectionSettingsOffers persisted;
    if (status != OPSUP_OK ||
        !persisted.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      host().warn(std::string("own_telemetry: ") + kPersistedFile +
                  " cannot be read or parsed; waiting for the server's offer");
      return;
    }
    offers_ = own_parts(persisted);
    host().info(std::string("own_telemetry: applying the offer kept in ") + kPersistedFile + ": " +
                describe(offers_));
    apply();
  }

  void stop() override { stopped_ = true; }

  void on_server_message(std::string_view server_to_agent) override {
    proto::ServerToAgent message;
    if (!message.ParseFromArray(server_to_agent.data(), static_cast<int>(server_to_agent.size()))) {
      host().warn("own_telemetry: ignoring a ServerToAgent that does not parse");
      return;
    }
    if (!message.has_connection_settings())
      return;
    const proto::ConnectionSettingsOffers &offered = message.connection_settings();
    proto::ConnectionSettingsOffers next = offers_;
    bool any = false;
    for (ot::Signal signal : ot::kSignals) {
      if (!ot::has_part(offered, signal))
        continue;  // "keep what you have"
      any = true;
      if (ot::part(offered, signal).destination_endpoint().empty())
        ot::clear_part(next, signal);
      else
        *ot::mutable_part(next, signal) = ot::part(offered, signal);
    }
    if (!any)
      return;
    if (ot::serialize_deterministic(next) == ot::serialize_deterministic(offers_)) {
      host().debug("own_telemetry: the offer changes nothing");
      return;
    }
    offers_ = std::move(next);
    host().info("own_telemetry: new offer: " + describe(offers_));
    const opsup_status written =
        host().storage_write(kPersistedFile, ot::serialize_deterministic(offers_));
    if (written != OPSUP_OK) {
      host().error(std::string("own_telemetry: cannot persist the offer in ") + kPersistedFile +
                   " (status " + std::to_string(written) + "); applying it anyway");
    }
    apply();
  }

 private:
  // "metrics -> https://...; logs -> ..." (endpoints without credentials), or "nothing".
  std::string describe(const proto::ConnectionSettingsOffers &offers) const {
    std::string text;
    for (ot::Signal signal : ot::kSignals) {
      if (!ot::has_part(offers, signal))
        continue;
      if (!text.empty())
        text += "; ";
      text += std::string(ot::signal_name(signal)) + " -> " +
              opsup::plugins::redact_endpoint(ot::part(offers, signal).destination_endpoint());
      if (!settings_.enabled[static_cast<size_t>(signal)])
        text += " (not applied: reports_own_" + std::string(ot::signal_name(signal)) + " is off)";
    }
    return text.empty() ? "no signal" : text;
  }

  void apply() {
    ot::LayerOptions options;
    options.storage_directory = settings_.storage_directory;
    options.metrics_interval_ms = settings_.metrics_interval_ms;
    if (offers_tls_with_system_pool(offers_))
      options.system_ca_bundle = read_system_ca_bundle();
    ot::Layer layer = ot::render_layer(offers_, settings_.enabled, options);
    for (const std::string &problem : layer.problems)
      host().warn("own_telemetry: " + problem);

    bool material_changed = false;
    for (const auto &[name, contents] : layer.files) {
      std::string current;
      const bool unchanged = host().storage_read(name, current) == OPSUP_OK && current == contents;
      if (!unchanged) {
        const opsup_status status = host().storage_write(name, contents);
        if (status != OPSUP_OK) {
          host().error("own_telemetry: cannot write " + name + " (status " +
                       std::to_string(status) + "); the layer is not changed");
          return;
        }
        material_changed = true;
      }
      // Under agent.run_as the Collector reads the file as another user: storage_write
      // leaves it 0600, so it gets the run_as group and 0640 (every time: a file kept from
      // before may still be 0600).
      if (collector_gid_) {
        const std::string error = opsup::plugins::share_with_collector(
            settings_.storage_directory + "/" + name, *collector_gid_);
        if (!error.empty()) {
          host().error("own_telemetry: " + name + ": " + error +
                       "; the Collector (agent.run_as) could not read it, so the layer is "
                       "not changed");
          return;
        }
      }
    }
    std::set<std::string> files;
    for (const auto &entry : layer.files)
      files.insert(entry.first);

    if (requested_ && layer.yaml == *requested_) {
      wanted_files_ = std::move(files);
      if (material_changed && !layer.yaml.empty() && pending_ == 0) {
        host().info("own_telemetry: the offered certificates changed; restarting the Collector");
        const opsup_status status = host().restart_collector();
        if (status != OPSUP_OK && status != OPSUP_ERR_NOT_FOUND)
          host().warn("own_telemetry: cannot restart the Collector (status " +
                      std::to_string(status) + ")");
      }
      return;
    }
    requested_ = layer.yaml;
    wanted_files_ = files;
    ++pending_;
    auto done = [this, files = std::move(files),
                 yaml = layer.yaml](const opsup::ConfigChangeResult &result) {
      --pending_;
      const bool removing = yaml.empty();
      if (result.ok()) {
        in_force_ = yaml;
        in_force_files_ = files;
        host().info(std::string("own_telemetry: layer ") + (removing ? "removed" : "applied") +
                    " (config generation " + std::to_string(result.generation) + ")");
      } else {
        host().error(
            "own_telemetry: the Collector config with the offered telemetry was not "
            "applied (status " +
            std::to_string(result.status) + "): " + result.error);
        if (pending_ == 0)
          requested_ = in_force_;  // a later offer is compared with what is in force
      }
      if (pending_ == 0)
        remove_stale_files();
    };
    const opsup_status status =
        layer.yaml.empty() ? host().remove_config_layer(kLayerName, std::move(done))
                           : host().set_config_layer(kLayerName, layer.yaml, std::move(done),
                                                     OPSUP_CONFIG_OWN_TELEMETRY);
    if (status != OPSUP_OK) {
      --pending_;
      requested_.reset();
      host().error("own_telemetry: the host refused the config layer (status " +
                   std::to_string(status) + ")");
    }
  }

  // Removes own_telemetry_*.pem files that neither the layer in force nor the one wanted
  // names, so no key stays behind once the server withdraws it.
  void remove_stale_files() {
    if (stopped_ || settings_.storage_directory.empty())
      return;
    std::error_code error;
    std::filesystem::directory_iterator it(settings_.storage_directory, error);
    if (error)
      return;
    for (const auto &entry : it) {
      const std::string name = entry.path().filename().string();
      if (name.size() <= kFilePrefix.size() + kFileSuffix.size() ||
          name.compare(0, kFilePrefix.size(), kFilePrefix) != 0 ||
          name.compare(name.size() - kFileSuffix.size(), kFileSuffix.size(), kFileSuffix) != 0) {
        continue;
      }
      if (in_force_files_.count(name) != 0 || wanted_files_.count(name) != 0)
        continue;
      std::error_code removed;
      if (std::filesystem::remove(entry.path(), removed))
        host().debug("own_telemetry: removed " + name + ", which no layer names any more");
      else if (removed)
        host().warn("own_telemetry: cannot remove " + name + ": " + removed.message());
    }
  }

  ot::Settings settings_;
  std::optional<gid_t> collector_gid_;      // agent.run_as: the group that must read the files
  proto::ConnectionSettingsOffers offers_;  // the own_* parts with an endpoint
  std::optional<std::string> requested_;    // the layer text last given to the host
  std::optional<std::string> in_force_;     // the layer text last applied
  std::set<std::string> wanted_files_;      // PEM files of the layer last requested
  std::set<std::string> in_force_files_;    // PEM files of the layer last applied
  int pending_ = 0;                         // config changes not yet done
  bool stopped_ = true;
};

}  // namespace

OPSUP_DEFINE_MODULE(OwnTelemetryModule,
                    {.id = "own_telemetry",
                     .version = "0.1.0",
                     .description = "Sends the Collector's own metrics, logs and traces where "
                                    "the server offers, TLS material included",
                     .capabilities = OPSUP_CAP_REPORTS_OWN_METRICS | OPSUP_CAP_REPORTS_OWN_LOGS |
                                     OPSUP_CAP_REPORTS_OWN_TRACES,
                     .server_to_agent_fields = {OPSUP_S2A_CONNECTION_SETTINGS}})
