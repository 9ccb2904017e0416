// Builds the seccomp programs described in seccomp_policy.h: `base` with
// libseccomp (which handles per-architecture syscall numbers and argument
// comparisons), `signal_self` by hand (so the zygote can patch in a pid
// without linking libseccomp or rebuilding a filter per fork).
#include "core/sandbox/seccomp_policy.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "core/common/unique_fd.h"

namespace vet::sandbox {
namespace {

#if defined(__x86_64__)
constexpr uint32_t kAuditArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr uint32_t kAuditArch = AUDIT_ARCH_AARCH64;
#else
#error "seccomp_policy: only x86_64 and aarch64 are supported"
#endif

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "signal_self reads the low half of args[0] at its lower address");
static_assert(sizeof(sock_filter) == 8, "pid placeholder offset assumes 8");

// Never a real pid (pid_max is at most 2^22), so an unpatched program denies
// every kill/tkill/tgkill except kill(0, ...).
constexpr uint32_t kPidPlaceholder = 0xfffffffe;

// On x86_64 a syscall number with this bit set is an x32 syscall, which
// reports AUDIT_ARCH_X86_64 too; a filter must reject it by number.
constexpr uint32_t kX32SyscallBit = 0x40000000;

std::string LibseccompError(absl::string_view what, int rc) {
  return absl::StrCat("seccomp: ", what, ": ", std::strerror(-rc));
}

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using ScmpCtx = std::unique_ptr<void, CtxDeleter>;

// Adds `action` for the syscall called `name` when all of `args` hold. A name
// this architecture lacks (or only has as a libseccomp pseudo-number) is
// skipped: there is nothing to deny.
absl::Status AddRule(void* ctx, uint32_t action, const char* name,
                     std::vector<scmp_arg_cmp> args = {}) {
  int nr = seccomp_syscall_resolve_name(name);
  if (nr == __NR_SCMP_ERROR || nr < 0) return absl::OkStatus();
  int rc = seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned int>(args.size()),
                                  args.empty() ? nullptr : args.data());
  if (rc != 0) {
    return absl::InternalError(LibseccompError(absl::StrCat("rule for ", name), rc));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> BuildBaseProgram() {
  ScmpCtx ctx(seccomp_init(SCMP_ACT_ALLOW));
  if (ctx == nullptr) {
    return absl::InternalError("seccomp: seccomp_init failed");
  }
  // KILL_PROCESS rather than libseccomp's default KILL_THREAD: a lone killed
  // thread would leave the interpreter half-alive.
  int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
  if (rc != 0) {
    return absl::InternalError(LibseccompError("bad-arch action", rc));
  }

  const uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
  // No network: AF_UNIX stays for socketpair-style IPC Python may use.
  // socket()'s domain is an int, hence the 32-bit comparison.
  absl::Status s = AddRule(ctx.get(), eperm, "socket", {SCMP_A0_32(SCMP_CMP_NE, AF_UNIX)});
  if (!s.ok()) return s;

  // Threads yes, processes no: a thread is clone() with CLONE_THREAD.
  s = AddRule(ctx.get(), eperm, "clone", {SCMP_A0_64(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0)});
  if (!s.ok()) return s;
  // Most namespace flags are already EINVAL with CLONE_THREAD, but not all
  // (CLONE_NEWNET); deny each outright rather than rely on that.
  for (uint64_t flag : {CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER,
                        CLONE_NEWPID, CLONE_NEWNET}) {
    s = AddRule(ctx.get(), eperm, "clone", {SCMP_A0_64(SCMP_CMP_MASKED_EQ, flag, flag)});
    if (!s.ok()) return s;
  }
  // clone3 passes its flags in a struct the filter cannot dereference.
  // ENOSYS (not EPERM) makes glibc retry thread creation with clone().
  s = AddRule(ctx.get(), SCMP_ACT_ERRNO(ENOSYS), "clone3");
  if (!s.ok()) return s;

  // The interpreter's own personality query (0xffffffff) stays legal;
  // setting one (e.g. READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE) does not.
  s = AddRule(ctx.get(), eperm, "personality", {SCMP_A0_32(SCMP_CMP_NE, 0xffffffffu)});
  if (!s.ok()) return s;

  static constexpr const char* kDenied[] = {
      // Processes and programs.
      "fork",
      "vfork",
      "execve",
      "execveat",
      // Reaching into other processes.
      "ptrace",
      "process_vm_readv",
      "process_vm_writev",
      "pidfd_open",
      "pidfd_getfd",
      "pidfd_send_signal",
      "rt_sigqueueinfo",
      "rt_tgsigqueueinfo",
      "kcmp",
      // The filesystem view.
      "mount",
      "umount2",
      "pivot_root",
      "chroot",
      "move_mount",
      "open_tree",
      "fsopen",
      "fsmount",
      "fspick",
      "mount_setattr",
      // Namespaces.
      "unshare",
      "setns",
      // The kernel itself.
      "init_module",
      "finit_module",
      "delete_module",
      "kexec_load",
      "kexec_file_load",
      "add_key",
      "request_key",
      "keyctl",
      "bpf",
      "perf_event_open",
      "userfaultfd",
      "io_uring_setup",
      "io_uring_enter",
      "io_uring_register",
      // Identity.
      "setuid",
      "setgid",
      "setreuid",
      "setregid",
      "setresuid",
      "setresgid",
      "setfsuid",
      "setfsgid",
      "setgroups",
      // Machine administration.
      "swapon",
      "swapoff",
      "reboot",
      "acct",
      "quotactl",
      "syslog",
      "open_by_handle_at",
      "name_to_handle_at",
  };
  for (const char* name : kDenied) {
    s = AddRule(ctx.get(), eperm, name);
    if (!s.ok()) return s;
  }

  // seccomp_export_bpf writes to a file descriptor; a memfd keeps that off
  // the filesystem.
  UniqueFd fd(memfd_create("vet-seccomp-bpf", MFD_CLOEXEC));
  if (!fd.valid()) {
    return absl::InternalError(absl::StrCat("seccomp: memfd_create: ", std::strerror(errno)));
  }
  rc = seccomp_export_bpf(ctx.get(), fd.get());
  if (rc != 0) return absl::InternalError(LibseccompError("export", rc));
  off_t size = lseek(fd.get(), 0, SEEK_END);
  if (size <= 0 || size % sizeof(sock_filter) != 0) {
    return absl::InternalError(absl::StrCat("seccomp: exported program has size ", size));
  }
  std::string program(static_cast<size_t>(size), '\0');
  size_t done = 0;
  while (done < program.size()) {
    ssize_t n =
        pread(fd.get(), program.data() + done, program.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return absl::InternalError(
          absl::StrCat("seccomp: reading exported program: ",
                       n < 0 ? std::strerror(errno) : "unexpected end of file"));
    }
    done += static_cast<size_t>(n);
  }
  return program;
}

constexpr uint32_t kArgs0Low =
    offsetof(struct seccomp_data, args) + 0;  // little endian: low half first

struct SignalSelf {
  std::vector<sock_filter> insns;
  int pid_index;
};

SignalSelf BuildSignalSelf() {
  std::vector<sock_filter> p;
  auto stmt = [&p](uint16_t code, uint32_t k) { p.push_back(sock_filter BPF_STMT(code, k)); };
  auto jump = [&p](uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) {
    p.push_back(sock_filter BPF_JUMP(code, k, jt, jf));
  };
  stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
  jump(BPF_JMP | BPF_JEQ | BPF_K, kAuditArch, 1, 0);
  stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
  stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
#if defined(__x86_64__)
  // x32 has its own kill/tkill numbers; without this they would pass below.
  jump(BPF_JMP | BPF_JGE | BPF_K, kX32SyscallBit, 0, 1);
  stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
#endif
  // Jump offsets count instructions skipped; see the layout in the header.
  jump(BPF_JMP | BPF_JEQ | BPF_K, __NR_kill, 3, 0);    // -> ld (kill)
  jump(BPF_JMP | BPF_JEQ | BPF_K, __NR_tkill, 4, 0);   // -> ld (tkill)
  jump(BPF_JMP | BPF_JEQ | BPF_K, __NR_tgkill, 3, 0);  // -> ld (tgkill)
  stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  // kill: pid 0 is the caller's own process group, which after setsid()
  // holds only the caller.
  stmt(BPF_LD | BPF_W | BPF_ABS, kArgs0Low);
  jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 3, 1);  // -> ret ALLOW : jeq pid
  // tkill, tgkill.
  stmt(BPF_LD | BPF_W | BPF_ABS, kArgs0Low);
  const int pid_index = static_cast<int>(p.size());
  jump(BPF_JMP | BPF_JEQ | BPF_K, kPidPlaceholder, 1, 0);
  stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA));
  stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  return {std::move(p), pid_index};
}

}  // namespace

