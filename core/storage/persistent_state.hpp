// storage.directory/persistent_state.yaml, in the Go supervisor's format:
//
//   instance_id: 0190f1a8-6b1c-7c3e-9d1f-2b5c4e6a7f80
//   last_remote_config_status:
//     status: 1
//     last_remote_config_hash: "9f86d081884c7d65"
//     error_message: ""
//
// A file written by the Go supervisor is read as is. Rewrites keep every key this class
// does not own (modules keep their own keys here). A corrupt file is reported, moved
// aside to persistent_state.yaml.corrupt-<UTC timestamp> and replaced by a fresh state.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/uuid.hpp"

namespace opsup::storage {

using Uuid = common::Uuid;

inline constexpr std::string_view kPersistentStateFileName = "persistent_state.yaml";

// RemoteConfigStatus as persisted; the hash is raw bytes here, hex in the file.
struct StoredRemoteConfigStatus {
  int status = 0;  // RemoteConfigStatuses: UNSET 0, APPLIED 1, APPLYING 2, FAILED 3
  std::string last_remote_config_hash;
  std::string error_message;

  bool operator==(const StoredRemoteConfigStatus &) const = default;
};

class PersistentState {
 public:
  // Creates `storage_directory` (0700) when missing, then loads or creates the file. A
  // new state gets a UUIDv7 and is written at once. `configured_instance_id`
  // (agent.instance_id) replaces the stored id and is persisted. Throws
  // std::runtime_error naming the path only when the directory or file cannot be
  // created or written; bad content never throws.
  static std::unique_ptr<PersistentState> load_or_create(
      const std::filesystem::path &storage_directory,
      std::optional<Uuid> configured_instance_id = std::nullopt);

  ~PersistentState();
  PersistentState(const PersistentState &) = delete;
  PersistentState &operator=(const PersistentState &) = delete;

  const std::filesystem::path &file_path() const;

  const Uuid &instance_id() const;
  // Persists at once; throws std::runtime_error naming the file if it cannot be written
  // (the in-memory id is updated regardless).
  void set_instance_id(const Uuid &id);

  // nullopt when absent, null, or unreadable (an unreadable one is logged).
  std::optional<StoredRemoteConfigStatus> last_remote_config_status() const;
  void set_last_remote_config_status(const StoredRemoteConfigStatus &status);

  // Any other top-level key, as YAML text of its value; nullopt when absent.
  std::optional<std::string> value_yaml(std::string_view key) const;
  // Sets a top-level key from YAML text and persists. Throws std::invalid_argument for
  // invalid YAML or for a key owned by this class (instance_id,
  // last_remote_config_status).
  void set_value_yaml(std::string_view key, std::string_view yaml_text);
  void remove_value(std::string_view key);

 private:
  struct Impl;
  explicit PersistentState(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace opsup::storage
