// Seccomp filters for one question's worker: a forked child of a practice's
// zygote. The server builds the programs once (BuildSeccompPrograms) and sends
// their bytes to the zygote, which stays unfiltered so it can keep forking;
// each child sets NO_NEW_PRIVS, calls setsid(), and loads `base` and then
// SignalSelfProgramFor(its own pid) before running generated code. The kernel
// runs every loaded filter and the most restrictive verdict wins, so the two
// programs compose: `base` denies whole syscalls, `signal_self` confines
// kill/tkill/tgkill to the child itself.
#ifndef VET_CORE_SANDBOX_SECCOMP_POLICY_H_
#define VET_CORE_SANDBOX_SECCOMP_POLICY_H_

#include <sys/types.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vet::sandbox {

// Classic BPF programs: each string holds the bytes of a `struct sock_filter`
// array (8 bytes per instruction, host byte order) ready for
// prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &sock_fprog).
struct SeccompPrograms {
  // Built with libseccomp and exported with seccomp_export_bpf. Default ALLOW
  // for the native architecture; any other architecture (including x32 on
  // x86_64) kills the process. Returns EPERM for: socket() of any family but
  // AF_UNIX; fork, vfork, and clone without CLONE_THREAD or with a namespace
  // flag; execve(at); ptrace and cross-process access (process_vm_*, pidfd_*,
  // rt_(tg)sigqueueinfo, kcmp); mount and the new mount API, pivot_root,
  // chroot; unshare, setns; module and kexec loading; the keyring; bpf,
  // perf_event_open, userfaultfd, io_uring_*; set*id and setgroups; swapon/off,
  // reboot, acct, quotactl, syslog; personality() other than a query
  // (0xffffffff); open_by_handle_at, name_to_handle_at. clone3 returns ENOSYS
  // because its flags live in memory a filter cannot read; glibc then falls
  // back to clone(), whose flags it can.
  std::string base;

  // Hand-written. Layout, instruction by instruction (x86_64; aarch64 lacks
  // the two x32 instructions, so every later index is two lower):
  //    0  ld  seccomp_data.arch
  //    1  jeq AUDIT_ARCH_<build arch> ? 3 : 2
  //    2  ret KILL_PROCESS
  //    3  ld  seccomp_data.nr
  //    4  jge 0x40000000 (x32 bit) ? 5 : 6           [x86_64 only]
  //    5  ret KILL_PROCESS                            [x86_64 only]
  //    6  jeq __NR_kill   ? 10 : 7
  //    7  jeq __NR_tkill  ? 12 : 8
  //    8  jeq __NR_tgkill ? 12 : 9
  //    9  ret ALLOW
  //   10  ld  low 32 bits of args[0]                  (kill)
  //   11  jeq 0 ? 15 : 13                             (own process group)
  //   12  ld  low 32 bits of args[0]                  (tkill, tgkill)
  //   13  jeq <pid placeholder> ? 15 : 14             <- signal_self_pid_index
  //   14  ret ERRNO(EPERM)
  //   15  ret ALLOW
  // Only the low 32 bits are compared because the kernel reads these
  // arguments as a 32-bit pid_t and ignores the rest. The placeholder is
  // 0xfffffffe, never a pid, so an unpatched program denies everything but
  // kill(0, ...). kill(-pgid, ...) is denied even for the caller's own group;
  // kill(0, ...) is the way to signal it.
  std::string signal_self;

  // Index of the instruction whose k field holds the pid; the field is the
  // little-endian u32 at byte offset 8 * index + 4 of `signal_self`.
  int signal_self_pid_index = 0;
};

// Builds both programs for the architecture this binary was compiled for.
// Returns kInternal if libseccomp fails.
absl::StatusOr<SeccompPrograms> BuildSeccompPrograms();

// Returns programs.signal_self with `pid` written into its placeholder.
// `programs` must come from BuildSeccompPrograms().
std::string SignalSelfProgramFor(const SeccompPrograms& programs, pid_t pid);

// Sets NO_NEW_PRIVS and loads `program` (bytes of a sock_filter array) into
// the calling thread; threads it creates afterwards inherit it. Irreversible.
// Returns kInvalidArgument for a malformed program and kInternal (with errno)
// if the kernel refuses it. For tests and C++ callers; the zygote does the
// same two prctl calls itself.
absl::Status LoadSeccompProgram(absl::string_view program);

}  // namespace vet::sandbox

#endif  // VET_CORE_SANDBOX_SECCOMP_POLICY_H_