absl::StatusOr<SeccompPrograms> BuildSeccompPrograms() {
  absl::StatusOr<std::string> base = BuildBaseProgram();
  if (!base.ok()) return base.status();
  SignalSelf signal_self = BuildSignalSelf();
  SeccompPrograms programs;
  programs.base = *std::move(base);
  programs.signal_self.assign(reinterpret_cast<const char*>(signal_self.insns.data()),
                              signal_self.insns.size() * sizeof(sock_filter));
  programs.signal_self_pid_index = signal_self.pid_index;
  return programs;
}

std::string SignalSelfProgramFor(const SeccompPrograms& programs, pid_t pid) {
  std::string program = programs.signal_self;
  const size_t offset = static_cast<size_t>(programs.signal_self_pid_index) * sizeof(sock_filter) +
                        offsetof(sock_filter, k);
  const uint32_t k = static_cast<uint32_t>(pid);
  if (offset + sizeof(k) <= program.size()) {
    std::memcpy(program.data() + offset, &k, sizeof(k));
  }
  return program;
}

absl::Status LoadSeccompProgram(absl::string_view program) {
  if (program.empty() || program.size() % sizeof(sock_filter) != 0 ||
      program.size() / sizeof(sock_filter) > BPF_MAXINSNS) {
    return absl::InvalidArgumentError(
        absl::StrCat("seccomp: program of ", program.size(),
                     " bytes is not a sock_filter array the kernel accepts"));
  }
  // Copied so the instructions are aligned for the kernel's copy_from_user
  // and the string may be any buffer.
  std::vector<sock_filter> insns(program.size() / sizeof(sock_filter));
  std::memcpy(insns.data(), program.data(), program.size());
  sock_fprog fprog{};
  fprog.len = static_cast<unsigned short>(insns.size());
  fprog.filter = insns.data();
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return absl::InternalError(
        absl::StrCat("seccomp: PR_SET_NO_NEW_PRIVS: ", std::strerror(errno)));
  }
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0) != 0) {
    return absl::InternalError(absl::StrCat("seccomp: PR_SET_SECCOMP: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace vet::sandbox
