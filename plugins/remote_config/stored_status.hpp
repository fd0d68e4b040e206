// What the remote_config module keeps in persistent_state.yaml: the last RemoteConfigStatus
// in the Go supervisor's format (top-level `last_remote_config_status`, so either supervisor
// reads the other's file), and the hashes of configs that failed, with their reasons, so
// the same bad config sent again is refused at once instead of being applied again.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include "../shared/hex.hpp"

namespace opsup::remote_config {

struct StoredStatus {
  int status = 0;    // RemoteConfigStatuses: APPLIED 1, APPLYING 2, FAILED 3
  std::string hash;  // raw bytes
  std::string error_message;
};

// The value of last_remote_config_status as YAML, and back (nullopt when unusable).
std::string status_yaml(const StoredStatus &status);
std::optional<StoredStatus> parse_status_yaml(std::string_view yaml);

using plugin_support::from_hex;
using plugin_support::to_hex;

// Hashes of failed configs, newest last, at most kMaxFailedHashes (the oldest go first).
class FailedHashes {
 public:
  static constexpr std::size_t kMaxFailedHashes = 32;

  void add(const std::string &hash, const std::string &reason);
  void remove(const std::string &hash);
  std::optional<std::string> reason(const std::string &hash) const;
  std::size_t size() const { return entries_.size(); }

  // A YAML sequence of {hash: <hex>, reason: <text>}; unusable entries are skipped.
  std::string to_yaml() const;
  static FailedHashes from_yaml(std::string_view yaml);

 private:
  std::deque<std::pair<std::string, std::string>> entries_;  // raw hash, reason
};

}  // namespace opsup::remote_config
