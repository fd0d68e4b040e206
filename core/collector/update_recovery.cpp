#include "collector/update_recovery.hpp"

#include <stdexcept>
#include <system_error>

#include "collector/executable_files.hpp"
#include "collector/update_journal.hpp"

namespace opsup::collector {
namespace {

bool present(const std::filesystem::path &path) {
  std::error_code ignored;
  return std::filesystem::exists(std::filesystem::symlink_status(path, ignored));
}

// Puts `backup` back onto `executable`; says what happened.
std::string restore(const std::filesystem::path &executable, const std::filesystem::path &backup,
                    bool &failed) {
  if (present(backup)) {
    try {
      rename_durably(backup, executable);
    } catch (const std::exception &error) {
      failed = true;
      return std::string("restoring the previous executable failed: ") + error.what();
    }
    return "the previous executable was restored from " + backup.string();
  }
  if (present(executable))
    return "there is no backup (" + backup.string() + "); the executable in place was kept";
  failed = true;
  return "there is neither a backup (" + backup.string() + ") nor an executable at " +
         executable.string() + ": the Collector cannot run until agent.executable is restored";
}

}  // namespace

UpdateRecovery recover_interrupted_update(const std::filesystem::path &storage_directory,
                                          const std::filesystem::path &executable) {
  const JournalRead read = read_update_journal(storage_directory);
  UpdateRecovery recovery;
  if (!read.present)
    return recovery;
  recovery.outcome = RecoveryOutcome::kRolledBack;
  bool failed = false;
  if (!read.journal) {
    std::error_code ignored;
    std::filesystem::path resolved = std::filesystem::weakly_canonical(executable, ignored);
    if (resolved.empty())
      resolved = executable;
    const std::string what = restore(resolved, backup_path_of(resolved), failed);
    remove_quietly(staged_path_of(resolved));
    recovery.message = "interrupted: the supervisor stopped during a Collector update and " +
                       read.problem + "; " + what;
  } else {
    const UpdateJournal &journal = *read.journal;
    switch (journal.phase) {
      case UpdatePhase::kPreparing:
        remove_quietly(journal.staged);
        remove_quietly(journal.backup);
        recovery.message =
            "interrupted: the supervisor stopped while preparing the Collector update; the "
            "executable " +
            journal.executable.string() + " was not changed";
        break;
      case UpdatePhase::kSwapping:
      case UpdatePhase::kRollingBack:
        remove_quietly(journal.staged);
        recovery.message =
            std::string("interrupted: the supervisor stopped during the ") +
            (journal.phase == UpdatePhase::kSwapping ? "swap or health gate" : "rollback") +
            " of the Collector update; " + restore(journal.executable, journal.backup, failed);
        break;
      case UpdatePhase::kCommitted:
        remove_quietly(journal.backup);
        remove_quietly(journal.staged);
        recovery.outcome = RecoveryOutcome::kInstalled;
        recovery.message =
            "the new Collector executable had passed its health gate before the supervisor "
            "stopped";
        break;
    }
  }
  if (!failed) {
    try {
      remove_update_journal(storage_directory);
    } catch (const std::exception &error) {
      recovery.message += std::string("; ") + error.what();
    }
  }
  return recovery;
}

}  // namespace opsup::collector
