// AcceptsOtherConnectionSettings, the module's part (issue 11, item 4): takes the
// other_connections part of ServerToAgent.connection_settings, turns it into the Collector
// config layer "other_connections" (other_connections_layer.hpp says what goes where),
// writes the offered certificates and keys into the storage directory, persists what is in
// force and restores it at start, before the Collector first starts.
//
// Rules:
//   - A message with other_connections carries the whole set: a name left out is withdrawn.
//     An entry with nothing set in it is a placeholder that withdraws its name, so the set
//     can be emptied (a map with no entry is not on the wire, which means "keep"). A message
//     without other_connections keeps what is in force.
//   - The exporters are looked up in the composed config once config changes queued before
//     the offer are done (a remote config in the same message comes first). A name with no
//     such exporter is left out and named in the FAILED status; the others are applied.
//   - The layer is applied with the Collector's own `validate` (OPSUP_CONFIG_VALIDATE); a
//     refusal is FAILED with its message, and what was in force stays.
//   - APPLIED once the layer is in force (or nothing had to change). When only the contents
//     of the certificate files changed, the Collector is restarted to read them.
//   - PEM files (other_connection_<name>_{ca,cert,key}_<hash>.pem, 0600, written atomically;
//     under agent.run_as given the run_as group and 0640, so the Collector can read them)
//     are written before the layer names them and removed once no layer in force or wanted
//     names them.
//   - What is in force is kept in other_connections.dat (a serialized
//     ConnectionSettingsOffers: hash and the applied connections, 0600) and applied again at
//     start without a lookup, so the Collector's first config has it; once that config is
//     composed, names no pipeline uses any more are dropped. With
//     capabilities.accepts_other_connection_settings off it is not applied.
//   - Logs name exporters and endpoints (without credentials), never header values or keys.
#pragma once

#include <opsup/module.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "opamp.pb.h"
#include "other_connections_layer.hpp"

namespace opsup::connection_settings {

class OtherConnectionsPart {
 public:
  // The part's status for an offer's hash (ConnectionSettingsStatuses value, message).
  using Report = std::function<void(int status, const std::string &hash, const std::string &error)>;

  // Reads agent.run_as from `supervisor_config_yaml` (collector_group.hpp); throws
  // opsup::ConfigError when it cannot be resolved.
  OtherConnectionsPart(opsup::Host &host, bool enabled, std::string storage_directory,
                       std::string_view supervisor_config_yaml, Report report);

  // Applies what other_connections.dat holds (when enabled).
  void start();
  void stop();
  // The other_connections part of an offer (non-empty).
  void receive(const std::string &hash, const ::opamp::proto::v1::ConnectionSettingsOffers &offers);

 private:
  struct Wanted {
    uint64_t serial = 0;
    std::string hash;
    ::opamp::proto::v1::ConnectionSettingsOffers connections;  // hash + the wanted entries
  };

  // After the kept connections were restored: drops those whose exporter no pipeline of the
  // composed config uses any more (the operator's files changed), so none lingers.
  void drop_vanished(::opamp::proto::v1::ConnectionSettingsOffers kept);
  void look_up_and_apply(uint64_t serial);
  // Writes the layer's files, then sets (or removes) the layer; `done` gets whether it is in
  // force and the reason when not.
  void apply(const OtherConnectionsLayer &layer, const std::set<std::string> &names, bool validate,
             std::function<void(bool ok, const std::string &error)> done);
  void persist(const ::opamp::proto::v1::ConnectionSettingsOffers &applied);
  void remove_stale_files();
  void finish(uint64_t serial, const std::string &hash, const std::string &failure);

  opsup::Host &host_;
  bool enabled_;
  std::string storage_directory_;
  std::optional<gid_t> collector_gid_;  // agent.run_as: the files get this group, 0640
  Report report_;
  bool stopped_ = true;
  uint64_t last_serial_ = 0;
  std::optional<Wanted> wanted_;  // the offer being applied
  std::string in_force_;          // the layer text in force ("" none)
  std::set<std::string> in_force_names_;
  std::set<std::string> in_force_files_;
  std::set<std::string> wanted_files_;
  int pending_ = 0;  // config changes not yet done
};

// The module's view of one offered OtherConnectionSettings.
OtherConnection read_other_connection(const ::opamp::proto::v1::OtherConnectionSettings &offer);

}  // namespace opsup::connection_settings
