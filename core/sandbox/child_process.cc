// fork/execve of the interpreter, and its end. Between fork and execve the
// child runs only async-signal-safe system calls on data prepared before the
// fork: the parent is multithreaded, and another thread may have held the
// malloc lock at the moment of the fork.
#include "core/sandbox/child_process.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/common/posix.h"

namespace vet::sandbox::internal {
namespace {

// The descriptors the child sees.
constexpr int kChildStdin = 0;
constexpr int kChildStdout = 1;
constexpr int kChildStderr = 2;
constexpr int kChildResult = 3;
constexpr int kFirstUnusedFd = 4;

// What the child reports through the exec-status pipe when a step fails.
struct ChildFailure {
  int step;
  int error;
};
enum ChildStep { kStepSetsid = 1, kStepDup, kStepCloseFds, kStepChdir, kStepRlimit, kStepExec };

const char* StepName(int step) {
  switch (step) {
    case kStepSetsid:
      return "setsid";
    case kStepDup:
      return "dup2";
    case kStepCloseFds:
      return "close_range";
    case kStepChdir:
      return "chdir";
    case kStepRlimit:
      return "setrlimit";
    case kStepExec:
      return "execve";
  }
  return "setup";
}

absl::Status ErrnoStatus(absl::string_view what, int error) {
  return ErrnoToStatus(error, absl::StrCat("sandbox: ", what));
}

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

absl::StatusOr<Pipe> MakePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return ErrnoStatus("pipe2", errno);
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// The child dup2()s its pipe ends onto fds 0-3; a source already in that
// range could be overwritten before it is used, so move it above.
absl::Status MoveAboveChildFds(UniqueFd& fd) {
  if (fd.get() >= kFirstUnusedFd) return absl::OkStatus();
  int moved = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, kFirstUnusedFd);
  if (moved < 0) return ErrnoStatus("fcntl(F_DUPFD_CLOEXEC)", errno);
  fd.reset(moved);
  return absl::OkStatus();
}

absl::Status SetNonBlocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    return ErrnoStatus("fcntl(O_NONBLOCK)", errno);
  }
  return absl::OkStatus();
}

// Fills the pipe with `data` and closes the write end, so the child reads it
// and then end of file, and the parent never blocks on (or gets SIGPIPE
// from) a child that does not read.
absl::Status PreloadStdin(Pipe& pipe, const std::string& data) {
  constexpr size_t kDefaultPipeBytes = 65536;
  if (data.size() > kDefaultPipeBytes &&
      ::fcntl(pipe.write.get(), F_SETPIPE_SZ, static_cast<int>(data.size())) < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("the code is ", data.size(), " bytes, more than a pipe can hold"));
  }
  absl::Status status = SetNonBlocking(pipe.write.get());
  if (!status.ok()) return status;
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(pipe.write.get(), data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      return absl::InvalidArgumentError(
          absl::StrCat("the code is ", data.size(), " bytes, more than a pipe can hold"));
    }
    if (n < 0) return ErrnoStatus("write(stdin)", errno);
    done += static_cast<size_t>(n);
  }
  pipe.write.reset();
  return absl::OkStatus();
}

[[noreturn]] void FailInChild(int report_fd, int step) {
  ChildFailure failure{step, errno};
  ssize_t unused = ::write(report_fd, &failure, sizeof(failure));
  (void)unused;
  ForkedChildExit(127);
}

// Runs in the child after fork(): async-signal-safe calls only.
[[noreturn]] void ExecChild(const LaunchSpec& spec, char* const* argv, char* const* envp,
                            pid_t parent, int stdin_fd, int stdout_fd, int stderr_fd, int result_fd,
                            int report_fd, rlim_t old_nofile) {
  // Dispositions set to "ignore" and blocked signals survive execve; the
  // server may ignore SIGPIPE or block signals for its own threads.
  struct sigaction default_action;
  std::memset(&default_action, 0, sizeof(default_action));
  default_action.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &default_action, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  // Its own session and process group: one kill(-pid) reaches every
  // descendant that does not leave the group itself.
  if (::setsid() < 0) FailInChild(report_fd, kStepSetsid);
  // If the server dies, so does the interpreter.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ForkedChildExit(127);

  if (::dup2(stdin_fd, kChildStdin) < 0 || ::dup2(stdout_fd, kChildStdout) < 0 ||
      ::dup2(stderr_fd, kChildStderr) < 0 || ::dup2(result_fd, kChildResult) < 0) {
    FailInChild(report_fd, kStepDup);
  }
  // Marks every other descriptor close-on-exec rather than closing it, so
  // that report_fd stays open to say if execve fails.
  if (::syscall(SYS_close_range, kFirstUnusedFd, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    for (rlim_t fd = kFirstUnusedFd; fd < old_nofile; ++fd) {
      ::fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
    }
  }
  if (::chdir(spec.working_dir.c_str()) != 0) FailInChild(report_fd, kStepChdir);
  // Before the limits, which leave gcov no memory to write the counts with.
  ForkedChildFlushCoverage();
  for (const ResourceLimit& limit : spec.limits) {
    struct rlimit value = {limit.soft, limit.hard};
    if (::setrlimit(limit.resource, &value) != 0) FailInChild(report_fd, kStepRlimit);
  }
  ForkedChildExecve(spec.executable.c_str(), argv, envp);
  FailInChild(report_fd, kStepExec);
}

}  // namespace

