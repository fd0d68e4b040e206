// One run of the Collector as a child process: started with its argv and environment, its
// output handed over line by line, its exit noticed through a pidfd (no polling), stopped
// gracefully (SIGTERM, then SIGKILL after a grace period). The child gets SIGKILL when the
// supervisor dies (PR_SET_PDEATHSIG): the real Collector's own `ppid` watch does not stop
// it (tools/fake-otelcol/README.md).
//
// With credentials (agent.run_as) the child drops to them before exec: setgroups, setgid,
// setuid, in that order, then every capability (a supervisor that is not root but holds
// CAP_SETUID keeps its capabilities across setuid), and checks the result: a child that
// could still become root again never runs. PR_SET_PDEATHSIG is set again after the switch,
// since the kernel clears it when the credentials change.
//
// Threading: every member function and every callback runs on the io_context's thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collector/collector_credentials.hpp"

namespace boost::asio {
class io_context;
}

namespace opsup::collector {

struct CollectorCommand {
  std::filesystem::path executable;
  std::vector<std::string> args;  // argv[1..]
  // nullopt: the supervisor's environment; otherwise it plus these (agent.env).
  std::optional<std::map<std::string, std::string>> extra_env;
  std::filesystem::path working_directory;  // empty: the supervisor's
  // agent.run_as: the user and groups the process runs as; nullopt: the supervisor's.
  std::optional<CollectorCredentials> credentials;
};

struct ExitStatus {
  int code = -1;                 // exit code, or -1 when a signal ended it
  int signal = 0;                // the signal that ended it, or 0
  std::string describe() const;  // "exit code 3" / "killed by signal 9 (SIGKILL)"
};

class CollectorProcess {
 public:
  using LineHandler = std::function<void(std::string_view line)>;  // without the newline
  using ExitHandler = std::function<void(const ExitStatus &)>;

  CollectorProcess(boost::asio::io_context &io, LineHandler on_line, ExitHandler on_exit);
  ~CollectorProcess();  // a still-running child is killed (SIGKILL) and reaped
  CollectorProcess(const CollectorProcess &) = delete;
  CollectorProcess &operator=(const CollectorProcess &) = delete;

  // Starts the child. Throws std::runtime_error naming the executable and the reason when it
  // cannot be started (missing, not executable, the credentials cannot be taken, ...). Only
  // when not running.
  void start(const CollectorCommand &command);
  // SIGTERM now, SIGKILL if it is still running after `grace`. The exit handler reports the
  // end. No effect when not running.
  void stop(std::chrono::milliseconds grace);
  // Sends `signo` (e.g. SIGHUP) to a running child; false when not running.
  bool signal(int signo);

  bool running() const;
  pid_t pid() const;  // 0 when not running

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace opsup::collector
