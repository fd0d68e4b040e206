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
// An addon is downloaded through the host's download service (ABI 1.4) into
// storage/packages/<name>/<name>: Downloading with download_details while it runs, its
// SHA-256 checked against content_hash by the host before the file gets its name, then
// Installed. An interrupted download is resumed (HTTP Range) after a short wait, up to
// three times; a bad package (wrong content hash, over max_download_bytes, refused by the
// server) is InstallFailed and not tried again until the server offers another hash.
// The host checks the offered signature against the operator's keys or roots
// (plugins.packages.signature) before the file gets its name; unsigned packages are refused
// unless plugins.packages.allow_unsigned: true. A supervisor without the download service reports
// InstallFailed with the reason and tries the same offer again once it can.
//
// A top-level package (the Collector itself; upstream names it "") is downloaded the same way
// into storage/packages/.collector/ and handed to the host's executable update (ABI 1.6):
// Installing while the host swaps the executable and waits for the Collector to be healthy on
// it (plugins.packages.collector_health_timeout), then Installed, or InstallFailed with the
// reason after the host restored the old executable; a package refused or rolled back is not
// tried again until the server offers another hash. A supervisor killed during the update
// finishes it at its next start, and the module reports what that found.
#include <opsup/module.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
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
constexpr int64_t kDefaultMaxDownloadBytes = int64_t{1} << 30;
constexpr auto kDefaultHealthTimeout = std::chrono::seconds(60);
// Where a top-level package is downloaded: a directory no addon can have (addon names never
// start with a dot).
constexpr const char *kCollectorPackageDir = ".collector";
constexpr const char *kCollectorPackageFile = "collector-package";
// Waits before resuming an interrupted download; after the last the offer waits for the
// next start or offer.
constexpr std::chrono::milliseconds kResumeDelays[] = {
    std::chrono::seconds(2), std::chrono::seconds(10), std::chrono::seconds(30)};
constexpr auto kProgressLogInterval = std::chrono::seconds(5);

// A package name usable as a directory and file name in the storage directory.
bool usable_name(const std::string &name) {
  if (name.empty() || name.front() == '.' || name.size() > 200)
    return false;
  for (char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok)
      return false;
  }
  return true;
}

