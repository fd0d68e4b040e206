// What the packages module knows about each package, as reported in PackageStatuses and
// kept in persistent_state.yaml (modules.packages.package_statuses), so a restarted
// supervisor reports the truth before the server says anything.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include "../shared/hex.hpp"

namespace opsup::packages {

// PackageStatusEnum of opamp.proto, same numbers.
enum class Status : int {
  kInstalled = 0,
  kInstallPending = 1,
  kInstalling = 2,
  kInstallFailed = 3,
  kDownloading = 4,
};

// "Installed", "InstallPending", ...; parse_status is its inverse (nullopt when unknown).
std::string_view status_name(Status status);
std::optional<Status> parse_status(std::string_view name);

struct PackageState {
  std::string agent_has_version;
  std::string agent_has_hash;  // raw bytes: the offered `hash` of what is installed
  std::string server_offered_version;
  std::string server_offered_hash;  // raw bytes
  Status status = Status::kInstallPending;
  std::string error_message;
  // InstallFailed only: true when the failure was the agent's, not the package's (no
  // download service, an interrupted download), so the same offer is tried again; false
  // when the package itself was bad and is not tried again until the server offers
  // another hash.
  bool retry = false;
  // Downloading only: the last progress, reported as download_details.
  double download_percent = 0;
  double download_bytes_per_second = 0;

  bool operator==(const PackageState &) const = default;
};

struct PackagesState {
  std::string server_provided_all_packages_hash;  // raw bytes; "" before the first offer
  std::map<std::string, PackageState> packages;

  bool operator==(const PackagesState &) const = default;
};

// The state as YAML text (hashes as lowercase hex), and back. parse_state returns nullopt,
// with the reason in `error`, when the text is not such a state.
std::string state_yaml(const PackagesState &state);
std::optional<PackagesState> parse_state(std::string_view yaml, std::string &error);

using plugin_support::from_hex;
using plugin_support::to_hex;

}  // namespace opsup::packages
