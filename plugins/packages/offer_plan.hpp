// How an offer (PackagesAvailable) is compared with what the agent has, level by level:
// the all_packages_hash first (the same hash means nothing changed), then each package's
// hash. The result says which packages to install, which to keep and which to remove;
// the statuses it returns are what the module reports next.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "package_state.hpp"

namespace opsup::packages {

// One PackageAvailable, without protobuf.
struct OfferedPackage {
  bool top_level = false;  // PackageType_TopLevel: the Collector itself
  std::string version;
  std::string hash;          // raw bytes, opaque
  std::string download_url;  // DownloadableFile
  std::string content_hash;  // raw SHA-256
  std::string signature;     // raw bytes
  std::vector<std::pair<std::string, std::string>> headers;
};

struct Offer {
  std::string all_packages_hash;  // raw bytes
  std::map<std::string, OfferedPackage> packages;
};

struct Plan {
  PackagesState next;                // the statuses after the comparison
  std::vector<std::string> install;  // names to (re)install, in name order
  std::vector<std::string> remove;   // names no longer offered, in name order
  bool unchanged = false;            // the same all_packages_hash: nothing was compared
};

// Compares `offer` with `current`. A package is installed unless the agent has exactly its
// hash installed (it is then Installed, whatever was under way for another hash), or it failed with
// exactly this hash and `retry` is false (a bad package is not tried again until the server offers
// another hash). With the same all_packages_hash only unfinished work (InstallPending, Downloading,
// Installing, or a failure worth retrying) is resumed.
Plan plan_offer(const PackagesState &current, const Offer &offer);

}  // namespace opsup::packages
