// connection_settings: AcceptsOpAMPConnectionSettings and ReportsConnectionSettingsStatus
// (issue 11, items 1 and 2).
//
// An offer's `opamp` part is a candidate: the module reports APPLYING and asks the core to
// try it (try_opamp_connection_settings): the core says goodbye to the current server,
// connects with the new settings and keeps them only when the server there answers a status
// report within plugins.connection_settings.verify_timeout; otherwise it goes back to the
// previous settings and reconnects there. Only then does the module commit: it persists the
// offer (opamp_connection_settings.dat in the storage directory, mode 0600, written
// atomically: it may hold a private key) and reports APPLIED; a failure is reported FAILED
// with the core's reason, and the same offer (same hash) is not tried again. At start-up the
// persisted settings are handed to the core as committed ones, so a restart connects where
// the last switch went. The last status is kept in persistent_state.yaml and reported again
// at start.
//
// An offer that carries nothing but heartbeat_interval_seconds changes no connection: the
// core applies the interval as the offer arrives, and the module commits it at once, keeping
// the connection settings in force.
//
// How the core reads an offer (headers versus the configured auth, certificates, TLS) is
// written in opsup/module.h at try_opamp_connection_settings.
//
// AcceptsOtherConnectionSettings (item 4): the offer's other_connections part configures the
// Collector's same-named exporters (other_connections.hpp). One status covers both parts of
// an offer (offer_status.hpp says how they combine).
//
// With plugins.connection_settings.request_client_certificate, the module also asks the server
// for a client certificate by CSR and installs it through the same verified switch
// (client_certificate.hpp).
#include <opsup/module.hpp>

#include <chrono>
#include <optional>
#include <set>
#include <string>

#include "client_certificate.hpp"
#include "offer_status.hpp"
#include "opamp.pb.h"
#include "other_connections.hpp"
#include "settings.hpp"
#include "stored_status.hpp"

namespace {

namespace proto = ::opamp::proto::v1;
using namespace std::chrono_literals;
using opsup::connection_settings::OfferPart;
using opsup::connection_settings::StoredStatus;
using opsup::connection_settings::to_hex;

constexpr const char *kStoredFile = "opamp_connection_settings.dat";
constexpr const char *kStatusKey = "last_connection_settings_status";
constexpr std::chrono::milliseconds kDefaultVerifyTimeout = 30s;

std::string short_hash(const std::string &hash) {
  const std::string hex = to_hex(hash);
  return hex.size() > 12 ? hex.substr(0, 12) : (hex.empty() ? "(none)" : hex);
}

// True when the offer changes the connection, not just the heartbeat interval.
bool changes_connection(const proto::OpAMPConnectionSettings &offer) {
  return !offer.destination_endpoint().empty() || offer.headers().headers_size() > 0 ||
         offer.has_certificate() || offer.has_tls() ||
         (offer.has_proxy() && !offer.proxy().url().empty());
}

class ConnectionSettingsModule : public opsup::Module {
 public:
  ConnectionSettingsModule(opsup::Host &host, std::string_view supervisor_config_yaml)
      : opsup::Module(host),
        capabilities_(read_capabilities(supervisor_config_yaml)),
        other_(host, capabilities_.accepts_other, capabilities_.storage_directory,
               supervisor_config_yaml,
               [this](int status, const std::string &hash, const std::string &error) {
                 report_part(OfferPart::kOtherConnections, status, hash, error);
               }) {
    verify_timeout_ = host.setting_duration("verify_timeout").value_or(kDefaultVerifyTimeout);
    if (verify_timeout_.count() <= 0)
      throw opsup::ConfigError("plugins.connection_settings.verify_timeout: must be positive");
    if (host.setting_bool("request_client_certificate").value_or(false)) {
      if (!accepts_opamp(supervisor_config_yaml)) {
        throw opsup::ConfigError(
            "plugins.connection_settings.request_client_certificate: needs "
            "capabilities.accepts_opamp_connection_settings: true (the server answers with an "
            "OpAMP connection settings offer)");
      }
      client_certificate_.emplace(host, [this] { send_agent_fields(); });
    }
  }

  void start() override {
    std::string text;
    if (host().state_read(kStatusKey, text) == OPSUP_OK) {
      if (auto stored = opsup::connection_settings::parse_status_yaml(text)) {
        reported_ = *stored;
        if (reported_->status == proto::ConnectionSettingsStatuses_APPLYING) {
          // Stopped in the middle of a trial: nothing was committed. Saying so lets the
          // server offer it again instead of waiting for an outcome that never comes.
          report(proto::ConnectionSettingsStatuses_FAILED, reported_->hash,
                 "the supervisor stopped before the new server answered; the settings were "
                 "not kept");
        } else {
          send_status();  // the server sees the last status at once
        }
      }
    }
    restore();
    if (client_certificate_) {
      client_certificate_->start(committed_ ? committed_->opamp().certificate().cert()
                                            : std::string());
    }
    other_.start();
  }

  void stop() override { other_.stop(); }