absl::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Spawn(const LaunchSpec& spec) {
  // Everything the child touches is built here, before the fork.
  std::vector<char*> argv;
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  struct rlimit nofile;
  rlim_t old_nofile = ::getrlimit(RLIMIT_NOFILE, &nofile) == 0 ? nofile.rlim_cur : 1024;

  auto in = MakePipe();
  if (!in.ok()) return in.status();
  auto out = MakePipe();
  if (!out.ok()) return out.status();
  auto err = MakePipe();
  if (!err.ok()) return err.status();
  auto result = MakePipe();
  if (!result.ok()) return result.status();
  auto report = MakePipe();
  if (!report.ok()) return report.status();
  absl::Status status = PreloadStdin(*in, spec.stdin_data);
  for (UniqueFd* fd : {&in->read, &out->write, &err->write, &result->write, &report->write}) {
    if (status.ok()) status = MoveAboveChildFds(*fd);
  }
  if (!status.ok()) return status;

  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return ErrnoStatus("fork", errno);
  if (pid == 0) {
    ExecChild(spec, argv.data(), envp.data(), parent, in->read.get(), out->write.get(),
              err->write.get(), result->write.get(), report->write.get(), old_nofile);
  }

  // Parent: drop the child's ends so that end of file means the child (and
  // any descendant holding them) is done with them.
  in->read.reset();
  out->write.reset();
  err->write.reset();
  result->write.reset();
  report->write.reset();

  // Blocks until execve succeeded (the close-on-exec report pipe closes) or
  // the child wrote why it failed.
  ChildFailure failure{0, 0};
  ssize_t n;
  do {
    n = ::read(report->read.get(), &failure, sizeof(failure));
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof(failure))) {
    int wait_status;
    while (::waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
    }
    return ErrnoStatus(absl::StrCat("starting ", spec.executable, ": ", StepName(failure.step)),
                       failure.error);
  }

  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd.valid()) {
    int error = errno;
    ::kill(-pid, SIGKILL);
    int wait_status;
    while (::waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
    }
    return ErrnoStatus("pidfd_open", error);
  }
  for (UniqueFd* fd : {&out->read, &err->read, &result->read}) {
    status = SetNonBlocking(fd->get());
    if (!status.ok()) break;
  }
  auto child = std::unique_ptr<ChildProcess>(new ChildProcess(
      pid, std::move(pidfd), std::move(out->read), std::move(err->read), std::move(result->read)));
  if (!status.ok()) return status;  // the destructor kills and reaps
  return child;
}

ChildProcess::ChildProcess(pid_t pid, UniqueFd pidfd, UniqueFd out, UniqueFd err, UniqueFd result)
    : pid_(pid),
      pidfd_(std::move(pidfd)),
      stdout_(std::move(out)),
      stderr_(std::move(err)),
      result_(std::move(result)) {}

ChildProcess::~ChildProcess() {
  bool reaped;
  {
    absl::MutexLock lock(&mu_);
    reaped = reaped_;
  }
  if (!reaped) KillGroupAndWait();
}

void ChildProcess::KillGroup() {
  absl::MutexLock lock(&mu_);
  // Until it is reaped the leader's pid is held (at worst as a zombie), so
  // -pid_ still names this group and no other.
  if (!reaped_) ::kill(-pid_, SIGKILL);
}

ExitInfo ChildProcess::KillGroupAndWait() {
  absl::MutexLock lock(&mu_);
  ExitInfo info;
  if (reaped_) return info;
  ::kill(-pid_, SIGKILL);
  struct rusage usage;
  std::memset(&usage, 0, sizeof(usage));
  while (::wait4(pid_, &info.wait_status, 0, &usage) < 0 && errno == EINTR) {
  }
  reaped_ = true;
  info.cpu_time =
      absl::DurationFromTimeval(usage.ru_utime) + absl::DurationFromTimeval(usage.ru_stime);
  return info;
}

}  // namespace vet::sandbox::internal
