// The journal of a Collector executable update (<storage>/collector_update.journal, YAML,
// written atomically): what the update is about to do, written before it touches anything
// and again at each phase, so a supervisor killed in the middle knows at its next start what
// is where (update_recovery.hpp) and ends with a working Collector and a truthful status.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace opsup::collector {

inline constexpr const char *kUpdateJournalFile = "collector_update.journal";
// Where the previous executable is kept during an update: next to agent.executable.
inline constexpr const char *kBackupSuffix = ".opsup-backup";

enum class UpdatePhase {
  kPreparing,    // extracting the new executable and keeping the old one; agent.executable
                 // is untouched
  kSwapping,     // the Collector is stopped, the new executable renamed onto agent.executable,
                 // started and waited for (the health gate)
  kRollingBack,  // the gate failed: the backup goes back onto agent.executable
  kCommitted,    // the new executable passed the gate: only the backup is left to remove
};

const char *to_string(UpdatePhase phase);

struct UpdateJournal {
  UpdatePhase phase = UpdatePhase::kPreparing;
  std::filesystem::path executable;  // agent.executable, resolved (the file that is replaced)
  std::filesystem::path backup;      // <executable>.opsup-backup
  std::filesystem::path staged;      // the new executable, extracted next to it
  std::filesystem::path package;     // the downloaded package it came from
  std::string new_sha256;            // hex SHA-256 of the staged executable ("" until known)
};

// The backup and staged paths of `executable` (staged: .<name>.opsup-new beside it).
std::filesystem::path backup_path_of(const std::filesystem::path &executable);
std::filesystem::path staged_path_of(const std::filesystem::path &executable);

// Replaces the journal atomically (mode 0600). Throws std::runtime_error naming the file.
void write_update_journal(const std::filesystem::path &storage_directory,
                          const UpdateJournal &journal);

struct JournalRead {
  bool present = false;
  std::optional<UpdateJournal> journal;  // nullopt when present but unusable
  std::string problem;                   // why it is unusable, naming the file
};
// Never throws: an unreadable or corrupt journal is reported in `problem`.
JournalRead read_update_journal(const std::filesystem::path &storage_directory);

// Removes the journal (absent is fine). Throws std::runtime_error naming the file.
void remove_update_journal(const std::filesystem::path &storage_directory);

}  // namespace opsup::collector
