// fork/execve with pipes; the reader thread ends when the child closes stderr.
#include "tests/testing/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/common/posix.h"

extern char** environ;

namespace vet::testing {
namespace {

std::vector<char*> Argv(const std::vector<std::string>& argv) {
  std::vector<char*> out;
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
  absl::Time deadline = absl::Now() + timeout;
  while (!reaped_) {
    int status = 0;
    pid_t got = waitpid(pid_, &status, WNOHANG);
    if (got == pid_) {
      reaped_ = true;
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      break;
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat("process ", pid_, " still running"));
    }
    absl::SleepFor(absl::Milliseconds(10));  // polling a child's exit, not a test wait
  }
  return exit_code_;
}

std::string ChildProcess::stderr_text() {
  absl::MutexLock lock(&mu_);
  return err_;
}

}  // namespace vet::testing
