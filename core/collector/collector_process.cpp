#include "collector/collector_process.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstring>
#include <stdexcept>

extern char **environ;

namespace opsup::collector {
namespace {

namespace asio = boost::asio;

// Longer lines are passed on in pieces of this size, so a child cannot grow our memory.
constexpr std::size_t kMaxLineBytes = 64 * 1024;

int open_pidfd(pid_t pid) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

std::vector<std::string> environment_with(
    const std::optional<std::map<std::string, std::string>> &extra) {
  std::map<std::string, std::string> env;
  for (char **entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string text(*entry);
    const auto eq = text.find('=');
    if (eq != std::string::npos)
      env[text.substr(0, eq)] = text.substr(eq + 1);
  }
  if (extra) {
    for (const auto &[name, value] : *extra)
      env[name] = value;
  }
  std::vector<std::string> result;
  for (const auto &[name, value] : env)
    result.push_back(name + "=" + value);
  return result;
}

// What a child reports through its CLOEXEC pipe when it cannot become the Collector.
enum class ChildStep : int {
  kExec,
  kChdir,
  kSetgroups,
  kSetgid,
  kSetuid,
  kDropCapabilities,
  kVerify,      // the ids are not the ones asked for
  kRegainRoot,  // setuid(0) succeeded after the switch
};

struct ChildFailure {
  ChildStep step = ChildStep::kExec;
  int error = 0;
};

std::string describe_failure(const ChildFailure &failure, const CollectorCommand &command) {
  const std::string reason = std::strerror(failure.error);
  const auto &credentials = command.credentials;
  const std::string uid = credentials ? std::to_string(credentials->uid) : "";
  const std::string gid = credentials ? std::to_string(credentials->gid) : "";
  switch (failure.step) {
    case ChildStep::kExec:
      return reason;
    case ChildStep::kChdir:
      return "chdir " + command.working_directory.string() + ": " + reason;
    case ChildStep::kSetgroups:
      return "setgroups: " + reason;
    case ChildStep::kSetgid:
      return "setgid(" + gid + "): " + reason;
    case ChildStep::kSetuid:
      return "setuid(" + uid + "): " + reason;
    case ChildStep::kDropCapabilities:
      return "dropping its capabilities: " + reason;
    case ChildStep::kVerify:
      return "its user and group ids are not uid " + uid + ", gid " + gid +
             " after switching to them";
    case ChildStep::kRegainRoot:
      return "it could become root again after switching to uid " + uid +
             " (setuid(0) succeeded); refusing to run it";
  }
  return reason;
}

std::vector<char *> pointers(std::vector<std::string> &strings) {
  std::vector<char *> result;
  for (auto &text : strings)
    result.push_back(text.data());
  result.push_back(nullptr);
  return result;
}

}  // namespace

std::string ExitStatus::describe() const {
  if (signal != 0) {
    const char *name = sigabbrev_np(signal);
    return "killed by signal " + std::to_string(signal) +
           (name != nullptr ? " (SIG" + std::string(name) + ")" : "");
  }
  return "exit code " + std::to_string(code);
}

struct CollectorProcess::State : std::enable_shared_from_this<CollectorProcess::State> {
  State(asio::io_context &io, LineHandler line_handler, ExitHandler exit_handler)
      : output(io),
        pidfd(io),
        kill_timer(io),
        on_line(std::move(line_handler)),
        on_exit(std::move(exit_handler)) {}

  asio::posix::stream_descriptor output;
  asio::posix::stream_descriptor pidfd;
  asio::steady_timer kill_timer;
  LineHandler on_line;
  ExitHandler on_exit;
  pid_t pid = 0;
  std::array<char, 16 * 1024> chunk{};
  std::string partial_line;

  void take(const char *data, std::size_t size) {
    for (std::size_t i = 0; i < size; ++i) {
      if (data[i] == '\n') {
        deliver();
      } else {
        partial_line.push_back(data[i]);
        if (partial_line.size() >= kMaxLineBytes)
          deliver();
      }
    }
  }

  void deliver() {
    if (!partial_line.empty() && partial_line.back() == '\r')
      partial_line.pop_back();
    if (on_line)
      on_line(partial_line);
    partial_line.clear();
  }

  void read_output() {
    output.async_read_some(
        asio::buffer(chunk),
        [self = shared_from_this()](const boost::system::error_code &error, std::size_t size) {
          if (error)
            return;  // EOF, or closed at exit
          self->take(self->chunk.data(), size);
          self->read_output();
        });
  }

