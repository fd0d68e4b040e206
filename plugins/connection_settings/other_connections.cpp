#include "other_connections.hpp"

#include <filesystem>
#include <memory>
#include <utility>

#include "shared/collector_group.hpp"
#include "stored_status.hpp"

namespace opsup::connection_settings {
namespace {

using opsup::plugins::collector_group;
using opsup::plugins::share_with_collector;

namespace proto = ::opamp::proto::v1;

constexpr const char *kStoredFile = "other_connections.dat";
constexpr const char *kLayerName = "other_connections";
// A layer this module never sets: removing it is a config change that completes after every
// change queued before it, which is when the composed config shows them.
constexpr const char *kBarrierLayerName = "other_connections_barrier";
constexpr int kApplied = 1;
constexpr int kApplying = 2;
constexpr int kFailed = 3;

std::string names_text(const std::set<std::string> &names) {
  std::string text;
  for (const std::string &name : names)
    text += (text.empty() ? "\"" : ", \"") + name + "\"";
  return text.empty() ? "none" : text;
}

std::string short_hash(const std::string &hash) {
  const std::string hex = to_hex(hash);
  return hex.size() > 12 ? hex.substr(0, 12) : (hex.empty() ? "(none)" : hex);
}

OtherConnections read_all(const proto::ConnectionSettingsOffers &offers) {
  OtherConnections connections;
  for (const auto &[name, settings] : offers.other_connections())
    connections.emplace(name, read_other_connection(settings));
  return connections;
}

}  // namespace

OtherConnection read_other_connection(const proto::OtherConnectionSettings &offer) {
  OtherConnection connection;
  connection.endpoint = offer.destination_endpoint();
  for (const proto::Header &header : offer.headers().headers())
    connection.headers.emplace_back(header.key(), header.value());
  connection.cert_pem = offer.certificate().cert();
  connection.key_pem = offer.certificate().private_key();
  connection.ca_pem = offer.tls().ca_pem_contents();
  if (!offer.certificate().ca_cert().empty()) {
    if (!connection.ca_pem.empty() && connection.ca_pem.back() != '\n')
      connection.ca_pem.push_back('\n');
    connection.ca_pem += offer.certificate().ca_cert();
  }
  connection.include_system_ca_certs_pool = offer.tls().include_system_ca_certs_pool();
  connection.insecure_skip_verify = offer.tls().insecure_skip_verify();
  connection.min_version = offer.tls().min_version();
  connection.max_version = offer.tls().max_version();
  connection.cipher_suites.assign(offer.tls().cipher_suites().begin(),
                                  offer.tls().cipher_suites().end());
  connection.proxy_url = offer.proxy().url();
  connection.proxy_connect_headers = offer.proxy().connect_headers().headers_size() > 0;
  for (const auto &[key, value] : offer.other_settings())
    connection.other_settings.push_back(key);
  return connection;
}

OtherConnectionsPart::OtherConnectionsPart(opsup::Host &host, bool enabled,
                                           std::string storage_directory,
                                           std::string_view supervisor_config_yaml, Report report)
    : host_(host),
      enabled_(enabled),
      storage_directory_(std::move(storage_directory)),
      report_(std::move(report)) {
  try {
    collector_gid_ = collector_group(supervisor_config_yaml);
  } catch (const std::invalid_argument &error) {
    throw opsup::ConfigError(error.what());
  }
}

void OtherConnectionsPart::start() {
  stopped_ = false;
  std::string bytes;
  const opsup_status status = host_.storage_read(kStoredFile, bytes);
  proto::ConnectionSettingsOffers stored;
  if (status == OPSUP_ERR_NOT_FOUND || status == OPSUP_ERR_UNSUPPORTED) {
    remove_stale_files();
    return;
  }
  if (status != OPSUP_OK || !stored.ParseFromString(bytes)) {
    host_.warn(std::string("connection_settings: ") + kStoredFile +
               " cannot be read or parsed; the exporters keep their configured settings until "
               "the server offers other connections");
    return;
  }
  if (stored.other_connections().empty()) {
    remove_stale_files();
    return;
  }
  if (!enabled_) {
    host_.info(std::string("connection_settings: the other connections kept in ") + kStoredFile +
               " are not applied: capabilities.accepts_other_connection_settings is off");
    remove_stale_files();
    return;
  }
  // Checked against the Collector's exporters when they were offered: applied as they are,
  // before the Collector first starts.
  const OtherConnectionsLayer layer =
      render_other_connections_layer(read_all(stored), nullptr, storage_directory_);
  const std::set<std::string> names(layer.applied.begin(), layer.applied.end());
  host_.info(std::string("connection_settings: applying the other connections kept in ") +
             kStoredFile + " (offer " + short_hash(stored.hash()) + "): " + names_text(names));
  apply(layer, names, false, [this, stored](bool ok, const std::string &error) {
    if (ok) {
      drop_vanished(stored);
    } else {
      host_.error(std::string("connection_settings: the other connections kept in ") + kStoredFile +
                  " are not applied: " + error);
    }
  });
}

void OtherConnectionsPart::drop_vanished(proto::ConnectionSettingsOffers kept) {
  if (stopped_ || wanted_)
    return;  // an offer arrived meanwhile: it looks the exporters up itself
  std::string composed;
  if (host_.composed_config(composed) != OPSUP_OK)
    return;
  const auto existing = exporter_names(composed, in_force_names_);
  if (!existing)
    return;
  std::set<std::string> gone;
  for (const std::string &name : in_force_names_) {
    if (existing->count(name) == 0) {
      gone.insert(name);
      kept.mutable_other_connections()->erase(name);
    }
  }
  if (gone.empty())
    return;
  host_.warn("connection_settings: no pipeline of the Collector's config uses " + names_text(gone) +
             " any more; their kept other connections are dropped");
  const OtherConnectionsLayer layer =
      render_other_connections_layer(read_all(kept), nullptr, storage_directory_);
  const std::set<std::string> names(layer.applied.begin(), layer.applied.end());
  apply(layer, names, false, [this, kept](bool ok, const std::string &error) {
    if (ok)
      persist(kept);
    else
      host_.error("connection_settings: cannot drop the vanished exporters' connections: " + error);
  });
}

void OtherConnectionsPart::stop() {
  stopped_ = true;
}

void OtherConnectionsPart::receive(const std::string &hash,
                                   const proto::ConnectionSettingsOffers &offers) {
  if (!enabled_)
    return;  // the host passes the part only when AcceptsOtherConnectionSettings is advertised
  Wanted wanted{++last_serial_, hash, {}};
  wanted.connections.set_hash(hash);
  std::set<std::string> names;
  for (const auto &[name, settings] : offers.other_connections()) {
    if (settings.ByteSizeLong() == 0)
      continue;  // a placeholder: withdraws the name
    (*wanted.connections.mutable_other_connections())[name] = settings;
    names.insert(name);
  }
  const uint64_t serial = wanted.serial;
  wanted_ = std::move(wanted);
  host_.info("connection_settings: offer " + short_hash(hash) + " sets other connections for " +
             names_text(names));
  report_(kApplying, hash, "");
  // The exporters are looked up once the config changes queued before are done: post first,
  // so that modules handling the same message (remote_config) queue theirs.
  const bool posted = host_.post([this, serial] {
    if (stopped_ || !wanted_ || wanted_->serial != serial)
      return;
    const opsup_status status = host_.remove_config_layer(
        kBarrierLayerName,
        [this, serial](const opsup::ConfigChangeResult &) { look_up_and_apply(serial); });
    if (status != OPSUP_OK)
      look_up_and_apply(serial);
  });
  if (!posted)
    look_up_and_apply(serial);
}

void OtherConnectionsPart::look_up_and_apply(uint64_t serial) {
  if (stopped_ || !wanted_ || wanted_->serial != serial)
    return;
  std::set<std::string> existing;
  std::string composed;
  const opsup_status status = host_.composed_config(composed);
  if (status == OPSUP_OK) {
    if (auto names = exporter_names(composed, in_force_names_)) {
      existing = std::move(*names);
    } else {
      host_.warn("connection_settings: the composed Collector config does not parse");
    }
  } else if (status != OPSUP_ERR_NOT_FOUND) {
    host_.warn("connection_settings: the composed Collector config cannot be read (status " +
               std::to_string(status) + ")");
  }
  const OtherConnectionsLayer layer =
      render_other_connections_layer(read_all(wanted_->connections), &existing, storage_directory_);
  for (const std::string &note : layer.notes)
    host_.warn("connection_settings: other connection " + note);
  std::string failure = layer.failure();
  if (!failure.empty())
    host_.warn("connection_settings: offer " + short_hash(wanted_->hash) + ": " + failure);

  proto::ConnectionSettingsOffers applied;
  applied.set_hash(wanted_->hash);
  for (const std::string &name : layer.applied) {
    const auto &source = wanted_->connections.other_connections();
    (*applied.mutable_other_connections())[name] = source.at(name);
  }
  const std::set<std::string> names(layer.applied.begin(), layer.applied.end());
  const std::string hash = wanted_->hash;
  apply(layer, names, true,
        [this, serial, hash, failure, applied = std::move(applied)](bool ok,
                                                                    const std::string &error) {
          if (ok)
            persist(applied);
          std::string reason = failure;
          if (!ok) {
            reason += std::string(reason.empty() ? "other_connections: " : "; ") +
                      "the Collector config with the offered connections is refused: " + error;
          }
          finish(serial, hash, reason);
        });
}

void OtherConnectionsPart::apply(const OtherConnectionsLayer &layer,
                                 const std::set<std::string> &names, bool validate,
                                 std::function<void(bool, const std::string &)> done) {
  std::set<std::string> files;
  for (const auto &[name, contents] : layer.files) {
    files.insert(name);
    std::string current;
    if (host_.storage_read(name, current) != OPSUP_OK || current != contents) {
      const opsup_status status = host_.storage_write(name, contents);
      if (status != OPSUP_OK) {
        done(false, "cannot write " + name + " in the storage directory (status " +
                        std::to_string(status) + ")");
        return;
      }
    }
    if (collector_gid_) {
      const std::string problem =
          share_with_collector(storage_directory_ + "/" + name, *collector_gid_);
      if (!problem.empty()) {
        done(false, "the Collector (agent.run_as) cannot read " + name + ": " + problem);
        return;
      }
    }
  }
  if (layer.yaml == in_force_ && pending_ == 0) {
    in_force_names_ = names;
    done(true, "");
    return;
  }
  wanted_files_ = files;
  ++pending_;
  auto finished = std::make_shared<std::function<void(bool, const std::string &)>>(std::move(done));
  auto on_done = [this, yaml = layer.yaml, names, files,
                  finished](const opsup::ConfigChangeResult &result) {
    --pending_;
    if (result.ok()) {
      in_force_ = yaml;
      in_force_names_ = names;
      in_force_files_ = files;
      host_.info(std::string("connection_settings: other connections ") +
                 (yaml.empty() ? "layer removed" : "configure " + names_text(names)) +
                 " (config generation " + std::to_string(result.generation) + ")");
    }
    if (pending_ == 0)
      remove_stale_files();
    (*finished)(result.ok(), result.ok() ? std::string() : result.error);
  };
  const opsup_status status =
      layer.yaml.empty() ? host_.remove_config_layer(kLayerName, std::move(on_done))
                         : host_.set_config_layer(kLayerName, layer.yaml, std::move(on_done),
                                                  validate ? OPSUP_CONFIG_VALIDATE : 0u);
  if (status != OPSUP_OK) {
    --pending_;
    if (pending_ == 0)
      remove_stale_files();
    (*finished)(false, "the supervisor refused the other_connections layer (status " +
                           std::to_string(status) + ")");
  }
}

void OtherConnectionsPart::persist(const proto::ConnectionSettingsOffers &applied) {
  // Atomic and 0600 (storage_write): the offer may carry private keys.
  const opsup_status status = host_.storage_write(kStoredFile, applied.SerializeAsString());
  if (status != OPSUP_OK) {
    host_.error(std::string("connection_settings: cannot persist ") + kStoredFile + " (status " +
                std::to_string(status) + "); a restart does not apply the other connections");
  }
}

void OtherConnectionsPart::remove_stale_files() {
  if (stopped_ || storage_directory_.empty())
    return;
  std::error_code error;
  std::filesystem::directory_iterator it(storage_directory_, error);
  if (error)
    return;
  for (const auto &entry : it) {
    const std::string name = entry.path().filename().string();
    if (name.size() <= kPemFilePrefix.size() + kPemFileSuffix.size() ||
        name.compare(0, kPemFilePrefix.size(), kPemFilePrefix) != 0 ||
        name.compare(name.size() - kPemFileSuffix.size(), kPemFileSuffix.size(), kPemFileSuffix) !=
            0) {
      continue;
    }
    if (in_force_files_.count(name) != 0 || (pending_ > 0 && wanted_files_.count(name) != 0))
      continue;
    std::error_code removed;
    if (std::filesystem::remove(entry.path(), removed))
      host_.debug("connection_settings: removed " + name + ", which no layer names any more");
    else if (removed)
      host_.warn("connection_settings: cannot remove " + name + ": " + removed.message());
  }
}

void OtherConnectionsPart::finish(uint64_t serial, const std::string &hash,
                                  const std::string &failure) {
  if (!wanted_ || wanted_->serial != serial)
    return;  // a newer offer replaced it; that one reports
  wanted_.reset();
  if (failure.empty()) {
    host_.info("connection_settings: the other connections of offer " + short_hash(hash) +
               " are in force");
    report_(kApplied, hash, "");
  } else {
    report_(kFailed, hash, failure);
  }
}

}  // namespace opsup::connection_settings