  void on_server_message(std::string_view server_to_agent) override {
    proto::ServerToAgent message;
    if (!message.ParseFromArray(server_to_agent.data(), static_cast<int>(server_to_agent.size())))
      return;  // the host logged it
    if (client_certificate_)
      client_certificate_->on_server_message();
    if (!message.has_connection_settings())
      return;
    const proto::ConnectionSettingsOffers &offers = message.connection_settings();
    const bool other = !offers.other_connections().empty();
    if (!offers.has_opamp() && !other)
      return;
    std::set<OfferPart> parts;
    if (offers.has_opamp())
      parts.insert(OfferPart::kOpamp);
    if (other)
      parts.insert(OfferPart::kOtherConnections);
    offer_status_.begin(offers.hash(), parts);
    if (offers.has_opamp()) {
      proto::OpAMPConnectionSettings offer = offers.opamp();
      if (client_certificate_)
        client_certificate_->complete_offer(offer);  // an issued certificate gets its key
      receive(offers.hash(), offer);
    }
    if (other)
      other_.receive(offers.hash(), offers);
  }

 private:
  struct Trying {
    uint64_t serial = 0;
    std::string hash;
    std::string opamp;  // the serialized OpAMPConnectionSettings being tried
  };
  struct Failed {
    std::string hash;
    std::string reason;
  };

  static bool accepts_opamp(std::string_view yaml) {
    try {
      return opsup::connection_settings::accepts_opamp_connection_settings(yaml);
    } catch (const std::invalid_argument &error) {
      throw opsup::ConfigError(error.what());
    }
  }

  static opsup::connection_settings::Capabilities read_capabilities(std::string_view yaml) {
    try {
      return opsup::connection_settings::parse_capabilities(yaml);
    } catch (const std::invalid_argument &error) {
      throw opsup::ConfigError(error.what());
    }
  }

  // ---- start-up ----

  void restore() {
    std::string bytes;
    if (host().storage_read(kStoredFile, bytes) != OPSUP_OK)
      return;
    proto::ConnectionSettingsOffers stored;
    if (!stored.ParseFromString(bytes) || !stored.has_opamp()) {
      host().warn(std::string("connection_settings: ") + kStoredFile +
                  " does not parse; connecting with the configured server settings");
      return;
    }
    committed_ = stored;
    host().info("connection_settings: connecting with the settings offered last (" +
                short_hash(stored.hash()) + ", stored in " + kStoredFile + ")");
    const opsup_status status = host().try_opamp_connection_settings(
        stored.opamp().SerializeAsString(), verify_timeout_,
        [this](opsup_status outcome, const std::string &error) {
          if (outcome == OPSUP_OK)
            return;
          committed_.reset();
          host().error("connection_settings: the stored connection settings cannot be used (" +
                       error + "); connecting with the configured server settings");
        },
        OPSUP_CONNECTION_COMMITTED);
    if (status != OPSUP_OK) {
      committed_.reset();
      host().error(
          "connection_settings: the supervisor cannot use the stored connection "
          "settings (status " +
          std::to_string(status) + ")");
    }
  }

  // ---- offers ----

  void receive(const std::string &hash, const proto::OpAMPConnectionSettings &offer) {
    const std::string opamp = offer.SerializeAsString();
    if (trying_ && trying_->opamp == opamp)
      return;  // already being tried
    if (committed_ && committed_->opamp().SerializeAsString() == opamp) {
      // In force already (the hash covers other parts too, which may have changed).
      if (committed_->hash() != hash) {
        committed_->set_hash(hash);
        persist();
      }
      report(proto::ConnectionSettingsStatuses_APPLIED, hash, "");
      return;
    }
    if (!hash.empty() && failed_ && failed_->hash == hash) {
      host().warn("connection_settings: offer " + short_hash(hash) +
                  " failed before; not trying it again: " + failed_->reason);
      report(proto::ConnectionSettingsStatuses_FAILED, hash, failed_->reason);
      return;
    }
    if (!changes_connection(offer)) {
      // Only the heartbeat interval, which the core applied as the offer arrived.
      proto::ConnectionSettingsOffers merged =
          committed_.value_or(proto::ConnectionSettingsOffers{});
      merged.set_hash(hash);
      merged.mutable_opamp()->set_heartbeat_interval_seconds(offer.heartbeat_interval_seconds());
      committed_ = std::move(merged);
      persist();
      host().info("connection_settings: offer " + short_hash(hash) +
                  " changes only the heartbeat interval, to " +
                  std::to_string(offer.heartbeat_interval_seconds()) + " s");
      report(proto::ConnectionSettingsStatuses_APPLIED, hash, "");
      return;
    }
    trying_ = Trying{++last_serial_, hash, opamp};
    report(proto::ConnectionSettingsStatuses_APPLYING, hash, "");
    host().info("connection_settings: trying offer " + short_hash(hash) +
                (offer.destination_endpoint().empty() ? std::string(" on the current endpoint")
                                                      : " (" + offer.destination_endpoint() + ")"));
    const uint64_t serial = trying_->serial;
    const opsup_status status = host().try_opamp_connection_settings(
        opamp, verify_timeout_, [this, serial](opsup_status outcome, const std::string &error) {
          tried(serial, outcome, error);
        });
    if (status != OPSUP_OK)
      tried(serial, OPSUP_ERR_FAILED,
            "the supervisor cannot change its OpAMP connection (status " + std::to_string(status) +
                ")");
  }

