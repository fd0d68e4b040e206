#include "support/child_process.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <mutex>
#include <regex>
#include <stdexcept>
#include <thread>

extern char **environ;

namespace opsup::testing {
namespace {

void close_fd(int &fd) {
  if (fd >= 0) {
    ::close(fd);
    fd = -1;
  }
}

int decode_status(int status) {
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

struct ChildProcess::State {
  ProcessOptions options;
  pid_t pid = -1;
  std::string label;
  bool verbose = false;

  mutable std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::string> lines;
  std::optional<int> exit_code;  // set once reaped
  bool output_closed = false;

  int stdout_fd = -1;
  int stderr_fd = -1;
  int wake_read_fd = -1;  // lets the destructor stop the reader while a grandchild holds pipes
  int wake_write_fd = -1;
  std::thread reader;
  std::thread reaper;

  void add_line(std::string line, const char *stream) {
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (verbose)
      std::cerr << "[" << label << " " << stream << "] " << line << std::endl;
    std::lock_guard lock(mutex);
    lines.push_back(std::move(line));
    changed.notify_all();
  }

  void read_loop() {
    std::string partial[2];
    int fds[2] = {stdout_fd, stderr_fd};
    const char *names[2] = {"out", "err"};
    bool open[2] = {true, true};
    char buffer[8192];
    while (open[0] || open[1]) {
      pollfd pfds[3];
      nfds_t count = 0;
      int index_of[3] = {-1, -1, -1};
      for (int i = 0; i < 2; ++i) {
        if (!open[i])
          continue;
        pfds[count] = {fds[i], POLLIN, 0};
        index_of[count++] = i;
      }
      pfds[count] = {wake_read_fd, POLLIN, 0};
      index_of[count++] = 2;
      int ready = ::poll(pfds, count, -1);
      if (ready < 0) {
        if (errno == EINTR)
          continue;
        break;
      }
      bool stop = false;
      for (nfds_t p = 0; p < count; ++p) {
        if (pfds[p].revents == 0)
          continue;
        int i = index_of[p];
        if (i == 2) {
          stop = true;
          continue;
        }
        ssize_t n = ::read(fds[i], buffer, sizeof buffer);
        if (n < 0 && errno == EINTR)
          continue;
        if (n <= 0) {
          open[i] = false;
          continue;
        }
        partial[i].append(buffer, static_cast<size_t>(n));
        size_t start = 0;
        for (size_t nl; (nl = partial[i].find('\n', start)) != std::string::npos; start = nl + 1) {
          add_line(partial[i].substr(start, nl - start), names[i]);
        }
        partial[i].erase(0, start);
      }
      if (stop)
        break;
    }
    for (int i = 0; i < 2; ++i) {
      if (!partial[i].empty())
        add_line(std::move(partial[i]), names[i]);
    }
    std::lock_guard lock(mutex);
    output_closed = true;
    changed.notify_all();
  }

  // Blocks until the child exits without reaping it, then reaps it under the mutex so that
  // send_signal can never hit a recycled pid.
  void reap_loop() {
    siginfo_t info{};
    while (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) < 0 &&
           errno == EINTR) {
    }
    std::lock_guard lock(mutex);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    exit_code = decode_status(status);
    changed.notify_all();
  }
};

ChildProcess::ChildProcess(ProcessOptions options) : state_(std::make_unique<State>()) {
  State &s = *state_;
  s.options = std::move(options);
  s.label = s.options.executable.filename().string();
  const char *verbose = std::getenv("OPSUP_TEST_VERBOSE");
  s.verbose = verbose != nullptr && *verbose != '\0' && std::string(verbose) != "0";

  // Everything the child needs is prepared before fork (no allocation after it).
  std::vector<std::string> argv_storage;
  argv_storage.push_back(s.options.executable.string());
  for (const auto &arg : s.options.args)
    argv_storage.push_back(arg);
  std::vector<char *> argv;
  for (auto &arg : argv_storage)
    argv.push_back(arg.data());
  argv.push_back(nullptr);

  std::map<std::string, std::string> env;
  for (char **e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry(*e);
    auto eq = entry.find('=');
    if (eq == std::string::npos)
      continue;
    env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (const auto &[name, value] : s.options.extra_env)
    env[name] = value;
  std::vector<std::string> env_storage;
  for (const auto &[name, value] : env)
    env_storage.push_back(name + "=" + value);
  std::vector<char *> envp;
  for (auto &entry : env_storage)
    envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::string workdir = s.options.working_directory.string();

  int out_pipe[2], err_pipe[2], wake_pipe[2], exec_error_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0 ||
      ::pipe2(wake_pipe, O_CLOEXEC) != 0 || ::pipe2(exec_error_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe() failed: " + std::string(std::strerror(errno)));
  }

  // The bound for the close-on-exec sweep where close_range(2) is missing (before Linux 5.11).
  const int max_fd = static_cast<int>(std::min<long>(::sysconf(_SC_OPEN_MAX), 65536));
  pid_t pid = ::fork();
  if (pid < 0) {
    throw std::runtime_error("fork() failed for " + s.label + ": " + std::strerror(errno));
  }
  if (pid == 0) {
    ::dup2(out_pipe[1], STDOUT_FILENO);
    ::dup2(err_pipe[1], STDERR_FILENO);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0)
      ::dup2(devnull, STDIN_FILENO);
    // Default signal dispositions and an empty mask, whatever the test runner set.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD})
      ::signal(sig, SIG_DFL);
    if (!workdir.empty() && ::chdir(workdir.c_str()) != 0) {
      int err = errno;
      (void)!::write(exec_error_pipe[1], &err, sizeof err);
      ::_exit(127);
    }
    // No descriptor of ours beyond stdio survives the exec (asio opens its sockets without
    // O_CLOEXEC): the error pipe stays usable until then.
    if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
      for (int fd = 3; fd < max_fd; ++fd)
        ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    ::execve(argv[0], argv.data(), envp.data());
    int err = errno;
    (void)!::write(exec_error_pipe[1], &err, sizeof err);
    ::_exit(127);
  }

  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  ::close(exec_error_pipe[1]);
  int exec_errno = 0;
  ssize_t n;
  while ((n = ::read(exec_error_pipe[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR) {
  }
  ::close(exec_error_pipe[0]);
  if (n > 0) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    ::close(wake_pipe[0]);
    ::close(wake_pipe[1]);
    throw std::runtime_error("cannot start " + s.options.executable.string() + ": " +
                             std::strerror(exec_errno));
  }

  s.pid = pid;
  s.stdout_fd = out_pipe[0];
  s.stderr_fd = err_pipe[0];
  s.wake_read_fd = wake_pipe[0];
  s.wake_write_fd = wake_pipe[1];
  s.label += ":" + std::to_string(pid);
  s.reader = std::thread([&s] { s.read_loop(); });
  s.reaper = std::thread([&s] { s.reap_loop(); });
}

ChildProcess::~ChildProcess() {
  State &s = *state_;
  {
    std::lock_guard lock(s.mutex);
    if (!s.exit_code)
      ::kill(s.pid, SIGKILL);
  }
  if (s.reaper.joinable())
    s.reaper.join();
  // Give the reader a moment to drain what the child wrote last, then stop it even if a
  // grandchild still holds the pipes.
  {
    std::unique_lock lock(s.mutex);
    s.changed.wait_for(lock, std::chrono::milliseconds(500), [&] { return s.output_closed; });
  }
  char byte = 1;
  (void)!::write(s.wake_write_fd, &byte, 1);
  if (s.reader.joinable())
    s.reader.join();
  close_fd(s.stdout_fd);
  close_fd(s.stderr_fd);
  close_fd(s.wake_read_fd);
  close_fd(s.wake_write_fd);
}

pid_t ChildProcess::pid() const {
  return state_->pid;
}

std::optional<std::string> ChildProcess::wait_for_line(const std::string &regex,
                                                       std::chrono::milliseconds timeout) {
  State &s = *state_;
  const std::regex pattern(regex);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(s.mutex);
  size_t checked = 0;
  while (true) {
    for (; checked < s.lines.size(); ++checked) {
      if (std::regex_search(s.lines[checked], pattern))
        return s.lines[checked];
    }
    if (s.output_closed)
      return std::nullopt;  // nothing more can arrive
    if (s.changed.wait_until(lock, deadline) == std::cv_status::timeout) {
      for (; checked < s.lines.size(); ++checked) {
        if (std::regex_search(s.lines[checked], pattern))
          return s.lines[checked];
      }
      return std::nullopt;
    }
  }
}

std::size_t ChildProcess::count_lines(const std::string &regex) const {
  const std::regex pattern(regex);
  std::lock_guard lock(state_->mutex);
  std::size_t count = 0;
  for (const auto &line : state_->lines) {
    if (std::regex_search(line, pattern))
      ++count;
  }
  return count;
}

std::vector<std::string> ChildProcess::lines() const {
  std::lock_guard lock(state_->mutex);
  return state_->lines;
}

std::string ChildProcess::output() const {
  std::string joined;
  for (const auto &line : lines()) {
    joined += line;
    joined += '\n';
  }
  return joined;
}

void ChildProcess::send_signal(int signo) {
  std::lock_guard lock(state_->mutex);
  if (!state_->exit_code)
    ::kill(state_->pid, signo);
}

std::optional<int> ChildProcess::wait_exit(std::chrono::milliseconds timeout) {
  State &s = *state_;
  std::unique_lock lock(s.mutex);
  s.changed.wait_for(lock, timeout, [&] { return s.exit_code.has_value(); });
  return s.exit_code;
}

bool ChildProcess::running() {
  std::lock_guard lock(state_->mutex);
  return !state_->exit_code.has_value();
}

bool ChildProcess::wait_output_closed(std::chrono::milliseconds timeout) {
  State &s = *state_;
  std::unique_lock lock(s.mutex);
  return s.changed.wait_for(lock, timeout, [&] { return s.output_closed; });
}

}  // namespace opsup::testing