  // The child has exited: what it wrote is all in the pipe, so read it now (without
  // waiting for descendants that may hold the pipe), then report the end.
  void drain_output() {
    if (!output.is_open())
      return;
    const int fd = output.native_handle();
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    while (true) {
      const ssize_t n = ::read(fd, chunk.data(), chunk.size());
      if (n > 0) {
        take(chunk.data(), static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR)
        continue;
      break;
    }
    if (!partial_line.empty())
      deliver();
    boost::system::error_code ignored;
    output.close(ignored);
  }

  void watch_exit() {
    pidfd.async_wait(asio::posix::stream_descriptor::wait_read,
                     [self = shared_from_this()](const boost::system::error_code &error) {
                       if (error)
                         return;  // closed by the destructor
                       self->reap();
                     });
  }

  void reap() {
    int status = 0;
    pid_t reaped;
    while ((reaped = ::waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
    }
    ExitStatus exit;
    if (reaped == pid && WIFSIGNALED(status)) {
      exit.signal = WTERMSIG(status);
    } else if (reaped == pid && WIFEXITED(status)) {
      exit.code = WEXITSTATUS(status);
    }
    pid = 0;
    kill_timer.cancel();
    boost::system::error_code ignored;
    pidfd.close(ignored);
    drain_output();
    if (on_exit)
      on_exit(exit);
  }
};

CollectorProcess::CollectorProcess(asio::io_context &io, LineHandler on_line, ExitHandler on_exit)
    : state_(std::make_shared<State>(io, std::move(on_line), std::move(on_exit))) {}

CollectorProcess::~CollectorProcess() {
  State &s = *state_;
  s.on_line = nullptr;
  s.on_exit = nullptr;
  if (s.pid > 0) {
    ::kill(s.pid, SIGKILL);
    while (::waitpid(s.pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  boost::system::error_code ignored;
  s.kill_timer.cancel();
  s.pidfd.close(ignored);
  s.output.close(ignored);
}

void CollectorProcess::start(const CollectorCommand &command) {
  State &s = *state_;
  if (s.pid > 0)
    throw std::logic_error("the Collector is already running (pid " + std::to_string(s.pid) + ")");
  const std::string executable = command.executable.string();

  // Everything the child needs is prepared before fork: no allocation after it.
  std::vector<std::string> argv_storage{executable};
  argv_storage.insert(argv_storage.end(), command.args.begin(), command.args.end());
  std::vector<char *> argv = pointers(argv_storage);
  std::vector<std::string> env_storage = environment_with(command.extra_env);
  std::vector<char *> envp = pointers(env_storage);
  const std::string workdir = command.working_directory.string();
  const pid_t supervisor = ::getpid();

  const std::optional<CollectorCredentials> &credentials = command.credentials;
  const std::vector<gid_t> groups = credentials ? credentials->groups : std::vector<gid_t>{};
  const std::string as_whom = credentials ? " as " + credentials->description : "";

  int output_pipe[2], exec_error_pipe[2];
  if (::pipe2(output_pipe, O_CLOEXEC) != 0)
    throw std::runtime_error("cannot start " + executable + ": pipe: " + std::strerror(errno));
  if (::pipe2(exec_error_pipe, O_CLOEXEC) != 0) {
    const int error = errno;
    ::close(output_pipe[0]);
    ::close(output_pipe[1]);
    throw std::runtime_error("cannot start " + executable + ": pipe: " + std::strerror(error));
  }

  // The bound for the close-on-exec sweep where close_range(2) is missing (before Linux 5.11).
  const int max_fd = static_cast<int>(std::min<long>(::sysconf(_SC_OPEN_MAX), 65536));
  const pid_t pid = ::fork();
  if (pid == 0) {
    // Only async-signal-safe calls from here on: no allocation, no NSS lookups.
    const auto fail = [&](ChildStep step, int error) {
      const ChildFailure failure{step, error};
      (void)!::write(exec_error_pipe[1], &failure, sizeof failure);
      ::_exit(127);
    };
    // The Collector dies with the thread that forked it, which is the supervisor's loop.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != supervisor)
      ::_exit(127);  // the supervisor died before prctl took effect
    ::dup2(output_pipe[1], STDOUT_FILENO);
    ::dup2(output_pipe[1], STDERR_FILENO);
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0)
      ::dup2(devnull, STDIN_FILENO);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGQUIT})
      ::signal(sig, SIG_DFL);
    if (credentials) {
      // Groups first (they need CAP_SETGID), then the gid, then the uid, which gives up the
      // right to change the other two.
      if (::setgroups(groups.size(), groups.data()) != 0)
        fail(ChildStep::kSetgroups, errno);
      if (::setgid(credentials->gid) != 0)
        fail(ChildStep::kSetgid, errno);
      if (::setuid(credentials->uid) != 0)
        fail(ChildStep::kSetuid, errno);
      // From root the switch has cleared every capability; a supervisor that is not root
      // but holds CAP_SETUID/CAP_SETGID keeps them, so drop them all (ambient ones too,
      // which would otherwise survive exec).
      ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
      __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
      __user_cap_data_struct no_capabilities[_LINUX_CAPABILITY_U32S_3]{};
      if (::syscall(SYS_capset, &header, no_capabilities) != 0)
        fail(ChildStep::kDropCapabilities, errno);
      uid_t ruid, euid, suid;
      gid_t rgid, egid, sgid;
      if (::getresuid(&ruid, &euid, &suid) != 0 || ::getresgid(&rgid, &egid, &sgid) != 0 ||
          ruid != credentials->uid || euid != credentials->uid || suid != credentials->uid ||
          rgid != credentials->gid || egid != credentials->gid || sgid != credentials->gid) {
        fail(ChildStep::kVerify, EPERM);
      }
      if (::setuid(0) == 0)
        fail(ChildStep::kRegainRoot, EPERM);
      // The kernel clears PR_SET_PDEATHSIG when the credentials change: set it again, and
      // look again whether the supervisor died in between.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != supervisor)
        ::_exit(127);
    }
    // No descriptor of ours beyond stdio survives the exec (asio opens its sockets without
    // O_CLOEXEC): the error pipe stays usable until then.
    if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
      for (int fd = 3; fd < max_fd; ++fd)
        ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    if (!workdir.empty() && ::chdir(workdir.c_str()) != 0)
      fail(ChildStep::kChdir, errno);
    ::execve(argv[0], argv.data(), envp.data());
    fail(ChildStep::kExec, errno);
  }
  const int fork_error = errno;
  ::close(output_pipe[1]);
  ::close(exec_error_pipe[1]);
  if (pid < 0) {
    ::close(output_pipe[0]);
    ::close(exec_error_pipe[0]);
    throw std::runtime_error("cannot start " + executable + ": fork: " + std::strerror(fork_error));
  }

  // exec either succeeds (the CLOEXEC pipe closes with nothing in it) or the child reports
  // the step that failed.
  ChildFailure failure;
  ssize_t n;
  while ((n = ::read(exec_error_pipe[0], &failure, sizeof failure)) < 0 && errno == EINTR) {
  }
  ::close(exec_error_pipe[0]);
  if (n > 0) {
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    ::close(output_pipe[0]);
    throw std::runtime_error("cannot start " + executable + as_whom + ": " +
                             describe_failure(failure, command));
  }

  const int pidfd = open_pidfd(pid);
  if (pidfd < 0) {
    const int error = errno;
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    ::close(output_pipe[0]);
    throw std::runtime_error("cannot watch " + executable + ": pidfd_open: " +
                             std::strerror(error) + " (Linux 5.3 or newer is needed)");
  }
  s.pid = pid;
  s.partial_line.clear();
  s.output.assign(output_pipe[0]);
  s.pidfd.assign(pidfd);
  s.read_output();
  s.watch_exit();
}

void CollectorProcess::stop(std::chrono::milliseconds grace) {
  State &s = *state_;
  if (s.pid <= 0)
    return;
  ::kill(s.pid, SIGTERM);
  s.kill_timer.expires_after(grace);
  s.kill_timer.async_wait(
      [weak = std::weak_ptr<State>(state_)](const boost::system::error_code &error) {
        auto self = weak.lock();
        if (error || !self || self->pid <= 0)
          return;
        ::kill(self->pid, SIGKILL);
      });
}

bool CollectorProcess::signal(int signo) {
  return state_->pid > 0 && ::kill(state_->pid, signo) == 0;
}

bool CollectorProcess::running() const {
  return state_->pid > 0;
}

pid_t CollectorProcess::pid() const {
  return state_->pid;
}

}  // namespace opsup::collector
