// Loads the real programs into forked children (a filter cannot be removed,
// so never into the test process) and checks what they still let through.
#include "core/sandbox/seccomp_policy.h"

#include <errno.h>
#include <linux/filter.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace vet::sandbox {
namespace {

using ::vet::testing::IsOk;
using ::vet::testing::StatusIs;

// Exit codes a child uses besides 0 (success) and an errno value.
constexpr int kSetupFailed = 250;
constexpr int kUnexpectedSuccess = 251;

const SeccompPrograms& Programs() {
  static const SeccompPrograms* programs = [] {
    absl::StatusOr<SeccompPrograms> p = BuildSeccompPrograms();
    EXPECT_THAT(p, IsOk());
    return new SeccompPrograms(p.ok() ? *std::move(p) : SeccompPrograms{});
  }();
  return *programs;
}

// Forks; the child does what a zygote child does (setsid, load base, load
// signal_self for its pid), then runs `body` and exits with its result.
// Returns the raw wait status.
int RunSandboxed(const std::function<int()>& body) {
  const SeccompPrograms& programs = Programs();
  pid_t pid = fork();
  if (pid == 0) {
    if (setsid() < 0) _exit(kSetupFailed);
    if (!LoadSeccompProgram(programs.base).ok()) _exit(kSetupFailed);
    if (!LoadSeccompProgram(SignalSelfProgramFor(programs, getpid())).ok()) {
      _exit(kSetupFailed);
    }
    _exit(body());
  }
  int status = 0;
  EXPECT_GT(pid, 0) << std::strerror(errno);
  if (pid > 0) {
    EXPECT_EQ(waitpid(pid, &status, 0), pid);
  }
  return status;
}

// The errno a call that returns -1 failed with, or 0 if it succeeded.
int ErrnoOf(long result) { return result < 0 ? errno : 0; }

int ExitCode(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status); }

int SocketErrno(int domain, int type) {
  return RunSandboxed([domain, type] {
    int fd = socket(domain, type, 0);
    if (fd >= 0) {
      close(fd);
      return 0;
    }
    return errno;
  });
}

TEST(SeccompPolicyTest, BuildsNonEmptyPrograms) {
  const SeccompPrograms& p = Programs();
  EXPECT_GT(p.base.size(), 0u);
  EXPECT_EQ(p.base.size() % sizeof(sock_filter), 0u);
  EXPECT_EQ(p.signal_self.size() % sizeof(sock_filter), 0u);
  EXPECT_GT(p.signal_self_pid_index, 0);
  EXPECT_LT(static_cast<size_t>(p.signal_self_pid_index),
            p.signal_self.size() / sizeof(sock_filter));
}

TEST(SeccompPolicyTest, SignalSelfProgramForPatchesOnlyThePlaceholder) {
  const SeccompPrograms& p = Programs();
  const pid_t pid = 0x01020304;
  std::string patched = SignalSelfProgramFor(p, pid);
  ASSERT_EQ(patched.size(), p.signal_self.size());
  const size_t offset = 8 * static_cast<size_t>(p.signal_self_pid_index) + 4;
  for (size_t i = 0; i < patched.size(); ++i) {
    if (i >= offset && i < offset + 4) continue;
    EXPECT_EQ(patched[i], p.signal_self[i]) << "byte " << i;
  }
  EXPECT_EQ(patched.substr(offset, 4), std::string("\x04\x03\x02\x01", 4));
  // The placeholder instruction is the comparison against the pid.
  sock_filter insn;
  std::memcpy(&insn, patched.data() + sizeof(sock_filter) * p.signal_self_pid_index, 8);
  EXPECT_EQ(insn.code, BPF_JMP | BPF_JEQ | BPF_K);
  EXPECT_EQ(insn.k, 0x01020304u);
}

TEST(SeccompPolicyTest, SignalSelfMatchesDocumentedLayout) {
  const SeccompPrograms& p = Programs();
#if defined(__x86_64__)
  EXPECT_EQ(p.signal_self_pid_index, 13);
  EXPECT_EQ(p.signal_self.size(), 16 * sizeof(sock_filter));
#else
  EXPECT_EQ(p.signal_self_pid_index, 11);
  EXPECT_EQ(p.signal_self.size(), 14 * sizeof(sock_filter));
#endif
  sock_filter insn;
  std::memcpy(&insn, p.signal_self.data() + sizeof(sock_filter) * p.signal_self_pid_index, 8);
  EXPECT_EQ(insn.k, 0xfffffffeu);
}

