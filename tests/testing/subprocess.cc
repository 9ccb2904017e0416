// fork/execve with pipes (or a pseudo-terminal); the reader thread ends when
// the child closes its output.
#include "tests/testing/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/common/posix.h"

namespace vet::testing {
namespace {

std::vector<char*> Argv(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  out.reserve(argv.size() + 1);
  for (const std::string& a : argv) out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

// The test's environment with `extra` added (replacing same-named entries).
std::vector<std::string> Environment(const EnvList& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    std::string name = entry.substr(0, entry.find('='));
    bool replaced = false;
    for (const std::string& x : extra) replaced = replaced || x.rfind(name + "=", 0) == 0;
    if (!replaced) env.push_back(entry);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

// Waits for `pid` to exit unless *reaped; records its exit code (-1 for a
// signal) in *exit_code and returns it, or kDeadlineExceeded.
absl::StatusOr<int> WaitForExit(pid_t pid, absl::Duration timeout, bool* reaped, int* exit_code) {
  absl::Time deadline = absl::Now() + timeout;
  while (!*reaped) {
    int status = 0;
    pid_t got = waitpid(pid, &status, WNOHANG);
    if (got == pid) {
      *reaped = true;
      *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      break;
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat("process ", pid, " still running"));
    }
    absl::SleepFor(absl::Milliseconds(10));  // polling a child's exit, not a test wait
  }
  return *exit_code;
}

}  // namespace

absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         absl::Duration timeout, const EnvList& env) {
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    return absl::InternalError("pipe failed");
  }
  std::vector<char*> args = Argv(argv);
  std::vector<std::string> env_strings = Environment(env);
  std::vector<char*> envp = Argv(env_strings);
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    vet::ForkedChildExecve(args[0], args.data(), envp.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  CommandResult result;
  absl::Time deadline = absl::Now() + timeout;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  char buf[65536];
  bool killed = false;
  while (open_fds > 0) {
    int ms = static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
    if (ms <= 0) {
      kill(pid, SIGKILL);
      killed = true;
      break;
    }
    int n = poll(fds, 2, ms);
    if (n < 0 && errno == EINTR) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t got = read(fds[i].fd, buf, sizeof(buf));
      if (got <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      } else {
        (i == 0 ? result.out : result.err).append(buf, got);
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) close(f.fd);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (killed) {
    return absl::DeadlineExceededError(absl::StrCat(
        argv[0], " did not finish in ", absl::FormatDuration(timeout), "; stderr: ", result.err));
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

absl::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Start(
    const std::vector<std::string>& argv, const EnvList& env) {
  int err_pipe[2];
  if (pipe2(err_pipe, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");
  std::vector<char*> args = Argv(argv);
  std::vector<std::string> env_strings = Environment(env);
  std::vector<char*> envp = Argv(env_strings);
  std::unique_ptr<ChildProcess> child(new ChildProcess());
  child->pid_ = fork();
  if (child->pid_ < 0) return absl::InternalError("fork failed");
  if (child->pid_ == 0) {
    dup2(err_pipe[1], 2);
    int devnull = open("/dev/null", O_RDWR);
    dup2(devnull, 0);
    dup2(devnull, 1);
    vet::ForkedChildExecve(args[0], args.data(), envp.data());
    _exit(127);
  }
  close(err_pipe[1]);
  int fd = err_pipe[0];
  ChildProcess* self = child.get();
  child->reader_ = std::make_unique<std::thread>([self, fd] {
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
      absl::MutexLock lock(&self->mu_);
      self->err_.append(buf, n);
    }
    close(fd);
  });
  return child;
}

ChildProcess::~ChildProcess() {
  if (!reaped_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (reader_ && reader_->joinable()) reader_->join();
}

absl::StatusOr<std::string> ChildProcess::WaitForStderr(const std::string& text,
                                                        absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto found = [this, &text]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return err_.find(text) != std::string::npos;
  };
  if (!mu_.AwaitWithTimeout(absl::Condition(&found), timeout)) {
    return absl::DeadlineExceededError(
        absl::StrCat("stderr never showed '", text, "'; it has: ", err_));
  }
  return err_;
}

absl::StatusOr<int> ChildProcess::Wait(absl::Duration timeout) {
  return WaitForExit(pid_, timeout, &reaped_, &exit_code_);
}

std::string ChildProcess::stderr_text() {
  absl::MutexLock lock(&mu_);
  return err_;
}

absl::StatusOr<std::unique_ptr<TerminalProcess>> TerminalProcess::Start(
    const std::vector<std::string>& argv, const EnvList& env) {
  const int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) return ErrnoToStatus(errno, "posix_openpt");
  std::unique_ptr<TerminalProcess> child(new TerminalProcess());
  child->terminal_fd_ = master;  // closed by the destructor from here on
  char terminal[128];
  if (grantpt(master) != 0 || unlockpt(master) != 0 ||
      ptsname_r(master, terminal, sizeof(terminal)) != 0) {
    return ErrnoToStatus(errno, "setting up the pseudo-terminal");
  }
  const winsize size = {/*ws_row=*/50, /*ws_col=*/200, 0, 0};
  if (ioctl(master, TIOCSWINSZ, &size) != 0) return ErrnoToStatus(errno, "TIOCSWINSZ");
  int out_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return ErrnoToStatus(errno, "pipe2");
  std::vector<char*> args = Argv(argv);
  std::vector<std::string> env_strings = Environment(env);
  std::vector<char*> envp = Argv(env_strings);
  child->pid_ = fork();
  if (child->pid_ < 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    return ErrnoToStatus(errno, "fork");
  }
  if (child->pid_ == 0) {
    // Only system calls from here to execve: another thread of the test may
    // have held a lock at fork.
    setsid();
    // A session leader's first terminal becomes its controlling terminal;
    // TIOCSCTTY says so outright.
    const int tty = open(terminal, O_RDWR);
    if (tty < 0 || ioctl(tty, TIOCSCTTY, 0) != 0) _exit(127);
    dup2(tty, 0);
    dup2(out_pipe[1], 1);
    dup2(tty, 2);
    if (tty > 2) close(tty);
    vet::ForkedChildExecve(args[0], args.data(), envp.data());
    _exit(127);
  }
  close(out_pipe[1]);
  const int out_fd = out_pipe[0];
  TerminalProcess* self = child.get();
  child->reader_ = std::make_unique<std::thread>([self, master, out_fd] {
    // The terminal reads EIO once the child (the last holder of its other
    // side) has exited; the pipe reads 0.
    pollfd fds[2] = {{master, POLLIN, 0}, {out_fd, POLLIN, 0}};
    int open_fds = 2;
    char buf[4096];
    while (open_fds > 0) {
      if (poll(fds, 2, /*timeout=*/-1) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      for (int i = 0; i < 2; ++i) {
        if (fds[i].fd < 0 || fds[i].revents == 0) continue;
        const ssize_t got = read(fds[i].fd, buf, sizeof(buf));
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
          fds[i].fd = -1;  // poll skips it; the master is closed later
          --open_fds;
          continue;
        }
        absl::MutexLock lock(&self->mu_);
        (i == 0 ? self->screen_ : self->stdout_).append(buf, static_cast<size_t>(got));
      }
    }
    close(out_fd);
  });
  return child;
}

TerminalProcess::~TerminalProcess() {
  if (!reaped_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (reader_ && reader_->joinable()) reader_->join();
  if (terminal_fd_ >= 0) close(terminal_fd_);
}

absl::Status TerminalProcess::Type(absl::string_view keys) {
  while (!keys.empty()) {
    const ssize_t wrote = write(terminal_fd_, keys.data(), keys.size());
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote <= 0) return ErrnoToStatus(errno, "typing on the terminal");
    keys.remove_prefix(static_cast<size_t>(wrote));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> TerminalProcess::WaitFor(bool on_screen, absl::string_view text,
                                                     absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  const std::string& output = on_screen ? screen_ : stdout_;
  size_t& seen = on_screen ? screen_seen_ : stdout_seen_;
  size_t at = std::string::npos;
  auto found = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    at = output.find(text.data(), seen, text.size());
    return at != std::string::npos;
  };
  if (!mu_.AwaitWithTimeout(absl::Condition(&found), timeout)) {
    return absl::DeadlineExceededError(
        absl::StrCat(on_screen ? "the screen" : "stdout", " never showed '", text, "' after ",
                     output.substr(0, seen), " but only ", output.substr(seen)));
  }
  std::string shown = output.substr(seen, at + text.size() - seen);
  seen = at + text.size();
  return shown;
}

absl::StatusOr<std::string> TerminalProcess::WaitForScreen(absl::string_view text,
                                                           absl::Duration timeout) {
  return WaitFor(/*on_screen=*/true, text, timeout);
}

absl::StatusOr<std::string> TerminalProcess::WaitForStdout(absl::string_view text,
                                                           absl::Duration timeout) {
  return WaitFor(/*on_screen=*/false, text, timeout);
}

absl::StatusOr<int> TerminalProcess::Wait(absl::Duration timeout) {
  absl::StatusOr<int> code = WaitForExit(pid_, timeout, &reaped_, &exit_code_);
  // The child is gone: its output ends, and the reader with it.
  if (code.ok() && reader_->joinable()) reader_->join();
  return code;
}

std::string TerminalProcess::screen() {
  absl::MutexLock lock(&mu_);
  return screen_;
}

std::string TerminalProcess::stdout_text() {
  absl::MutexLock lock(&mu_);
  return stdout_;
}

}  // namespace vet::testing
