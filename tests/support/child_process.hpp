// A child process for integration tests: started with fork/exec, stdout and stderr captured
// line by line, killed and reaped when the object goes away.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace opsup::testing {

struct ProcessOptions {
  std::filesystem::path executable;
  std::vector<std::string> args;  // argv[1..]; argv[0] is the executable
  std::vector<std::pair<std::string, std::string>> extra_env;  // added to (or replacing) ours
  std::filesystem::path working_directory;                     // empty: the test's
};

class ChildProcess {
 public:
  // Starts the process; throws std::runtime_error naming the executable on failure.
  explicit ChildProcess(ProcessOptions options);
  ~ChildProcess();  // SIGKILL + reap if still running
  ChildProcess(const ChildProcess &) = delete;
  ChildProcess &operator=(const ChildProcess &) = delete;

  pid_t pid() const;

  // First captured line (any stream, from the start) matching `regex` (std::regex_search),
  // or nullopt at the deadline.
  std::optional<std::string> wait_for_line(const std::string &regex,
                                           std::chrono::milliseconds timeout);
  // Number of captured lines matching `regex` so far.
  std::size_t count_lines(const std::string &regex) const;
  std::vector<std::string> lines() const;  // snapshot of all captured lines
  std::string output() const;              // all captured lines joined with '\n'

  void send_signal(int signo);  // no-op once the process has been reaped
  // Exit code, or 128+signal; nullopt on timeout.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  bool running();
  // True once both pipes reached end of file, i.e. the child and every descendant that
  // inherited its stdout/stderr closed them (useful when the child is a shell wrapper).
  bool wait_output_closed(std::chrono::milliseconds timeout);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace opsup::testing