std::string byte_count(double bytes) {
  char text[32];
  if (bytes >= 1024.0 * 1024.0)
    std::snprintf(text, sizeof text, "%.1f MiB", bytes / (1024.0 * 1024.0));
  else if (bytes >= 1024.0)
    std::snprintf(text, sizeof text, "%.1f KiB", bytes / 1024.0);
  else
    std::snprintf(text, sizeof text, "%.0f B", bytes);
  return text;
}

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
  explicit PackagesModule(opsup::Host &host) : opsup::Module(host) {
    if (auto max = host.setting_int("max_download_bytes")) {
      if (*max <= 0)
        throw opsup::ConfigError("plugins.packages.max_download_bytes: must be at least 1");
      max_download_bytes_ = *max;
    }
    if (auto allow = host.setting_bool("allow_unsigned"))
      allow_unsigned_ = *allow;
    if (auto timeout = host.setting_duration("collector_health_timeout")) {
      if (timeout->count() <= 0)
        throw opsup::ConfigError(
            "plugins.packages.collector_health_timeout: must be longer than 0s");
      health_timeout_ = *timeout;
    }
  }

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
    finish_interrupted_update();
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

  // A package left Installing was in the host's executable update when the supervisor
  // stopped: the host finished that update at start-up and says how it ended.
  void finish_interrupted_update() {
    for (auto &[name, state] : state_.packages) {
      if (state.status != Status::kInstalling)
        continue;
      const auto recovery = host().collector_update_recovery();
      if (!recovery || recovery->outcome == OPSUP_UPDATE_NONE) {
        host().info("packages: the update of " + display(name) +
                    " did not reach the swap before the supervisor stopped; it starts again");
        continue;
      }
      if (recovery->outcome == OPSUP_UPDATE_INSTALLED) {
        state.status = Status::kInstalled;
        state.agent_has_hash = state.server_offered_hash;
        state.agent_has_version = state.server_offered_version;
        state.error_message.clear();
        state.retry = false;
        host().info("packages: " + display(name) + " " + state.agent_has_version +
                    " installed: " + recovery->message);
      } else {
        fail(name, state, recovery->message, false);
      }
      persist();
    }
  }

  static std::string display(const std::string &name) {
    return name.empty() ? std::string("the Collector (top-level package \"\")") : name;
  }

  bool has_unfinished() const {
    for (const auto &[name, package] : state_.packages) {
      if (package.status != Status::kInstalled && package.status != Status::kInstallFailed)
        return true;
    }
    return false;
  }

  void handle(const Offer &offer) {
    const PackagesState before = state_;
    opsup::packages::Plan plan = opsup::packages::plan_offer(state_, offer);
    state_ = std::move(plan.next);
    for (const auto &name : plan.remove)
      remove(name);
    // Work under way continues only for a package still to install with the same hash.
    std::vector<std::string> stale;
    for (const auto &[name, work] : work_) {
      const bool wanted =
          std::find(plan.install.begin(), plan.install.end(), name) != plan.install.end() &&
          offer.packages.contains(name) && offer.packages.at(name).hash == work.hash;
      if (!wanted)
        stale.push_back(name);
    }
    for (const auto &name : stale)
      stop_work(name);
    if (!plan.unchanged || !plan.install.empty()) {
      host().info("packages: offer " + short_hex(offer.all_packages_hash) + ": " +
                  std::to_string(offer.packages.size()) + " package(s), " +
                  std::to_string(plan.install.size()) + " to install, " +
                  std::to_string(plan.remove.size()) + " removed");
    }
    for (const auto &name : plan.install) {
      if (work_.contains(name)) {
        // Under way: keep its status and progress.
        const PackageState &was = before.packages.at(name);
        PackageState &now = state_.packages[name];
        now.status = was.status;
        now.error_message = was.error_message;
        now.download_percent = was.download_percent;
        now.download_bytes_per_second = was.download_bytes_per_second;
        continue;
      }
      install(name, offer.packages.at(name));
    }
    persist();
    report();
  }

  void install(const std::string &name, const OfferedPackage &offered) {
    PackageState &state = state_.packages[name];
    if (!offered.top_level && !usable_name(name)) {
      fail(name, state,
           "the package name cannot be a directory name in the storage directory (only "
           "[A-Za-z0-9_.-], not starting with '.', at most 200 characters)",
           false);
      return;
    }
    if (offered.content_hash.size() != 32) {
      fail(name, state,
           "the offer's content_hash is " + std::to_string(offered.content_hash.size()) +
               " bytes, not a SHA-256 (32 bytes)",
           false);
      return;
    }
    if (!allow_unsigned_ && offered.signature.empty()) {
      fail(name, state,
           "the package is not signed, and unsigned packages are refused (set "
           "plugins.packages.allow_unsigned: true to accept them)",
           false);
      return;
    }
    if (host().abi_minor() < 4) {
      fail(name, state,
           "this supervisor has no download service for modules (host ABI 1.4 needed), so "
           "package files cannot be downloaded",
           true);
      return;
    }
    if (offered.top_level && host().abi_minor() < 6) {
      fail(name, state,
           "this supervisor cannot replace the Collector executable (host ABI 1.6 needed)", true);
      return;
    }
    work_[name] = Work{.hash = offered.hash};
    download(name, offered);
  }

  void download(const std::string &name, const OfferedPackage &offered) {
    PackageState &state = state_.packages[name];
    state.status = Status::kDownloading;
    state.error_message.clear();
    state.download_percent = 0;
    state.download_bytes_per_second = 0;
    opsup::DownloadRequest request;
    request.url = offered.download_url;
    request.headers = offered.headers;
    request.package_name = offered.top_level ? kCollectorPackageDir : name;
    request.file_name = offered.top_level ? kCollectorPackageFile : name;
    request.sha256 = offered.content_hash;
    request.max_bytes = static_cast<uint64_t>(max_download_bytes_);
    // The host checks it against plugins.packages.signature before the file gets its name.
    request.signature = offered.signature;
    request.check_signature = true;
    const std::string hash = offered.hash;
    const std::string version = offered.version;
    const opsup::Host::DownloadId id = host().start_download(
        request,
        [this, name](const opsup::DownloadProgress &progress) { on_progress(name, progress); },
        [this, name, hash, version](const opsup::DownloadResult &result) {
          on_downloaded(name, hash, version, result);
        });
    if (id == 0) {
      work_.erase(name);
      fail(name, state, "the supervisor refused to start the download of " + offered.download_url,
           false);
      return;
    }
    work_[name].download = id;
    work_[name].last_log = std::chrono::steady_clock::now();
    host().info("packages: downloading " + display(name) + " " + version);
  }

  void on_progress(const std::string &name, const opsup::DownloadProgress &progress) {
    auto found = state_.packages.find(name);
    if (found == state_.packages.end())
      return;
    PackageState &state = found->second;
    state.download_percent = progress.bytes_total > 0
                                 ? 100.0 * static_cast<double>(progress.bytes_received) /
                                       static_cast<double>(progress.bytes_total)
                                 : 0;
    state.download_bytes_per_second = progress.bytes_per_second;
    report();
    auto work = work_.find(name);
    const auto now = std::chrono::steady_clock::now();
    if (work != work_.end() && now - work->second.last_log >= kProgressLogInterval) {
      work->second.last_log = now;
      host().info("packages: " + name + ": " + byte_count(progress.bytes_received) +
                  (progress.bytes_total > 0
                       ? " of " + byte_count(progress.bytes_total) + " (" +
                             std::to_string(static_cast<int>(state.download_percent)) + "%)"
                       : std::string()) +
                  ", " + byte_count(progress.bytes_per_second) + "/s");
    }
  }

  void on_downloaded(const std::string &name, const std::string &hash, const std::string &version,
                     const opsup::DownloadResult &result) {
    auto found = state_.packages.find(name);
    if (found == state_.packages.end())
      return;
    PackageState &state = found->second;
    Work &work = work_[name];
    work.download = 0;
    if (result.ok() && offer_ && offer_->packages.contains(name) &&
        offer_->packages.at(name).top_level) {
      update_collector(name, hash, version, result.path);
    } else if (result.ok()) {
      work_.erase(name);
      state.status = Status::kInstalled;
      state.agent_has_hash = hash;
      state.agent_has_version = version;
      state.error_message.clear();
      state.retry = false;
      host().info("packages: " + name + " " + version + " installed at " + result.path);
    } else if (result.resumable && work.attempts < std::size(kResumeDelays)) {
      const auto delay = kResumeDelays[work.attempts++];
      host().warn("packages: " + name + ": " + result.error + "; resuming in " +
                  std::to_string(delay.count() / 1000) + " s");
      state.status = Status::kInstallPending;
      state.error_message = result.error;
      work.timer = host().start_timer(delay, [this, name] { resume(name); });
    } else {
      work_.erase(name);
      fail(name, state, result.error, result.resumable);
    }
    persist();
    report();
  }

  // Hands the downloaded top-level package to the host's executable update.
  void update_collector(const std::string &name, const std::string &hash,
                        const std::string &version, const std::string &path) {
    PackageState &state = state_.packages[name];
    state.status = Status::kInstalling;
    state.error_message.clear();
    host().info("packages: installing " + display(name) + " " + version +
                ": swapping the Collector executable");
    // Installing is kept before the swap begins, so a restart after a kill knows to ask the
    // host how it ended.
    persist();
    report();
    const opsup_status status = host().update_collector_executable(
        path, health_timeout_,
        [this, name, hash, version](opsup_status outcome, const std::string &error) {
          on_collector_updated(name, hash, version, outcome, error);
        });
    if (status != OPSUP_OK) {
      work_.erase(name);
      fail(name, state,
           status == OPSUP_ERR_UNSUPPORTED
               ? "this supervisor cannot replace the Collector executable now (no Collector, or "
                 "another update runs)"
               : "the supervisor refused to replace the Collector executable (status " +
                     std::to_string(status) + ")",
           status == OPSUP_ERR_UNSUPPORTED);
      host().remove_package_files(kCollectorPackageDir);
    }
  }

  void on_collector_updated(const std::string &name, const std::string &hash,
                            const std::string &version, opsup_status outcome,
                            const std::string &error) {
    work_.erase(name);
    // The downloaded package is not needed any more, whatever happened.
    host().remove_package_files(kCollectorPackageDir);
    auto found = state_.packages.find(name);
    if (found == state_.packages.end())
      return;
    PackageState &state = found->second;
    if (outcome == OPSUP_OK) {
      state.agent_has_hash = hash;
      state.agent_has_version = version;
    }
    if (state.server_offered_hash != hash) {
      // Another offer came meanwhile; its own work reports its status.
      persist();
      report();
      return;
    }
    if (outcome == OPSUP_OK) {
      state.status = Status::kInstalled;
      state.error_message.clear();
      state.retry = false;
      host().info("packages: " + display(name) + " " + version +
                  " installed; the Collector is healthy on it");
    } else {
      // Refused (OPSUP_ERR_INVALID_ARGUMENT) or rolled back (OPSUP_ERR_FAILED): this hash is
      // bad and not tried again; OPSUP_ERR_UNSUPPORTED changed nothing and is tried again.
      fail(name, state, error, outcome == OPSUP_ERR_UNSUPPORTED);
    }
    persist();
    report();
  }

  void resume(const std::string &name) {
    auto work = work_.find(name);
    if (work == work_.end())
      return;
    work->second.timer = 0;
    if (!offer_ || !offer_->packages.contains(name))
      return;
    download(name, offer_->packages.at(name));
    persist();
    report();
  }

  void stop_work(const std::string &name) {
    auto work = work_.find(name);
    if (work == work_.end())
      return;
    if (work->second.download != 0)
      host().cancel_download(work->second.download);
    if (work->second.timer != 0)
      host().cancel_timer(work->second.timer);
    work_.erase(work);
  }

  void fail(const std::string &name, PackageState &state, const std::string &reason, bool retry) {
    state.status = Status::kInstallFailed;
    state.error_message = reason;
    state.retry = retry;
    host().warn("packages: " + display(name) + " " + state.server_offered_version + ": " + reason);
  }

  void remove(const std::string &name) {
    stop_work(name);
    const opsup_status status = usable_name(name) ? host().remove_package_files(name) : OPSUP_OK;
    if (status != OPSUP_OK && status != OPSUP_ERR_UNSUPPORTED) {
      host().warn("packages: " + name +
                  " is no longer offered, but its files could not be "
                  "removed (status " +
                  std::to_string(status) + ")");
      return;
    }
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

  // Work under way for one package.
  struct Work {
    std::string hash;  // the offered hash being installed
    opsup::Host::DownloadId download = 0;
    opsup::Host::TimerId timer = 0;  // waiting to resume
    std::size_t attempts = 0;        // resumptions so far
    std::chrono::steady_clock::time_point last_log{};
  };

  PackagesState state_;
  std::optional<Offer> offer_;
  std::map<std::string, Work> work_;
  int64_t max_download_bytes_ = kDefaultMaxDownloadBytes;
  std::chrono::milliseconds health_timeout_ = kDefaultHealthTimeout;
  bool allow_unsigned_ = false;
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
