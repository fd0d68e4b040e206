// packages: AcceptsPackages and ReportsPackageStatuses (issue 12).
//
// The server's offer (ServerToAgent.packages_available) is compared level by level with
// what the agent has (offer_plan.hpp): the same all_packages_hash means nothing changed;
// otherwise each package's hash decides whether it is kept (the agent has exactly it),
// left failed (it failed with exactly this hash: not tried again until another hash is
// offered), installed, or removed (no longer offered). The statuses of all packages are
// reported with the offer's hash as server_provided_all_packages_hash, and kept in
// persistent_state.yaml (modules.packages.package_statuses) with every change, so a
// restarted supervisor reports the truth at once. The last offer is kept in the storage
// directory (packages_available.dat) so unfinished work resumes after a restart.
//
// Installing needs the host's download service; a supervisor without it reports each
// package InstallFailed with the reason, and tries the same offer again once it can.
// Top-level packages (the Collector itself) are not installed by this version.
#include <opsup/module.hpp>

#include <set>
#include <string>
#include <vector>

#include "offer_plan.hpp"
#include "opamp.pb.h"
#include "package_state.hpp"

namespace {

namespace proto = ::opamp::proto::v1;
using opsup::packages::Offer;
using opsup::packages::OfferedPackage;
using opsup::packages::PackagesState;
using opsup::packages::PackageState;
using opsup::packages::Status;

constexpr const char *kStateKey = "package_statuses";
constexpr const char *kOfferFile = "packages_available.dat";

Offer offer_from(const proto::PackagesAvailable &available) {
  Offer offer;
  offer.all_packages_hash = available.all_packages_hash();
  for (const auto &[name, package] : available.packages()) {
    OfferedPackage offered;
    offered.top_level = package.type() == proto::PackageType_TopLevel;
    offered.version = package.version();
    offered.hash = package.hash();
    offered.download_url = package.file().download_url();
    offered.content_hash = package.file().content_hash();
    offered.signature = package.file().signature();
    for (const auto &header : package.file().headers().headers())
      offered.headers.emplace_back(header.key(), header.value());
    offer.packages.emplace(name, std::move(offered));
  }
  return offer;
}

class PackagesModule : public opsup::Module {
 public:
  explicit PackagesModule(opsup::Host &host) : opsup::Module(host) {}

  void start() override {
    std::string text;
    if (host().state_read(kStateKey, text) == OPSUP_OK) {
      std::string error;
      if (auto stored = opsup::packages::parse_state(text, error)) {
        state_ = std::move(*stored);
      } else {
        host().warn(
            "packages: ignoring the stored package statuses (persistent_state.yaml, "
            "modules.packages." +
            std::string(kStateKey) + "): " + error);
      }
    }
    std::optional<Offer> offer = read_offer();
    if (!offer && has_unfinished()) {
      // Without the offer the work cannot resume: an empty hash makes the server send it
      // again on the next connection.
      state_.server_provided_all_packages_hash.clear();
    }
    if (!state_.packages.empty() || !state_.server_provided_all_packages_hash.empty())
      report();
    if (offer)
      handle(*offer);
  }

  void stop() override { stopped_ = true; }

  void on_server_message(std::string_view server_to_agent) override {
    proto::ServerToAgent message;
    if (!message.ParseFromArray(server_to_agent.data(), static_cast<int>(server_to_agent.size()))) {
      host().warn("packages: ignoring a ServerToAgent that does not parse");
      return;
    }
    if (!message.has_packages_available())
      return;
    const proto::PackagesAvailable &available = message.packages_available();
    if (host().storage_write(kOfferFile, available.SerializeAsString()) != OPSUP_OK) {
      host().warn(std::string("packages: could not keep the offer in the storage directory (") +
                  kOfferFile + "); unfinished work will wait for the server after a restart");
    }
    offer_ = offer_from(available);
    handle(*offer_);
  }