  void tried(uint64_t serial, opsup_status outcome, const std::string &error) {
    if (!trying_ || trying_->serial != serial)
      return;  // a newer offer replaced it
    Trying done = std::move(*trying_);
    trying_.reset();
    if (outcome != OPSUP_OK) {
      const std::string reason = error.empty() ? "the new connection did not work" : error;
      host().warn("connection_settings: offer " + short_hash(done.hash) + " failed: " + reason);
      failed_ = Failed{done.hash, reason};
      report(proto::ConnectionSettingsStatuses_FAILED, done.hash, reason);
      return;
    }
    proto::ConnectionSettingsOffers offers;
    offers.set_hash(done.hash);
    offers.mutable_opamp()->ParseFromString(done.opamp);
    committed_ = std::move(offers);
    failed_.reset();
    persist();
    host().info("connection_settings: offer " + short_hash(done.hash) + " is in force");
    report(proto::ConnectionSettingsStatuses_APPLIED, done.hash, "");
  }

  void persist() {
    // Atomic and 0600 (storage_write): the offer may carry a private key.
    if (host().storage_write(kStoredFile, committed_->SerializeAsString()) != OPSUP_OK) {
      host().error(std::string("connection_settings: could not persist ") + kStoredFile +
                   "; a restart connects with the configured server settings");
    }
  }

  // ---- status ----

  // The opamp part's status; the offer's status combines it with the other parts'.
  void report(proto::ConnectionSettingsStatuses status, const std::string &hash,
              const std::string &error) {
    report_part(OfferPart::kOpamp, status, hash, error);
  }

  void report_part(OfferPart part, int status, const std::string &hash, const std::string &error) {
    if (auto combined = offer_status_.record(part, hash, status, error))
      publish(std::move(*combined));
  }

  void publish(StoredStatus next) {
    if (reported_ && reported_->status == next.status && reported_->hash == next.hash &&
        reported_->error_message == next.error_message)
      return;
    reported_ = std::move(next);
    host().state_write(kStatusKey, opsup::connection_settings::status_yaml(*reported_));
    send_status();
  }

  void send_status() {
    if (!capabilities_.reports_status)
      return;  // ReportsConnectionSettingsStatus is not advertised
    send_agent_fields();
  }

  // Both fields the module owns go together: set_agent_fields clears an owned field left out.
  void send_agent_fields() {
    proto::AgentToServer fields;
    if (capabilities_.reports_status && reported_) {
      auto *status = fields.mutable_connection_settings_status();
      status->set_status(static_cast<proto::ConnectionSettingsStatuses>(reported_->status));
      status->set_last_connection_settings_hash(reported_->hash);
      status->set_error_message(reported_->error_message);
    }
    if (client_certificate_ && client_certificate_->pending_request())
      *fields.mutable_connection_settings_request() = *client_certificate_->pending_request();
    host().set_agent_fields(fields.SerializeAsString());
  }

  opsup::connection_settings::Capabilities capabilities_;
  std::chrono::milliseconds verify_timeout_{kDefaultVerifyTimeout};
  std::optional<proto::ConnectionSettingsOffers> committed_;
  std::optional<Trying> trying_;
  std::optional<Failed> failed_;
  std::optional<StoredStatus> reported_;
  std::optional<opsup::connection_settings::ClientCertificate> client_certificate_;
  uint64_t last_serial_ = 0;
  opsup::connection_settings::OtherConnectionsPart other_;
  opsup::connection_settings::OfferStatus offer_status_;
};

}  // namespace

OPSUP_DEFINE_MODULE(ConnectionSettingsModule,
                    {.id = "connection_settings",
                     .version = "1.0.0",
                     .description = "switches to offered OpAMP connection settings once they "
                                    "are verified, persists them and reports their status; "
                                    "points the Collector's exporters at offered other "
                                    "connections",
                     .capabilities = OPSUP_CAP_ACCEPTS_OPAMP_CONNECTION_SETTINGS |
                                     OPSUP_CAP_REPORTS_CONNECTION_SETTINGS_STATUS |
                                     OPSUP_CAP_ACCEPTS_OTHER_CONNECTION_SETTINGS,
                     // capabilities and agent_identification: the CSR flow follows the
                     // server's AcceptsConnectionSettingsRequest and the instance UID.
                     .server_to_agent_fields = {OPSUP_S2A_CONNECTION_SETTINGS,
                                                OPSUP_S2A_CAPABILITIES,
                                                OPSUP_S2A_AGENT_IDENTIFICATION}})
