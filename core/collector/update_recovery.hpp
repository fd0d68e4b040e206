// What the supervisor does at start-up with a Collector executable update its previous
// process did not finish (it was killed during the swap or the health gate): it reads the
// journal (update_journal.hpp) and leaves a working executable in place, old or new, never
// none. Unless the new executable had already passed its health gate, the backup goes back
// onto agent.executable; a corrupt journal is handled the same way (the backup, when there is
// one, is the executable known to work). Blocking: call it before the Collector starts.
#pragma once

#include <filesystem>
#include <string>

namespace opsup::collector {

enum class RecoveryOutcome {
  kNone,        // no update was interrupted
  kInstalled,   // the new executable had passed its health gate: it stays
  kRolledBack,  // the previous executable is in place again (or `message` says why not)
};

struct UpdateRecovery {
  RecoveryOutcome outcome = RecoveryOutcome::kNone;
  std::string message;  // for the status report and the log; "" with kNone
};

// `executable`: agent.executable as configured (used when the journal is unreadable).
UpdateRecovery recover_interrupted_update(const std::filesystem::path &storage_directory,
                                          const std::filesystem::path &executable);

}  // namespace opsup::collector
