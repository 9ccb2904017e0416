// Starting a zygote inside bubblewrap, forking executions from it over its
// control socket, and noticing when it dies.
//
// Between fork and execve the launcher child runs only async-signal-safe
// system calls on data prepared before the fork: the server is
// multithreaded.
#include "core/sandbox/zygote_worker.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "core/common/clock.h"
#include "core/common/log.h"
#include "core/common/posix.h"
#include "core/common/status_macros.h"
#include "core/sandbox/runner_protocol.h"
#include "core/sandbox/runner_source.h"

namespace vet::sandbox {
namespace {

using internal::ExitInfo;
using internal::UniqueFd;

// The descriptors bwrap (and through it the zygote) starts with.
constexpr int kControlFd = 3;
constexpr int kDataFd = 4;
constexpr int kInfoFd = 5;
constexpr int kFirstUnusedFd = 6;
// A control message is a small JSON object.
constexpr size_t kMaxMessageBytes = 64 << 10;
// How long a child may take to die after SIGKILL before the whole sandbox
// is killed instead.
constexpr absl::Duration kKillGrace = absl::Seconds(2);
// How long the zygote gets to exit by itself when its control socket closes.
constexpr absl::Duration kStopGrace = absl::Seconds(1);
// The zygote's stderr is logged, a line at a time, up to this much.
constexpr size_t kMaxStderrLogBytes = 16 << 10;

absl::Status ErrnoStatus(absl::string_view what, int error) {
  return ErrnoToStatus(error, absl::StrCat("sandbox: ", what));
}

int PidfdOpen(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

void PidfdKill(int pidfd) {
  if (pidfd >= 0) ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
}

// Waits until `fd` is readable, up to `timeout`. False on timeout.
bool WaitReadable(int fd, absl::Duration timeout) {
  const absl::Duration deadline = MonotonicNow() + timeout;
  while (true) {
    const int64_t ms = absl::ToInt64Milliseconds(deadline - MonotonicNow());
    struct pollfd p = {fd, POLLIN, 0};
    int n = ::poll(&p, 1, ms < 0 ? 0 : static_cast<int>(ms) + 1);
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

std::string DescribeWaitStatus(int status) {
  // bwrap exits with 128 + N when the sandbox's PID 1 died of signal N.
  if (WIFEXITED(status) && WEXITSTATUS(status) > 128 && WEXITSTATUS(status) < 128 + NSIG) {
    status = WEXITSTATUS(status) - 128;  // as a wait status for that signal
  }
  if (WIFEXITED(status)) return absl::StrCat("exited with code ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const char* name = sigabbrev_np(WTERMSIG(status));
    return absl::StrCat("was killed by signal ", WTERMSIG(status),
                        name != nullptr ? absl::StrCat(" (SIG", name, ")") : "");
  }
  return absl::StrCat("ended with wait status ", status);
}

// What the launcher child does after fork: async-signal-safe calls only.
struct LaunchPlan {
  char* const* argv;
  char* const* envp;
  const char* bwrap_path;
  int go_fd;
  int null_fd;
  int stderr_fd;
  int control_fd;
  int data_fd;
  int info_fd;
  bool switch_user;
  uid_t uid;
  gid_t gid;
};

[[noreturn]] void LaunchChild(const LaunchPlan& plan) {
  struct sigaction default_action;
  std::memset(&default_action, 0, sizeof(default_action));
  default_action.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &default_action, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  // The parent moves this process into the worker's cgroup, then says go.
  char go = 0;
  ssize_t n;
  do {
    n = ::read(plan.go_fd, &go, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) ForkedChildExit(126);
  if (::setsid() < 0) ForkedChildExit(126);
  if (::dup2(plan.null_fd, 0) < 0 || ::dup2(plan.null_fd, 1) < 0 || ::dup2(plan.stderr_fd, 2) < 0 ||
      ::dup2(plan.control_fd, kControlFd) < 0 || ::dup2(plan.data_fd, kDataFd) < 0 ||
      ::dup2(plan.info_fd, kInfoFd) < 0) {
    ForkedChildExit(126);
  }
  // Everything else is closed by execve.
  if (::syscall(SYS_close_range, kFirstUnusedFd, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
    ForkedChildExit(126);
  // Before the sandbox user, who may not write the server's gcov files.
  ForkedChildFlushCoverage();
  if (plan.switch_user) {
    if (::setgroups(0, nullptr) != 0 || ::setgid(plan.gid) != 0 || ::setuid(plan.uid) != 0) {
      ForkedChildExit(125);
    }
    // A server that is not root switches users with CAP_SETUID and
    // CAP_SETGID (systemd's AmbientCapabilities); those would survive the
    // uid change and execve. bwrap gets no capability at all.
    ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct none[2];
    std::memset(none, 0, sizeof(none));
    if (::syscall(SYS_capset, &header, none) != 0) ForkedChildExit(125);
  }
  // An empty environment for bwrap itself: its own helper processes would
  // otherwise carry the server's secrets into the sandbox's /proc.
  ForkedChildExecve(plan.bwrap_path, plan.argv, plan.envp);
  ForkedChildExit(127);
}

absl::StatusOr<std::pair<UniqueFd, UniqueFd>> MakePipe(int flags) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | flags) != 0) return ErrnoStatus("pipe2", errno);
  return std::make_pair(UniqueFd(fds[0]), UniqueFd(fds[1]));
}

// Parses bwrap's info document: {"child-pid": 1234, ...}.
pid_t ParseChildPid(absl::string_view info) {
  size_t key = info.find("\"child-pid\"");
  if (key == absl::string_view::npos) return -1;
  absl::string_view rest = info.substr(key + 11);
  rest = absl::StripLeadingAsciiWhitespace(rest);
  if (!absl::ConsumePrefix(&rest, ":")) return -1;
  rest = absl::StripLeadingAsciiWhitespace(rest);
  size_t end = 0;
  while (end < rest.size() && rest[end] >= '0' && rest[end] <= '9') ++end;
  int pid = -1;
  if (!absl::SimpleAtoi(rest.substr(0, end), &pid)) return -1;
  return pid;
}

}  // namespace

std::vector<std::string> BwrapArguments(const BwrapOptions& options,
                                        absl::string_view runner_source,
                                        absl::string_view spec_json) {
  std::vector<std::string> args = {
      options.bwrap_path,
      // Namespaces: user, PID, network, IPC, UTS, cgroup.
      "--unshare-all", "--unshare-user", "--uid", absl::StrCat(options.uid), "--gid",
      absl::StrCat(options.gid), "--disable-userns", "--cap-drop", "ALL", "--as-pid-1",
      "--new-session", "--hostname", "sandbox", "--ro-bind", "/usr", "/usr"};
  // /bin, /lib... are links into /usr on a merged-/usr system; bound
  // read-only where they are real folders.
  for (const char* top : {"bin", "sbin", "lib", "lib32", "lib64", "libx32"}) {
    const std::string path = absl::StrCat("/", top);
    char target[256];
    ssize_t n = ::readlink(path.c_str(), target, sizeof(target) - 1);
    if (n > 0) {
      args.insert(args.end(), {"--symlink", std::string(target, n), path});
      continue;
    }
    struct stat st;
    if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
      args.insert(args.end(), {"--ro-bind", path, path});
  }
  // What Python, numpy (libblas through alternatives) and matplotlib read.
  for (const char* file :
       {"/etc/alternatives", "/etc/fonts", "/etc/matplotlibrc", "/etc/ld.so.cache",
        "/etc/localtime", "/etc/python3", "/etc/python3.11"}) {
    args.insert(args.end(), {"--ro-bind-try", file, file});
  }
  args.insert(
      args.end(),
      {"--proc", "/proc", "--dev", "/dev", "--size", absl::StrCat(options.tmp_bytes), "--perms",
       "1777", "--tmpfs", "/tmp", "--remount-ro", "/dev", "--remount-ro", "/", "--chdir", "/tmp",
       "--info-fd", absl::StrCat(options.info_fd), "--setenv", "PATH", "/usr/bin:/bin", "--setenv",
       "LANG", "C.UTF-8", "--setenv", "HOME", "/tmp", "--setenv", "TMPDIR", "/tmp", "--setenv",
       "MPLCONFIGDIR", "/tmp/.matplotlib", "--setenv", "MPLBACKEND", "Agg",
       // Before numpy loads: a process limit counts threads.
       "--setenv", "OMP_NUM_THREADS", "1", "--setenv", "OPENBLAS_NUM_THREADS", "1", "--setenv",
       "MKL_NUM_THREADS", "1", "--setenv", "NUMEXPR_NUM_THREADS", "1", options.python_path, "-I",
       "-B", "-u", "-c", std::string(runner_source), std::string(spec_json)});
  return args;
}

// One execution's state, shared between its ZygoteRun and the reader thread.
struct ZygoteWorker::RunState {
  uint64_t id = 0;
  UniqueFd exit_event;  // an eventfd, written once the run has ended
  absl::Mutex mu;
  bool ended ABSL_GUARDED_BY(mu) = false;
  ExitInfo exit ABSL_GUARDED_BY(mu);
  int64_t oom_kills_at_start = 0;
};

// One forked execution, as the Supervisor sees it.
class ZygoteRun final : public internal::SupervisedProcess {
 public:
  ZygoteRun(ZygoteWorker* worker, std::shared_ptr<ZygoteWorker::RunState> state, UniqueFd out,
            UniqueFd err, UniqueFd result)
      : worker_(worker),
        state_(std::move(state)),
        stdout_(std::move(out)),
        stderr_(std::move(err)),
        result_(std::move(result)) {}
  ~ZygoteRun() override {
    if (!waited_) KillAndWait();
  }

  UniqueFd& stdout_pipe() override { return stdout_; }
  UniqueFd& stderr_pipe() override { return stderr_; }
  UniqueFd& result_pipe() override { return result_; }
  int exit_fd() const override { return state_->exit_event.get(); }

  void Kill() override {
    {
      absl::MutexLock lock(&state_->mu);
      if (state_->ended) return;
    }
    worker_->SendKill(state_->id);
  }

  ExitInfo KillAndWait() override {
    waited_ = true;
    Kill();
    auto ended = [this] {
      state_->mu.AssertReaderHeld();
      return state_->ended;
    };
    absl::MutexLock lock(&state_->mu);
    if (!state_->mu.AwaitWithTimeout(absl::Condition(&ended), kKillGrace)) {
      state_->mu.Unlock();
      worker_->Kill(absl::StrCat("an execution did not stop within ",
                                 absl::FormatDuration(kKillGrace), " of being killed"));
      state_->mu.Lock();
      state_->mu.Await(absl::Condition(&ended));
    }
    return state_->exit;
  }

 private:
  ZygoteWorker* const worker_;
  const std::shared_ptr<ZygoteWorker::RunState> state_;
  UniqueFd stdout_;
  UniqueFd stderr_;
  UniqueFd result_;
  bool waited_ = false;
};

absl::StatusOr<std::unique_ptr<ZygoteWorker>> ZygoteWorker::Start(LaunchOptions options,
                                                                  CancellationToken& cancel) {
  auto worker = std::unique_ptr<ZygoteWorker>(new ZygoteWorker());
  worker->practice_id_ = options.practice_id;
  worker->data_dir_ = options.data_dir;
  worker->cgroup_ = std::move(options.cgroup);
  // From the first step on, the destructor kills and reaps whatever was
  // started, whichever step fails.
  VET_ASSIGN_OR_RETURN(UniqueFd info, worker->Launch(options));
  const absl::Duration deadline = MonotonicNow() + options.start_timeout;
  VET_RETURN_IF_ERROR(worker->AwaitSandboxPid(info.get(), deadline));
  VET_RETURN_IF_ERROR(worker->AwaitReady(deadline, options.start_timeout, cancel));
  {
    absl::MutexLock lock(&worker->mu_);
    worker->last_used_ = absl::Now();
  }
  ZygoteWorker* raw = worker.get();
  worker->reader_ = std::thread([raw] { raw->ReaderLoop(); });
  return worker;
}

// 1. bwrap started (as the sandbox user, in the worker's cgroup) with the
// zygote's descriptors on fds 0-5; returns the read end of its info pipe.
absl::StatusOr<UniqueFd> ZygoteWorker::Launch(LaunchOptions& options) {
  UniqueFd data(::open(options.data_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!data.valid()) {
    return absl::NotFoundError(absl::StrCat("sandbox: cannot open the data of practice ",
                                            options.practice_id, ": ", std::strerror(errno)));
  }
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
    return ErrnoStatus("socketpair", errno);
  UniqueFd control(sv[0]);
  UniqueFd zygote_end(sv[1]);
  UniqueFd null_fd(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null_fd.valid()) return ErrnoStatus("open /dev/null", errno);
  VET_ASSIGN_OR_RETURN(auto err_pipe, MakePipe(0));
  VET_ASSIGN_OR_RETURN(auto info_pipe, MakePipe(0));
  VET_ASSIGN_OR_RETURN(auto go_pipe, MakePipe(0));
  UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake.valid()) return ErrnoStatus("eventfd", errno);

  // The child dup2()s these onto fds 0-5; a source already in that range
  // could be overwritten before it is used, so each is moved above it.
  for (UniqueFd* fd :
       {&null_fd, &err_pipe.second, &zygote_end, &data, &info_pipe.second, &go_pipe.first}) {
    if (fd->get() >= kFirstUnusedFd) continue;
    int moved = ::fcntl(fd->get(), F_DUPFD_CLOEXEC, kFirstUnusedFd);
    if (moved < 0) return ErrnoStatus("fcntl(F_DUPFD_CLOEXEC)", errno);
    fd->reset(moved);
  }
  options.bwrap.info_fd = kInfoFd;
  const std::vector<std::string> args =
      BwrapArguments(options.bwrap, internal::RunnerSource(), options.spec_json);
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  char* envp[] = {nullptr};
  LaunchPlan plan{argv.data(),
                  envp,
                  options.bwrap.bwrap_path.c_str(),
                  go_pipe.first.get(),
                  null_fd.get(),
                  err_pipe.second.get(),
                  zygote_end.get(),
                  data.get(),
                  info_pipe.second.get(),
                  options.switch_user,
                  options.bwrap.uid,
                  options.bwrap.gid};
  const pid_t pid = ::fork();
  if (pid < 0) return ErrnoStatus("fork", errno);
  if (pid == 0) LaunchChild(plan);
  bwrap_pid_ = pid;
  bwrap_pidfd_ = UniqueFd(PidfdOpen(pid));
  go_pipe.first.reset();
  zygote_end.reset();
  data.reset();
  err_pipe.second.reset();
  info_pipe.second.reset();
  control_ = std::move(control);
  stderr_ = std::move(err_pipe.first);
  wake_ = std::move(wake);

  if (!bwrap_pidfd_.valid()) return ErrnoStatus("pidfd_open", errno);
  if (cgroup_ != nullptr) VET_RETURN_IF_ERROR(cgroup_->AddProcess(pid));
  // bwrap waits for this byte, so it starts inside the cgroup.
  char go = 1;
  if (::write(go_pipe.second.get(), &go, 1) != 1) return ErrnoStatus("starting bwrap", errno);
  return std::move(info_pipe.first);
}

// 2. The sandbox's PID 1: bwrap writes its host pid to the info pipe; kept
// as a pidfd, since killing it ends the whole namespace.
absl::Status ZygoteWorker::AwaitSandboxPid(int info_fd, absl::Duration deadline) {
  std::string info;
  char buffer[4096];
  while (ParseChildPid(info) < 0) {
    if (!WaitReadable(info_fd, deadline - MonotonicNow())) {
      return absl::DeadlineExceededError("sandbox: bwrap did not start in time");
    }
    ssize_t n = ::read(info_fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    info.append(buffer, static_cast<size_t>(n));
  }
  const pid_t zygote_pid = ParseChildPid(info);
  if (zygote_pid > 0) zygote_pidfd_ = UniqueFd(PidfdOpen(zygote_pid));
  if (zygote_pidfd_.valid()) return absl::OkStatus();
  // bwrap ended before it made the sandbox: its stderr says why.
  std::string why;
  if (WaitReadable(stderr_.get(), absl::Seconds(1))) {
    ssize_t n = ::read(stderr_.get(), buffer, sizeof(buffer));
    if (n > 0) {
      why = std::string(
          absl::StripAsciiWhitespace(absl::string_view(buffer, static_cast<size_t>(n))));
    }
  }
  return absl::FailedPreconditionError(absl::StrCat("sandbox: bwrap could not build the sandbox",
                                                    why.empty() ? "" : absl::StrCat(": ", why)));
}

// 3. The zygote's first message on the control socket: ready (with the
// library versions and what loading took), or why not. Its stderr is
// logged meanwhile.
absl::Status ZygoteWorker::AwaitReady(absl::Duration deadline, absl::Duration start_timeout,
                                      CancellationToken& cancel) {
  char buffer[4096];
  while (true) {
    VET_RETURN_IF_ERROR(cancel.Check("while the sandbox worker started"));
    if (MonotonicNow() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat("sandbox: the worker for practice ",
                                                      practice_id_, " did not get ready within ",
                                                      absl::FormatDuration(start_timeout)));
    }
    struct pollfd fds[2] = {{control_.get(), POLLIN, 0}, {stderr_.get(), POLLIN, 0}};
    int n = ::poll(fds, 2, 100);
    if (n < 0 && errno != EINTR) return ErrnoStatus("poll", errno);
    if (n <= 0) continue;
    if (fds[1].revents != 0) {
      ssize_t got = ::read(stderr_.get(), buffer, sizeof(buffer));
      if (got > 0) {
        LogWarning("sandbox worker ", practice_id_, ": ",
                   absl::StripTrailingAsciiWhitespace(
                       absl::string_view(buffer, static_cast<size_t>(got))));
      }
    }
    if (fds[0].revents != 0) break;
  }
  std::string message(kMaxMessageBytes, '\0');
  ssize_t got = ::recv(control_.get(), message.data(), message.size(), 0);
  if (got <= 0) {
    int status = 0;
    ::waitpid(bwrap_pid_, &status, 0);
    {
      absl::MutexLock lock(&mu_);
      reaped_ = true;
    }
    return absl::InternalError(absl::StrCat("sandbox: the worker for practice ", practice_id_,
                                            " stopped while starting (bwrap ",
                                            DescribeWaitStatus(status), ")"));
  }
  message.resize(static_cast<size_t>(got));
  VET_ASSIGN_OR_RETURN(internal::ZygoteMessage ready, internal::ParseZygoteMessage(message));
  if (ready.type == internal::ZygoteMessage::Type::kFatal) {
    return absl::InternalError(absl::StrCat("sandbox: the worker for practice ", practice_id_,
                                            " could not ",
                                            ready.stage == "load" ? "load the data" : ready.stage,
                                            ": ", ready.error.type, ": ", ready.error.message));
  }
  if (ready.type != internal::ZygoteMessage::Type::kReady) {
    return absl::InternalError("sandbox: the worker sent something else before it was ready");
  }
  std::vector<std::string> versions;
  versions.reserve(ready.versions.size());
  for (const auto& [name, version] : ready.versions)
    versions.push_back(absl::StrCat(name, " ", version));
  versions_ = absl::StrJoin(versions, ", ");
  load_time_ = absl::Milliseconds(ready.load_ms);
  ready_rss_bytes_ = ready.rss_kb * 1024;
  landlock_abi_ = ready.landlock_abi;
  return absl::OkStatus();
}

ZygoteWorker::~ZygoteWorker() {
  // Closing the control socket tells the zygote to kill its children and
  // exit; the namespace goes with it. If it does not, it is killed.
  if (reader_.joinable()) {
    uint64_t one = 1;
    ssize_t unused = ::write(wake_.get(), &one, sizeof(one));
    (void)unused;
    reader_.join();
  }
  {
    absl::MutexLock lock(&send_mu_);
    control_.reset();
  }
  bool reaped;
  {
    absl::MutexLock lock(&mu_);
    reaped = reaped_;
  }
  if (!reaped && bwrap_pid_ > 0) {
    if (!bwrap_pidfd_.valid() || !WaitReadable(bwrap_pidfd_.get(), kStopGrace)) {
      PidfdKill(zygote_pidfd_.get());
      ::kill(bwrap_pid_, SIGKILL);
    }
    int status;
    while (::waitpid(bwrap_pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (cgroup_ != nullptr) cgroup_->KillAll();
  MarkDead("the sandbox worker was stopped");
}

bool ZygoteWorker::alive() const {
  absl::MutexLock lock(&mu_);
  return !dead_;
}

std::string ZygoteWorker::death_reason() const {
  absl::MutexLock lock(&mu_);
  return death_reason_;
}

int ZygoteWorker::active() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(runs_.size());
}

absl::Time ZygoteWorker::last_used() const {
  absl::MutexLock lock(&mu_);
  return last_used_;
}

int64_t ZygoteWorker::MemoryBytes() const {
  if (cgroup_ != nullptr) return cgroup_->MemoryUsageBytes();
  return ready_rss_bytes_;
}

void ZygoteWorker::Kill(absl::string_view reason) {
  {
    absl::MutexLock lock(&mu_);
    if (death_reason_.empty()) death_reason_ = std::string(reason);
  }
  LogWarning("sandbox worker ", practice_id_, ": killed: ", reason);
  PidfdKill(zygote_pidfd_.get());
}

bool ZygoteWorker::SendControl(absl::string_view message, const int* fds, int nfds) {
  struct iovec iov = {const_cast<char*>(message.data()), message.size()};
  struct msghdr msg;
  std::memset(&msg, 0, sizeof(msg));
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)];
  if (nfds > 0) {
    std::memset(control, 0, sizeof(control));
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
    struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
    std::memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * nfds);
  }
  absl::MutexLock lock(&send_mu_);
  if (!control_.valid()) return false;
  ssize_t n;
  do {
    // Never blocks: a zygote that stops reading is treated as dead.
    n = ::sendmsg(control_.get(), &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(message.size());
}

void ZygoteWorker::SendKill(uint64_t id) {
  if (!SendControl(internal::EncodeZygoteKill(id), nullptr, 0))
    Kill("its control socket did not take a kill request");
}

absl::StatusOr<std::unique_ptr<internal::SupervisedProcess>> ZygoteWorker::Fork(
    absl::string_view code) {
  // The code goes in a memory file: no size limit of a pipe or a message.
  UniqueFd code_fd(static_cast<int>(::syscall(SYS_memfd_create, "code", MFD_CLOEXEC)));
  if (!code_fd.valid()) return ErrnoStatus("memfd_create", errno);
  size_t done = 0;
  while (done < code.size()) {
    ssize_t n = ::write(code_fd.get(), code.data() + done, code.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("writing the code", errno);
    done += static_cast<size_t>(n);
  }
  if (::lseek(code_fd.get(), 0, SEEK_SET) != 0) return ErrnoStatus("lseek", errno);
  VET_ASSIGN_OR_RETURN(auto out, MakePipe(0));
  VET_ASSIGN_OR_RETURN(auto err, MakePipe(0));
  VET_ASSIGN_OR_RETURN(auto result, MakePipe(0));
  for (UniqueFd* fd : {&out.first, &err.first, &result.first}) {
    int flags = ::fcntl(fd->get(), F_GETFL);
    ::fcntl(fd->get(), F_SETFL, flags | O_NONBLOCK);
  }
  auto state = std::make_shared<RunState>();
  state->exit_event = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!state->exit_event.valid()) return ErrnoStatus("eventfd", errno);
  if (cgroup_ != nullptr) state->oom_kills_at_start = cgroup_->OomKills();
  {
    absl::MutexLock lock(&mu_);
    if (dead_) {
      return absl::UnavailableError(absl::StrCat("the sandbox worker of practice ", practice_id_,
                                                 " has stopped: ", death_reason_));
    }
    state->id = next_id_++;
    runs_[state->id] = state;
    last_used_ = absl::Now();
  }
  const int fds[4] = {code_fd.get(), out.second.get(), err.second.get(), result.second.get()};
  if (!SendControl(internal::EncodeZygoteRun(state->id), fds, 4)) {
    {
      absl::MutexLock lock(&mu_);
      runs_.erase(state->id);
    }
    Kill("its control socket did not take a run request");
    return absl::UnavailableError(absl::StrCat("the sandbox worker of practice ", practice_id_,
                                               " did not take the execution"));
  }
  return std::unique_ptr<internal::SupervisedProcess>(new ZygoteRun(
      this, std::move(state), std::move(out.first), std::move(err.first), std::move(result.first)));
}

void ZygoteWorker::FinishRun(uint64_t id, ExitInfo info) {
  std::shared_ptr<RunState> state;
  {
    absl::MutexLock lock(&mu_);
    auto it = runs_.find(id);
    if (it == runs_.end()) return;
    state = it->second;
    runs_.erase(it);
    last_used_ = absl::Now();
  }
  if (cgroup_ != nullptr && WIFSIGNALED(info.wait_status) &&
      WTERMSIG(info.wait_status) == SIGKILL && cgroup_->OomKills() > state->oom_kills_at_start) {
    info.out_of_memory = true;
  }
  {
    absl::MutexLock lock(&state->mu);
    state->ended = true;
    state->exit = std::move(info);
  }
  uint64_t one = 1;
  ssize_t unused = ::write(state->exit_event.get(), &one, sizeof(one));
  (void)unused;
}

void ZygoteWorker::MarkDead(std::string reason) {
  std::map<uint64_t, std::shared_ptr<RunState>> runs;
  {
    absl::MutexLock lock(&mu_);
    if (!dead_) {
      dead_ = true;
      if (death_reason_.empty()) death_reason_ = std::move(reason);
    }
    runs.swap(runs_);
  }
  for (auto& [id, state] : runs) {
    ExitInfo info;
    info.wait_status = SIGKILL;  // as if killed
    info.abnormal = absl::StrCat("the practice's sandbox worker stopped during the execution (",
                                 death_reason(), "); the next question starts a new one");
    absl::MutexLock lock(&state->mu);
    if (!state->ended) {
      state->ended = true;
      state->exit = info;
      uint64_t one = 1;
      ssize_t unused = ::write(state->exit_event.get(), &one, sizeof(one));
      (void)unused;
    }
  }
}

void ZygoteWorker::ReaderLoop() {
  std::string message(kMaxMessageBytes, '\0');
  std::string stderr_line;
  size_t stderr_logged = 0;
  char buffer[4096];
  while (true) {
    struct pollfd fds[3] = {{control_.get(), POLLIN, 0},
                            {stderr_.valid() ? stderr_.get() : -1, POLLIN, 0},
                            {wake_.get(), POLLIN, 0}};
    int n = ::poll(fds, 3, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || fds[2].revents != 0) return;  // shutting down
    if (fds[1].revents != 0) {
      ssize_t got = ::read(stderr_.get(), buffer, sizeof(buffer));
      if (got <= 0) {
        stderr_.reset();
      } else if (stderr_logged < kMaxStderrLogBytes) {
        stderr_logged += static_cast<size_t>(got);
        LogWarning("sandbox worker ", practice_id_, ": ",
                   absl::StripTrailingAsciiWhitespace(
                       absl::string_view(buffer, static_cast<size_t>(got))));
      }
    }
    if (fds[0].revents == 0) continue;
    ssize_t got = ::recv(control_.get(), message.data(), message.size(), 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      // The zygote is gone, and with it every child.
      int status = 0;
      while (::waitpid(bwrap_pid_, &status, 0) < 0 && errno == EINTR) {
      }
      {
        absl::MutexLock lock(&mu_);
        reaped_ = true;
      }
      MarkDead(absl::StrCat("the sandbox worker ", DescribeWaitStatus(status)));
      LogWarning("sandbox worker ", practice_id_, ": ", death_reason());
      return;
    }
    auto parsed =
        internal::ParseZygoteMessage(absl::string_view(message.data(), static_cast<size_t>(got)));
    if (!parsed.ok()) {
      Kill(parsed.status().message());
      continue;
    }
    switch (parsed->type) {
      case internal::ZygoteMessage::Type::kExited: {
        ExitInfo info;
        info.wait_status = parsed->wait_status;
        info.cpu_time = parsed->cpu_time;
        FinishRun(parsed->id, std::move(info));
        break;
      }
      case internal::ZygoteMessage::Type::kRefused: {
        ExitInfo info;
        info.abnormal = absl::StrCat("the sandbox worker could not start the execution: ",
                                     parsed->error.message);
        FinishRun(parsed->id, std::move(info));
        break;
      }
      default:
        Kill("it sent an unexpected message");
        break;
    }
  }
}

}  // namespace vet::sandbox
