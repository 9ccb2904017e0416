// cgroup v1 plumbing for sandbox workers: plain file writes under
// /sys/fs/cgroup/{memory,pids,cpu}. Every error names the file and the errno
// so an operator can see which limit the kernel refused.
#include "core/sandbox/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/common/log.h"

namespace vet::sandbox {
namespace {

// From linux/magic.h; spelled out to avoid depending on that header's age.
constexpr long kCgroupSuperMagic = 0x27e0eb;

// How long KillAll and the rmdir retries keep trying. Killed tasks leave a
// cgroup within milliseconds; a second covers a loaded machine without
// stalling a destructor for long.
constexpr absl::Duration kGiveUpAfter = absl::Seconds(1);
constexpr absl::Duration kRetryInterval = absl::Milliseconds(5);

std::string ErrnoMessage(absl::string_view what, absl::string_view path,
                         int err) {
  return absl::StrCat("cgroup: ", what, " ", path, ": ", std::strerror(err));
}

bool ValidName(absl::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

// Writes `value` with one write(2): cgroup files take one value per write,
// so a short write would be a different value. Returns 0 or the errno.
int WriteFileErrno(const std::string& path, absl::string_view value,
                   absl::string_view* failed_op) {
  *failed_op = "open";
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  *failed_op = "write";
  ssize_t n;
  do {
    n = write(fd, value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  int err = n < 0 ? errno : 0;
  if (err == 0 && static_cast<size_t>(n) != value.size()) err = EIO;
  close(fd);
  return err;
}

absl::Status WriteFile(const std::string& path, absl::string_view value) {
  absl::string_view op;
  int err = WriteFileErrno(path, value, &op);
  if (err == 0) return absl::OkStatus();
  return absl::InternalError(
      absl::StrCat(ErrnoMessage(op, path, err), " (value ", value, ")"));
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::InternalError(ErrnoMessage("open", path, errno));
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(fd);
      return absl::InternalError(ErrnoMessage("read", path, err));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

// The pids in a cgroup.procs file; empty if it cannot be read (the cgroup
// is gone, which for a caller that wants it empty is the same thing).
std::vector<pid_t> ReadProcs(const std::string& dir) {
  std::vector<pid_t> pids;
  absl::StatusOr<std::string> text = ReadFile(dir + "/cgroup.procs");
  if (!text.ok()) return pids;
  for (absl::string_view line :
       absl::StrSplit(*text, '\n', absl::SkipWhitespace())) {
    int pid;
    if (absl::SimpleAtoi(line, &pid) && pid > 0) pids.push_back(pid);
  }
  return pids;
}

// SIGKILLs everything in the given cgroup directories until they are empty
// or kGiveUpAfter passes. Returns true if they ended empty.
bool KillAllIn(const std::vector<std::string>& dirs) {
  const absl::Time deadline = absl::Now() + kGiveUpAfter;
  for (;;) {
    bool empty = true;
    for (const std::string& dir : dirs) {
      for (pid_t pid : ReadProcs(dir)) {
        empty = false;
        // ESRCH: exited between the read and the kill; nothing to do.
        kill(pid, SIGKILL);
      }
    }
    if (empty) return true;
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(kRetryInterval);
  }
}

// Removes `dir` if it exists, retrying on EBUSY while killed tasks finish
// exiting. Returns true if it is gone.
bool RemoveDir(const std::string& dir) {
  const absl::Time deadline = absl::Now() + kGiveUpAfter;
  for (;;) {
    if (rmdir(dir.c_str()) == 0 || errno == ENOENT) return true;
    if (errno != EBUSY || absl::Now() >= deadline) {
      LogWarning(ErrnoMessage("rmdir", dir, errno));
      return false;
    }
    absl::SleepFor(kRetryInterval);
  }
}

// Kills the tasks in and removes each directory; true if all are gone.
bool KillAndRemove(const std::vector<std::string>& dirs) {
  std::vector<std::string> present;
  for (const std::string& dir : dirs) {
    if (Exists(dir)) present.push_back(dir);
  }
  if (present.empty()) return true;
  KillAllIn(present);
  bool all_removed = true;
  for (const std::string& dir : present) all_removed &= RemoveDir(dir);
  return all_removed;
}

// Checks that <root>/<controller> is a cgroup v1 hierarchy with `file` in it.
absl::Status CheckHierarchy(const std::string& root,
                            absl::string_view controller,
                            absl::string_view file) {
  const std::string dir = absl::StrCat(root, "/", controller);
  struct statfs fs;
  if (statfs(dir.c_str(), &fs) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("no cgroup v1 ", controller,
                     " hierarchy: ", ErrnoMessage("statfs", dir, errno)));
  }
  if (fs.f_type != kCgroupSuperMagic) {
    return absl::FailedPreconditionError(
        absl::StrCat("no cgroup v1 ", controller, " hierarchy: ", dir,
                     " is not a cgroup v1 mount"));
  }
  const std::string probe = absl::StrCat(dir, "/", file);
  if (!Exists(probe)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no cgroup v1 ", controller, " controller: ", probe, " is missing"));
  }
  return absl::OkStatus();
}

absl::Status MakeDir(const std::string& dir) {
  if (mkdir(dir.c_str(), 0755) == 0 || errno == EEXIST) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(ErrnoMessage("mkdir", dir, errno));
}

// Names of the subdirectories of `dir`; empty if it cannot be read.
std::vector<std::string> SubDirs(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return names;
  while (struct dirent* e = readdir(d)) {
    if (e->d_type != DT_DIR) continue;
    absl::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    names.emplace_back(name);
  }
  closedir(d);
  return names;
}

// True if a process with this pid exists (EPERM means it does, just not
// ours to signal).
bool Alive(pid_t pid) { return kill(pid, 0) == 0 || errno == EPERM; }

}  // namespace

WorkerCgroup::WorkerCgroup(std::string name, std::string memory_dir,
                           std::string pids_dir, std::string cpu_dir,
                           int64_t memory_limit_bytes)
    : name_(std::move(name)),
      memory_dir_(std::move(memory_dir)),
      pids_dir_(std::move(pids_dir)),
      cpu_dir_(std::move(cpu_dir)),
      memory_limit_bytes_(memory_limit_bytes) {}

WorkerCgroup::~WorkerCgroup() { KillAndRemove(Dirs()); }

std::vector<std::string> WorkerCgroup::Dirs() const {
  std::vector<std::string> dirs = {memory_dir_, pids_dir_};
  if (!cpu_dir_.empty()) dirs.push_back(cpu_dir_);
  return dirs;
}

absl::Status WorkerCgroup::AddProcess(pid_t pid) {
  const std::string value = absl::StrCat(pid);
  for (const std::string& dir : Dirs()) {
    absl::Status s = WriteFile(dir + "/cgroup.procs", value);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

int64_t WorkerCgroup::CpuShares() const {
  if (cpu_dir_.empty()) return -1;
  absl::StatusOr<std::string> text = ReadFile(cpu_dir_ + "/cpu.shares");
  int64_t n;
  if (!text.ok() || !absl::SimpleAtoi(*text, &n)) return -1;
  return n;
}

int64_t WorkerCgroup::OomKills() const {
  absl::StatusOr<std::string> text =
      ReadFile(memory_dir_ + "/memory.oom_control");
  if (!text.ok()) return 0;
  for (absl::string_view line :
       absl::StrSplit(*text, '\n', absl::SkipWhitespace())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(line, absl::MaxSplits(' ', 1));
    int64_t n;
    if (kv.first == "oom_kill" && absl::SimpleAtoi(kv.second, &n)) return n;
  }
  return 0;
}

int64_t WorkerCgroup::MemoryUsageBytes() const {
  absl::StatusOr<std::string> text =
      ReadFile(memory_dir_ + "/memory.usage_in_bytes");
  int64_t n;
  if (!text.ok() || !absl::SimpleAtoi(*text, &n)) return -1;
  return n;
}

void WorkerCgroup::KillAll() {
  if (!KillAllIn(Dirs())) {
    LogWarning("cgroup: processes still in ", name_, " after SIGKILL");
  }
}

CgroupController::CgroupController(std::string root, std::string parent,
                                   bool has_cpu)
    : root_(std::move(root)), parent_(std::move(parent)), has_cpu_(has_cpu) {}

CgroupController::~CgroupController() {
  // Fails with EBUSY or ENOTEMPTY while any worker cgroup is inside: fine.
  for (const std::string& dir : Parents()) ::rmdir(dir.c_str());
}

std::string CgroupController::MemoryParent() const {
  return absl::StrCat(root_, "/memory/", parent_);
}
std::string CgroupController::PidsParent() const {
  return absl::StrCat(root_, "/pids/", parent_);
}
std::string CgroupController::CpuParent() const {
  return absl::StrCat(root_, "/cpu/", parent_);
}

std::vector<std::string> CgroupController::Parents() const {
  std::vector<std::string> dirs = {MemoryParent(), PidsParent()};
  if (has_cpu_) dirs.push_back(CpuParent());
  return dirs;
}

absl::StatusOr<std::unique_ptr<CgroupController>> CgroupController::Detect(
    std::string root, std::string parent, int parent_cpu_shares) {
  if (!ValidName(parent)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cgroup: parent name '", parent, "' must be non-empty [A-Za-z0-9_.-]"));
  }
  // The kernel's range for cpu.shares (v1).
  if (parent_cpu_shares < 2 || parent_cpu_shares > 262144) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cgroup: parent cpu.shares ", parent_cpu_shares, " is outside 2..262144"));
  }
  if (geteuid() != 0) {
    return absl::FailedPreconditionError(
        "cgroup: not running as root, so cannot create cgroups");
  }
  absl::Status s = CheckHierarchy(root, "memory", "memory.limit_in_bytes");
  if (!s.ok()) return s;
  // The root pids cgroup has no pids.max; cgroup.procs proves the mount.
  s = CheckHierarchy(root, "pids", "cgroup.procs");
  if (!s.ok()) return s;
  // CPU weights are worth having, not worth refusing the limits for.
  absl::Status cpu = CheckHierarchy(root, "cpu", "cpu.shares");
  if (cpu.ok()) {
    const std::string dir = absl::StrCat(root, "/cpu/", parent);
    cpu = MakeDir(dir);
    if (cpu.ok() && access(dir.c_str(), W_OK) != 0) {
      cpu = absl::FailedPreconditionError(ErrnoMessage("cannot write", dir, errno));
    }
    if (cpu.ok()) cpu = WriteFile(dir + "/cpu.shares", absl::StrCat(parent_cpu_shares));
  }
  if (!cpu.ok()) {
    LogWarning("cgroup: no CPU weight per practice (", cpu.message(),
               "): a practice running several executions at once gets a "
               "CPU share per execution");
  }
  std::unique_ptr<CgroupController> controller(
      new CgroupController(std::move(root), std::move(parent), cpu.ok()));
  for (const std::string& dir :
       {controller->MemoryParent(), controller->PidsParent()}) {
    s = MakeDir(dir);
    if (!s.ok()) return s;
    // Root may still be refused (read-only mount, a container's view).
    if (access(dir.c_str(), W_OK) != 0) {
      return absl::FailedPreconditionError(
          ErrnoMessage("cannot write", dir, errno));
    }
  }
  // A child cgroup's limits are only enforced if pids.max files exist in it.
  if (!Exists(controller->PidsParent() + "/pids.max")) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cgroup: ", controller->PidsParent(), "/pids.max is missing"));
  }
  return controller;
}

absl::StatusOr<std::unique_ptr<WorkerCgroup>> CgroupController::Create(
    absl::string_view name, int64_t memory_bytes, int max_pids) {
  if (!ValidName(name)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cgroup: worker name '", name, "' must be non-empty [A-Za-z0-9_.-]"));
  }
  if (memory_bytes <= 0 || max_pids <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cgroup: limits must be positive (memory ", memory_bytes,
                     ", pids ", max_pids, ")"));
  }
  std::string full_name = absl::StrCat(getpid(), "-", name);
  std::string memory_dir = absl::StrCat(MemoryParent(), "/", full_name);
  std::string pids_dir = absl::StrCat(PidsParent(), "/", full_name);
  std::string cpu_dir =
      has_cpu_ ? absl::StrCat(CpuParent(), "/", full_name) : std::string();
  for (const std::string& dir : {memory_dir, pids_dir, cpu_dir}) {
    if (dir.empty()) continue;
    if (Exists(dir)) {
      return absl::AlreadyExistsError(absl::StrCat("cgroup: ", dir, " exists"));
    }
  }
  // Another server (or executor) whose last worker just went may remove an
  // empty parent at any moment (~CgroupController): make it again and retry.
  auto make = [](const std::string& parent, const std::string& dir) -> int {
    for (int tries = 0; tries < 5; ++tries) {
      if (mkdir(dir.c_str(), 0755) == 0) return 0;
      if (errno != ENOENT) return errno;
      if (mkdir(parent.c_str(), 0755) != 0 && errno != EEXIST) return errno;
    }
    return ENOENT;
  };
  if (int err = make(MemoryParent(), memory_dir); err != 0) {
    return absl::InternalError(ErrnoMessage("mkdir", memory_dir, err));
  }
  if (int err = make(PidsParent(), pids_dir); err != 0) {
    rmdir(memory_dir.c_str());
    return absl::InternalError(ErrnoMessage("mkdir", pids_dir, err));
  }
  if (has_cpu_) {
    if (int err = make(CpuParent(), cpu_dir); err != 0) {
      rmdir(memory_dir.c_str());
      rmdir(pids_dir.c_str());
      return absl::InternalError(ErrnoMessage("mkdir", cpu_dir, err));
    }
  }
  // From here the WorkerCgroup's destructor cleans up on any error.
  std::unique_ptr<WorkerCgroup> cgroup(new WorkerCgroup(
      std::move(full_name), memory_dir, pids_dir, cpu_dir, memory_bytes));

  absl::Status s = WriteFile(memory_dir + "/memory.limit_in_bytes",
                             absl::StrCat(memory_bytes));
  if (!s.ok()) return s;
  // memsw (memory + swap) must be >= the memory limit, so it is set second.
  // Without it a worker on a machine with swap would page out instead of
  // being OOM-killed. EINVAL here (swap accounting off) is not fatal.
  const std::string memsw = memory_dir + "/memory.memsw.limit_in_bytes";
  if (Exists(memsw)) {
    absl::string_view op;
    int err = WriteFileErrno(memsw, absl::StrCat(memory_bytes), &op);
    if (err != 0 && err != EINVAL) {
      return absl::InternalError(ErrnoMessage(op, memsw, err));
    }
  }
  s = WriteFile(pids_dir + "/pids.max", absl::StrCat(max_pids));
  if (!s.ok()) return s;
  if (has_cpu_) {
    // Written although it is the kernel's default: the weight is the point
    // of the cgroup, and a parent set up by hand may hand down another.
    s = WriteFile(cpu_dir + "/cpu.shares", absl::StrCat(kCpuShares));
    if (!s.ok()) return s;
  }
  return cgroup;
}

int CgroupController::SweepStale() {
  const pid_t self = getpid();
  std::set<std::string> names;
  for (const std::string& parent : Parents()) {
    for (std::string& name : SubDirs(parent)) names.insert(std::move(name));
  }
  int removed = 0;
  for (const std::string& name : names) {
    absl::string_view pid_text = name;
    size_t dash = pid_text.find('-');
    if (dash == absl::string_view::npos) continue;
    int pid;
    if (!absl::SimpleAtoi(pid_text.substr(0, dash), &pid) || pid <= 0) {
      continue;  // Not ours: only "<pid>-..." names are.
    }
    if (pid == self || Alive(pid)) continue;
    std::vector<std::string> dirs;
    for (const std::string& parent : Parents()) {
      dirs.push_back(absl::StrCat(parent, "/", name));
    }
    if (KillAndRemove(dirs)) {
      ++removed;
    } else {
      LogWarning("cgroup: could not remove stale cgroup ", name);
    }
  }
  return removed;
}

std::string CgroupController::description() const {
  return absl::StrCat("cgroup v1 memory+pids", has_cpu_ ? "+cpu" : "", " under ",
                      root_, "/*/", parent_);
}

}  // namespace vet::sandbox
