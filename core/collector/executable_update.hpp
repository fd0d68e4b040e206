// One Collector executable update, from a downloaded package to a healthy Collector on the
// new executable, or back on the old one:
//   1. journal "preparing" (update_journal.hpp), before anything is touched;
//   2. off the loop: the executable is extracted from the package (packages/collector_binary:
//      libarchive, unsafe entries refused) to .<name>.opsup-new next to agent.executable
//      (mode 0755), hashed, and the old one kept as <agent.executable>.opsup-backup;
//   3. journal "swapping"; the Collector is stopped; the new executable is renamed onto
//      agent.executable (atomic, same directory) and started;
//   4. the health gate: the Collector must report itself healthy within the timeout; exiting
//      or failing to start ends the gate at once;
//   5a. healthy: journal "committed", the backup and the journal are removed, `on_installed`;
//   5b. otherwise: journal "rolling_back", the Collector is stopped, the backup renamed back,
//       the old Collector started, the journal removed, and the failure reported.
// A supervisor killed at any point finishes the work at its next start (update_recovery.hpp).
//
// Threading: constructed, driven and destroyed on the io_context's thread; the blocking file
// work runs on a thread of its own, joined by the destructor.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

namespace boost::asio {
class io_context;
}

namespace opsup::collector {

struct ExecutableUpdateResult {
  enum class Status {
    kInstalled,   // the new executable runs and is healthy
    kRefused,     // the package was refused; nothing changed
    kRolledBack,  // the new executable failed; the old one is back (error says why)
    kNotTried,    // the update could not begin (a file could not be written); nothing changed
  } status = Status::kInstalled;
  std::string error;
};

struct ExecutableUpdateOptions {
  std::filesystem::path executable;  // agent.executable, resolved to the file it names
  std::filesystem::path storage_directory;
  std::filesystem::path package;  // the downloaded package (a tarball or an executable)
  std::chrono::milliseconds health_timeout{60000};
};

struct ExecutableUpdateHooks {
  // Stops the Collector; the argument runs once it is down.
  std::function<void(std::function<void()> stopped)> stop_collector;
  // Starts the Collector on its current config.
  std::function<void()> start_collector;
  // After the new executable passed the gate, on the loop thread.
  std::function<void()> on_installed;
};

class ExecutableUpdate {
 public:
  using Done = std::function<void(const ExecutableUpdateResult &)>;

  ExecutableUpdate(boost::asio::io_context &io, ExecutableUpdateOptions options,
                   ExecutableUpdateHooks hooks, Done done);
  ~ExecutableUpdate();  // an update still running keeps its journal: the next start recovers
  ExecutableUpdate(const ExecutableUpdate &) = delete;
  ExecutableUpdate &operator=(const ExecutableUpdate &) = delete;

  void start();
  // True while the new executable runs and is waited for (step 4).
  bool in_health_gate() const;
  // What the Collector does during the health gate.
  void collector_healthy();
  void collector_failed(const std::string &why);  // exited, or could not be started

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace opsup::collector