TEST(SeccompPolicyTest, LoadRejectsMalformedProgram) {
  EXPECT_THAT(LoadSeccompProgram(""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(LoadSeccompProgram("abc"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(SeccompPolicyTest, DeniesNetworkSockets) {
  EXPECT_EQ(ExitCode(SocketErrno(AF_INET, SOCK_STREAM)), EPERM);
  EXPECT_EQ(ExitCode(SocketErrno(AF_INET, SOCK_DGRAM)), EPERM);
  EXPECT_EQ(ExitCode(SocketErrno(AF_INET6, SOCK_STREAM)), EPERM);
  EXPECT_EQ(ExitCode(SocketErrno(AF_NETLINK, SOCK_RAW)), EPERM);
  EXPECT_EQ(ExitCode(SocketErrno(AF_PACKET, SOCK_RAW)), EPERM);
}

TEST(SeccompPolicyTest, AllowsUnixSockets) {
  EXPECT_EQ(ExitCode(SocketErrno(AF_UNIX, SOCK_STREAM)), 0);
  EXPECT_EQ(ExitCode(RunSandboxed([] {
              int fds[2];
              return ErrnoOf(socketpair(AF_UNIX, SOCK_STREAM, 0, fds));
            })),
            0);
}

TEST(SeccompPolicyTest, DeniesFork) {
  EXPECT_EQ(ExitCode(RunSandboxed([] {
              pid_t pid = fork();
              if (pid == 0) _exit(0);
              if (pid > 0) return kUnexpectedSuccess;
              return errno;
            })),
            EPERM);
  EXPECT_EQ(ExitCode(RunSandboxed([] {
              // vfork via syscall: glibc's vfork() wrapper is fine too, but
              // the raw call keeps the child from sharing our stack.
              return ErrnoOf(syscall(SYS_vfork));
            })),
            EPERM);
}

TEST(SeccompPolicyTest, DeniesCloneOfProcessAndNamespaces) {
  EXPECT_EQ(ExitCode(RunSandboxed([] {
              long r = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
              if (r == 0) _exit(0);
              return r > 0 ? kUnexpectedSuccess : errno;
            })),
            EPERM);
  // CLONE_NEWNET with CLONE_THREAD is not rejected by the kernel itself; the
  // filter must. (Stack 0: were it allowed, the result would be unusable.)
  EXPECT_EQ(ExitCode(RunSandboxed([] {
              return ErrnoOf(syscall(
                  SYS_clone, CLONE_VM | CLONE_SIGHAND | CLONE_THREAD | CLONE_NEWNET, 0, 0, 0, 0));
            })),
            EPERM);
}

TEST(SeccompPolicyTest, AllowsThreads) {
  EXPECT_EQ(ExitCode(RunSandboxed([] {
              std::atomic<int> ran{0};
              std::thread t([&ran] { ran = 1; });
              t.join();
              return ran == 1 ? 0 : kSetupFailed;
            })),
            0);
}

TEST(SeccompPolicyTest, Clone3ReturnsEnosys) {
  EXPECT_EQ(ExitCode(RunSandboxed([] {
              // Arguments are irrelevant: the filter answers first.
              return ErrnoOf(syscall(SYS_clone3, nullptr, 0));
            })),
            ENOSYS);
}

TEST(SeccompPolicyTest, DeniesExecve) {
  EXPECT_EQ(ExitCode(RunSandboxed([] {
              char* const argv[] = {const_cast<char*>("/bin/true"), nullptr};
              char* const envp[] = {nullptr};
              execve("/bin/true", argv, envp);
              return errno;
            })),
            EPERM);
}

TEST(SeccompPolicyTest, DeniesMountUnshareSetuidPtrace) {
  EXPECT_EQ(
      ExitCode(RunSandboxed([] { return ErrnoOf(mount("none", "/tmp", "tmpfs", 0, nullptr)); })),
      EPERM);
  EXPECT_EQ(ExitCode(RunSandboxed([] { return ErrnoOf(unshare(CLONE_NEWUSER)); })), EPERM);
  EXPECT_EQ(ExitCode(RunSandboxed([] { return ErrnoOf(setuid(0)); })), EPERM);
  EXPECT_EQ(ExitCode(RunSandboxed(
                [] { return ErrnoOf(ptrace(PTRACE_ATTACH, getppid(), nullptr, nullptr)); })),
            EPERM);
  EXPECT_EQ(
      ExitCode(RunSandboxed([] { return ErrnoOf(ptrace(PTRACE_TRACEME, 0, nullptr, nullptr)); })),
      EPERM);
  EXPECT_EQ(ExitCode(RunSandboxed(
                [] { return ErrnoOf(syscall(SYS_personality, 0x0008 /*ADDR_NO_RANDOMIZE*/)); })),
            EPERM);
  EXPECT_EQ(ExitCode(RunSandboxed([] { return ErrnoOf(syscall(SYS_personality, 0xffffffffUL)); })),
            0);
}

TEST(SeccompPolicyTest, SignalsOnlyItself) {
  EXPECT_EQ(ExitCode(RunSandboxed([] { return ErrnoOf(kill(getppid(), 0)); })), EPERM);
  EXPECT_EQ(ExitCode(RunSandboxed([] { return ErrnoOf(kill(-1, 0)); })), EPERM);
  EXPECT_EQ(ExitCode(RunSandboxed([] { return ErrnoOf(kill(getpid(), 0)); })), 0);
  // RunSandboxed called setsid(), so group 0 is just this process.
  EXPECT_EQ(ExitCode(RunSandboxed([] { return ErrnoOf(kill(0, 0)); })), 0);
  EXPECT_EQ(
      ExitCode(RunSandboxed([] { return ErrnoOf(syscall(SYS_tgkill, getppid(), getppid(), 0)); })),
      EPERM);
  EXPECT_EQ(ExitCode(RunSandboxed([] { return ErrnoOf(syscall(SYS_tkill, getppid(), 0)); })),
            EPERM);
  EXPECT_EQ(
      ExitCode(RunSandboxed([] { return ErrnoOf(syscall(SYS_tgkill, getpid(), gettid(), 0)); })),
      0);
  // A pid whose low 32 bits are ours but with high bits set is the same pid
  // to the kernel, so it is allowed: the filter matches what the kernel does.
  EXPECT_EQ(
      ExitCode(RunSandboxed([] {
        return ErrnoOf(syscall(SYS_kill, (uint64_t{1} << 32) | static_cast<uint32_t>(getpid()), 0));
      })),
      0);
}

std::atomic<int> g_usr1_seen{0};

TEST(SeccompPolicyTest, RaiseWithHandlerWorks) {
  EXPECT_EQ(ExitCode(RunSandboxed([] {
              struct sigaction sa {};
              sa.sa_handler = [](int) { g_usr1_seen = 1; };
              if (sigaction(SIGUSR1, &sa, nullptr) != 0) return kSetupFailed;
              if (raise(SIGUSR1) != 0) return errno;
              return g_usr1_seen == 1 ? 0 : kSetupFailed;
            })),
            0);
}

TEST(SeccompPolicyTest, X32SyscallsDoNotGetThrough) {
#if defined(__x86_64__)
  // x32 getpid: if the filters let it through, it would return our pid
  // (kernel with x32) or ENOSYS (kernel without). Either filter kills first.
  int status = RunSandboxed([] {
    long r = syscall(0x40000000 | SYS_getpid);
    return r < 0 ? errno : 0;
  });
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) << "wait status " << status;
#else
  GTEST_SKIP() << "x32 exists only on x86_64";
#endif
}

TEST(SeccompPolicyTest, BaseAloneKillsX32Syscalls) {
#if defined(__x86_64__)
  const SeccompPrograms& p = Programs();
  pid_t pid = fork();
  if (pid == 0) {
    if (!LoadSeccompProgram(p.base).ok()) _exit(kSetupFailed);
    _exit(ErrnoOf(syscall(0x40000000 | SYS_getpid)));
  }
  ASSERT_GT(pid, 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) << "wait status " << status;
#else
  GTEST_SKIP() << "x32 exists only on x86_64";
#endif
}

TEST(SeccompPolicyTest, UnpatchedSignalSelfDeniesOwnPid) {
  const SeccompPrograms& p = Programs();
  pid_t pid = fork();
  if (pid == 0) {
    if (!LoadSeccompProgram(p.signal_self).ok()) _exit(kSetupFailed);
    _exit(ErrnoOf(kill(getpid(), 0)));
  }
  ASSERT_GT(pid, 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_EQ(ExitCode(status), EPERM);
}

}  // namespace
}  // namespace vet::sandbox