 private:
  std::optional<Offer> read_offer() {
    std::string bytes;
    if (host().storage_read(kOfferFile, bytes) != OPSUP_OK)
      return std::nullopt;
    proto::PackagesAvailable available;
    if (!available.ParseFromString(bytes)) {
      host().warn(std::string("packages: ignoring ") + kOfferFile +
                  " in the storage directory: it does not parse");
      return std::nullopt;
    }
    offer_ = offer_from(available);
    return offer_;
  }

  bool has_unfinished() const {
    for (const auto &[name, package] : state_.packages) {
      if (package.status != Status::kInstalled && package.status != Status::kInstallFailed)
        return true;
    }
    return false;
  }

  void handle(const Offer &offer) {
    opsup::packages::Plan plan = opsup::packages::plan_offer(state_, offer);
    state_ = std::move(plan.next);
    for (const auto &name : plan.remove)
      remove(name);
    if (!plan.unchanged || !plan.install.empty()) {
      host().info("packages: offer " + short_hex(offer.all_packages_hash) + ": " +
                  std::to_string(offer.packages.size()) + " package(s), " +
                  std::to_string(plan.install.size()) + " to install, " +
                  std::to_string(plan.remove.size()) + " removed");
    }
    for (const auto &name : plan.install)
      install(name, offer.packages.at(name));
    persist();
    report();
  }

  void install(const std::string &name, const OfferedPackage &offered) {
    PackageState &state = state_.packages[name];
    if (offered.top_level) {
      fail(name, state,
           "top-level packages (the Collector executable) are not installed by this version of "
           "the packages module",
           true);
      return;
    }
    fail(name, state,
         "this supervisor has no download service for modules (host ABI 1.4 needed), so "
         "package files cannot be downloaded",
         true);
  }

  void fail(const std::string &name, PackageState &state, const std::string &reason, bool retry) {
    state.status = Status::kInstallFailed;
    state.error_message = reason;
    state.retry = retry;
    host().warn("packages: " + name + " " + state.server_offered_version + ": " + reason);
  }

  void remove(const std::string &name) {
    host().info("packages: " + name + " is no longer offered; removed");
  }

  void persist() {
    if (host().state_write(kStateKey, opsup::packages::state_yaml(state_)) != OPSUP_OK) {
      host().warn(
          "packages: could not keep the package statuses in persistent_state.yaml; a "
          "restart may report older statuses");
    }
  }

  void report() {
    if (stopped_)
      return;
    proto::AgentToServer message;
    proto::PackageStatuses *statuses = message.mutable_package_statuses();
    statuses->set_server_provided_all_packages_hash(state_.server_provided_all_packages_hash);
    for (const auto &[name, package] : state_.packages) {
      proto::PackageStatus &status = (*statuses->mutable_packages())[name];
      status.set_name(name);
      status.set_agent_has_version(package.agent_has_version);
      status.set_agent_has_hash(package.agent_has_hash);
      status.set_server_offered_version(package.server_offered_version);
      status.set_server_offered_hash(package.server_offered_hash);
      status.set_status(static_cast<proto::PackageStatusEnum>(package.status));
      status.set_error_message(package.error_message);
      if (package.status == Status::kDownloading) {
        status.mutable_download_details()->set_download_percent(package.download_percent);
        status.mutable_download_details()->set_download_bytes_per_second(
            package.download_bytes_per_second);
      }
    }
    if (host().set_agent_fields(message.SerializeAsString()) != OPSUP_OK)
      host().warn("packages: the host refused the package statuses");
  }

  static std::string short_hex(const std::string &bytes) {
    const std::string hex = opsup::packages::to_hex(bytes);
    return hex.size() > 12 ? hex.substr(0, 12) : (hex.empty() ? "(none)" : hex);
  }

  PackagesState state_;
  std::optional<Offer> offer_;
  bool stopped_ = false;
};

}  // namespace

OPSUP_DEFINE_MODULE(PackagesModule,
                    {.id = "packages",
                     .version = "0.1.0",
                     .description = "Installs the packages the server offers and reports their "
                                    "statuses",
                     .capabilities = OPSUP_CAP_ACCEPTS_PACKAGES |
                                     OPSUP_CAP_REPORTS_PACKAGE_STATUSES,
                     .server_to_agent_fields = {OPSUP_S2A_PACKAGES_AVAILABLE}})
