// cgroup plumbing for sandbox workers: plain file writes under
// /sys/fs/cgroup/{memory,pids,cpu} (v1) or under the server's own delegated
// cgroup (v2). Every error names the file and the errno so an operator can
// see which limit the kernel refused.
#include "core/sandbox/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/common/clock.h"
#include "core/common/log.h"
#include "core/common/status_macros.h"
#include "core/common/unique_fd.h"

namespace vet::sandbox {
namespace {

// From linux/magic.h; spelled out to avoid depending on that header's age.
constexpr long kCgroupSuperMagic = 0x27e0eb;

// How long KillAll and the rmdir retries keep trying. Killed tasks leave a
// cgroup within milliseconds; a second covers a loaded machine without
// stalling a destructor for long.
constexpr absl::Duration kGiveUpAfter = absl::Seconds(1);
constexpr absl::Duration kRetryInterval = absl::Milliseconds(5);

std::string ErrnoMessage(absl::string_view what, absl::string_view path, int err) {
  return absl::StrCat("cgroup: ", what, " ", path, ": ", std::strerror(err));
}

bool ValidName(absl::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

// How the v2 path opens a file to write it: as the shell's `>` does
// (O_CREAT | O_TRUNC), which cgroupfs accepts for its existing files (a
// missing one is EACCES there). It lets the tests run the v2 path against a
// plain folder with no kernel to make the interface files, and read back
// exactly the files it wrote. The v1 path opens files as it always has.
constexpr int kCreateFlags = O_CREAT | O_TRUNC;

// Writes `value` with one write(2): cgroup files take one value per write,
// so a short write would be a different value. Returns 0 or the errno.
int WriteFileErrno(const std::string& path, absl::string_view value, absl::string_view* failed_op,
                   int extra_flags = 0) {
  *failed_op = "open";
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC | extra_flags, 0644));
  if (!fd.valid()) return errno;
  *failed_op = "write";
  ssize_t n;
  do {
    n = write(fd.get(), value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  int err = n < 0 ? errno : 0;
  if (err == 0 && static_cast<size_t>(n) != value.size()) err = EIO;
  return err;
}

absl::Status WriteFile(const std::string& path, absl::string_view value, int extra_flags = 0) {
  absl::string_view op;
  int err = WriteFileErrno(path, value, &op, extra_flags);
  if (err == 0) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(ErrnoMessage(op, path, err), " (value ", value, ")"));
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return absl::InternalError(ErrnoMessage("open", path, errno));
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::InternalError(ErrnoMessage("read", path, errno));
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// The pids in a cgroup.procs file; empty if it cannot be read (the cgroup
// is gone, which for a caller that wants it empty is the same thing).
std::vector<pid_t> ReadProcs(const std::string& dir) {
  std::vector<pid_t> pids;
  absl::StatusOr<std::string> text = ReadFile(dir + "/cgroup.procs");
  if (!text.ok()) return pids;
  for (absl::string_view line : absl::StrSplit(*text, '\n', absl::SkipWhitespace())) {
    int pid;
    if (absl::SimpleAtoi(line, &pid) && pid > 0) pids.push_back(pid);
  }
  return pids;
}

// SIGKILLs everything in the given cgroup directories until they are empty
// or kGiveUpAfter passes. Where a directory has cgroup.kill (v2, kernel
// 5.14+) the kernel kills its whole tree first, forks racing the kill
// included; the loop then only waits for the tasks to leave. Returns true
// if they ended empty.
bool KillAllIn(const std::vector<std::string>& dirs) {
  for (const std::string& dir : dirs) {
    const std::string kill_file = dir + "/cgroup.kill";
    if (!Exists(kill_file)) continue;
    // A failure falls back to the per-pid kills below.
    absl::Status s = WriteFile(kill_file, "1");
    if (!s.ok()) LogWarning(s.message());
  }
  const absl::Duration deadline = MonotonicNow() + kGiveUpAfter;
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
    if (MonotonicNow() >= deadline) return false;
    absl::SleepFor(kRetryInterval);
  }
}

// Removes `dir` if it exists, retrying on EBUSY while killed tasks finish
// exiting. Returns true if it is gone.
bool RemoveDir(const std::string& dir) {
  const absl::Duration deadline = MonotonicNow() + kGiveUpAfter;
  for (;;) {
    if (rmdir(dir.c_str()) == 0 || errno == ENOENT) return true;
    if (errno != EBUSY || MonotonicNow() >= deadline) {
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
absl::Status CheckHierarchy(const std::string& root, absl::string_view controller,
                            absl::string_view file) {
  const std::string dir = absl::StrCat(root, "/", controller);
  struct statfs fs;
  if (statfs(dir.c_str(), &fs) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no cgroup v1 ", controller, " hierarchy: ", ErrnoMessage("statfs", dir, errno)));
  }
  if (fs.f_type != kCgroupSuperMagic) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no cgroup v1 ", controller, " hierarchy: ", dir, " is not a cgroup v1 mount"));
  }
  const std::string probe = absl::StrCat(dir, "/", file);
  if (!Exists(probe)) {
    return absl::FailedPreconditionError(
        absl::StrCat("no cgroup v1 ", controller, " controller: ", probe, " is missing"));
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

// The 'key N' line of a flat-keyed cgroup file (memory.oom_control,
// memory.events), or 0 if absent or unreadable.
int64_t KeyedValue(const std::string& path, absl::string_view key) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return 0;
  for (absl::string_view line : absl::StrSplit(*text, '\n', absl::SkipWhitespace())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(line, absl::MaxSplits(' ', 1));
    int64_t n;
    if (kv.first == key && absl::SimpleAtoi(kv.second, &n)) return n;
  }
  return 0;
}

// A single-number cgroup file, or -1 if unreadable.
int64_t NumberIn(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  int64_t n;
  if (!text.ok() || !absl::SimpleAtoi(*text, &n)) return -1;
  return n;
}

// The cgroup v2 path of this process ("/system.slice/x.service") from a
// /proc/<pid>/cgroup text: its "0::" line, the only one on a v2-only host.
absl::StatusOr<std::string> UnifiedPath(const std::string& proc_file) {
  absl::StatusOr<std::string> text = ReadFile(proc_file);
  if (!text.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("cgroup v2: ", text.status().message()));
  }
  for (absl::string_view line : absl::StrSplit(*text, '\n', absl::SkipWhitespace())) {
    if (absl::ConsumePrefix(&line, "0::") && absl::StartsWith(line, "/")) {
      return std::string(line);
    }
  }
  return absl::FailedPreconditionError(
      absl::StrCat("cgroup v2: no \"0::/path\" line in ", proc_file,
                   " (this process is in no cgroup v2 hierarchy)"));
}

// The controllers listed in <own_dir>/cgroup.controllers: those its parent
// delegated to it.
absl::StatusOr<std::set<std::string>> DelegatedControllers(const std::string& own_dir) {
  absl::StatusOr<std::string> listed = ReadFile(own_dir + "/cgroup.controllers");
  if (!listed.ok()) {
    return absl::FailedPreconditionError(listed.status().message());
  }
  std::set<std::string> delegated;
  for (absl::string_view c : absl::StrSplit(*listed, absl::ByAnyChar(" \n"), absl::SkipEmpty())) {
    delegated.emplace(c);
  }
  return delegated;
}

// "No internal processes": a v2 cgroup that enables controllers for its
// children may hold no process itself, so this process moves into the leaf
// `server_dir` first (its threads move with it), then `own_dir` enables
// `controllers` ("+memory +pids +cpu") for its children.
absl::Status MoveIntoLeafAndEnable(const std::string& own_dir, const std::string& server_dir,
                                   const std::string& controllers) {
  // Checked before moving, so a refusal leaves this process where it was:
  // the kernel would refuse the controllers anyway (EBUSY), and the others
  // are not this server's to move (a login shell's scope, a container's
  // init).
  std::vector<std::string> others;
  for (pid_t pid : ReadProcs(own_dir)) {
    if (pid != getpid()) others.push_back(absl::StrCat(pid));
  }
  if (!others.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cgroup v2: ", own_dir, " holds other processes than this server (",
                     absl::StrJoin(others, " "),
                     "), so it may not hand out controllers: run the server as the only "
                     "process of a delegated cgroup (systemd's Delegate=yes)"));
  }
  absl::Status s = MakeDir(server_dir);
  if (s.ok()) {
    s = WriteFile(server_dir + "/cgroup.procs", absl::StrCat(getpid()), kCreateFlags);
  }
  if (!s.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cgroup v2: cannot move the server into its leaf: ", s.message()));
  }
  const std::string control = own_dir + "/cgroup.subtree_control";
  absl::string_view op;
  int err = WriteFileErrno(control, controllers, &op, kCreateFlags);
  if (err == 0) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat(ErrnoMessage(op, control, err), " (value ", controllers, ")",
                   err == EBUSY ? absl::StrCat(": another process is still in ", own_dir,
                                               ", which a cgroup handing out controllers "
                                               "may not hold")
                                : ""));
}

// The v2 cpu.weight that weighs as `shares` v1 cpu.shares do, within the
// kernel's 1..10000.
int CpuWeightForShares(int shares) {
  const int64_t weight =
      int64_t{shares} * CgroupController::kCpuWeight / CgroupController::kCpuShares;
  return static_cast<int>(std::clamp<int64_t>(weight, 1, 10000));
}

}  // namespace

WorkerCgroup::WorkerCgroup(std::string name, Layout layout, int64_t memory_limit_bytes)
    : name_(std::move(name)), layout_(std::move(layout)), memory_limit_bytes_(memory_limit_bytes) {}

WorkerCgroup::~WorkerCgroup() { KillAndRemove(Dirs()); }

std::vector<std::string> WorkerCgroup::Dirs() const {
  if (layout_.unified) return {layout_.leaf};
  std::vector<std::string> dirs = {layout_.memory_dir, layout_.pids_dir};
  if (!layout_.cpu_dir.empty()) dirs.push_back(layout_.cpu_dir);
  return dirs;
}

absl::Status WorkerCgroup::AddProcess(pid_t pid) {
  const std::string value = absl::StrCat(pid);
  for (const std::string& dir : Dirs()) {
    absl::Status s = WriteFile(dir + "/cgroup.procs", value, layout_.unified ? kCreateFlags : 0);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

int64_t WorkerCgroup::CpuShares() const {
  if (layout_.unified || layout_.cpu_dir.empty()) return -1;
  return NumberIn(layout_.cpu_dir + "/cpu.shares");
}

int64_t WorkerCgroup::CpuWeight() const {
  if (!layout_.unified || layout_.cpu_dir.empty()) return -1;
  return NumberIn(layout_.cpu_dir + "/cpu.weight");
}

int64_t WorkerCgroup::OomKills() const {
  if (layout_.memory_dir.empty()) return 0;
  // v2's memory.events also counts "oom" (the limit was hit), which may
  // end in reclaim rather than a kill; oom_kill is the kill.
  return KeyedValue(
      layout_.memory_dir + (layout_.unified ? "/memory.events" : "/memory.oom_control"),
      "oom_kill");
}

int64_t WorkerCgroup::MemoryUsageBytes() const {
  if (layout_.memory_dir.empty()) return -1;
  return NumberIn(layout_.memory_dir +
                  (layout_.unified ? "/memory.current" : "/memory.usage_in_bytes"));
}

void WorkerCgroup::KillAll() {
  if (!KillAllIn(Dirs())) {
    LogWarning("cgroup: processes still in ", name_, " after SIGKILL");
  }
}

CgroupController::CgroupController(std::string root, std::string parent, bool has_cpu,
                                   std::unique_ptr<Unified> unified)
    : root_(std::move(root)),
      parent_(std::move(parent)),
      has_cpu_(has_cpu),
      unified_(std::move(unified)) {}

CgroupController::~CgroupController() {
  // Fails with EBUSY or ENOTEMPTY while any worker cgroup is inside: fine.
  for (const std::string& dir : Parents()) ::rmdir(dir.c_str());
}

std::string CgroupController::MemoryParent() const {
  return absl::StrCat(root_, "/memory/", parent_);
}
std::string CgroupController::PidsParent() const { return absl::StrCat(root_, "/pids/", parent_); }
std::string CgroupController::CpuParent() const { return absl::StrCat(root_, "/cpu/", parent_); }

std::string CgroupController::UnifiedParent() const {
  return absl::StrCat(unified_->own_dir, "/", parent_);
}

std::vector<std::string> CgroupController::Parents() const {
  if (unified_ != nullptr) return {UnifiedParent()};
  std::vector<std::string> dirs = {MemoryParent(), PidsParent()};
  if (has_cpu_) dirs.push_back(CpuParent());
  return dirs;
}

absl::StatusOr<std::unique_ptr<CgroupController>> CgroupController::Detect(std::string root,
                                                                           std::string parent,
                                                                           int parent_cpu_shares) {
  Options options;
  options.root = std::move(root);
  options.parent = std::move(parent);
  options.parent_cpu_shares = parent_cpu_shares;
  return Detect(std::move(options));
}

absl::StatusOr<std::unique_ptr<CgroupController>> CgroupController::Detect(Options options) {
  if (!ValidName(options.parent)) {
    return absl::InvalidArgumentError(absl::StrCat("cgroup: parent name '", options.parent,
                                                   "' must be non-empty [A-Za-z0-9_.-]"));
  }
  // The kernel's range for cpu.shares (v1).
  if (options.parent_cpu_shares < 2 || options.parent_cpu_shares > 262144) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cgroup: parent cpu.shares ", options.parent_cpu_shares, " is outside 2..262144"));
  }
  // Only the top of a cgroup2 mount has cgroup.controllers; a hybrid host's
  // /sys/fs/cgroup is a tmpfs of v1 hierarchies (its v2 mount at unified/
  // holds no controller the v1 ones took), so it keeps the v1 path.
  if (Exists(options.root + "/cgroup.controllers")) {
    return DetectV2(std::move(options));
  }
  return DetectV1(std::move(options));
}

absl::StatusOr<std::unique_ptr<CgroupController>> CgroupController::DetectV1(Options options) {
  std::string& root = options.root;
  std::string& parent = options.parent;
  const int parent_cpu_shares = options.parent_cpu_shares;
  if (geteuid() != 0) {
    return absl::FailedPreconditionError("cgroup: not running as root, so cannot create cgroups");
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
  for (const std::string& dir : {controller->MemoryParent(), controller->PidsParent()}) {
    s = MakeDir(dir);
    if (!s.ok()) return s;
    // Root may still be refused (read-only mount, a container's view).
    if (access(dir.c_str(), W_OK) != 0) {
      return absl::FailedPreconditionError(ErrnoMessage("cannot write", dir, errno));
    }
  }
  // A child cgroup's limits are only enforced if pids.max files exist in it.
  if (!Exists(controller->PidsParent() + "/pids.max")) {
    return absl::FailedPreconditionError(
        absl::StrCat("cgroup: ", controller->PidsParent(), "/pids.max is missing"));
  }
  return controller;
}

std::string CgroupController::V2Controllers(absl::string_view prefix) const {
  std::vector<std::string> names;
  if (unified_->has_memory) names.push_back(absl::StrCat(prefix, "memory"));
  if (unified_->has_pids) names.push_back(absl::StrCat(prefix, "pids"));
  if (has_cpu_) names.push_back(absl::StrCat(prefix, "cpu"));
  return absl::StrJoin(names, " ");
}

absl::Status CgroupController::SetUpV2Parent() const {
  const std::string parent = UnifiedParent();
  VET_RETURN_IF_ERROR(MakeDir(parent));
  // The parent holds no process, so it may hand the controllers on.
  VET_RETURN_IF_ERROR(
      WriteFile(parent + "/cgroup.subtree_control", V2Controllers("+"), kCreateFlags));
  if (has_cpu_) {
    VET_RETURN_IF_ERROR(
        WriteFile(parent + "/cpu.weight", absl::StrCat(unified_->parent_cpu_weight), kCreateFlags));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<CgroupController>> CgroupController::DetectV2(Options options) {
  VET_ASSIGN_OR_RETURN(std::string path, UnifiedPath(options.proc_self_cgroup));
  // An earlier Detect in this process moved it into the server leaf: the
  // delegated subtree is the leaf's parent.
  absl::string_view own = path;
  if (absl::ConsumeSuffix(&own, absl::StrCat("/", kServerLeaf)) && own.empty()) {
    own = "/";
  }
  auto unified = std::make_unique<Unified>();
  unified->own_dir = own == "/" ? options.root : absl::StrCat(options.root, own);
  const std::string& own_dir = unified->own_dir;
  if (access(own_dir.c_str(), W_OK) != 0) {
    const int err = errno;
    return absl::FailedPreconditionError(
        absl::StrCat("cgroup v2: cannot write ", own_dir, ": ", std::strerror(err),
                     " (not delegated to this process: run it under systemd with "
                     "Delegate=yes, or as root)"));
  }
  VET_ASSIGN_OR_RETURN(std::set<std::string> delegated, DelegatedControllers(own_dir));
  const char* const what_missing[][2] = {{"memory", "no memory limit (only the rlimits)"},
                                         {"pids", "no process-count limit (only RLIMIT_NPROC)"},
                                         {"cpu", "no CPU weight per practice"}};
  bool has[3];
  for (int i = 0; i < 3; ++i) {
    has[i] = delegated.count(what_missing[i][0]) > 0;
    if (!has[i]) {
      LogWarning("cgroup v2: controller ", what_missing[i][0], " is not delegated to ", own_dir,
                 " (not in its cgroup.controllers): workers get ", what_missing[i][1]);
    }
  }
  if (!has[0] && !has[1] && !has[2]) {
    return absl::FailedPreconditionError(
        absl::StrCat("cgroup v2: none of memory, pids, cpu is delegated to ", own_dir,
                     " (its cgroup.controllers: \"", absl::StrJoin(delegated, " "), "\")"));
  }
  unified->has_memory = has[0];
  unified->has_pids = has[1];
  unified->has_swap = has[0] && Exists(own_dir + "/memory.swap.max");
  unified->parent_cpu_weight = CpuWeightForShares(options.parent_cpu_shares);
  std::unique_ptr<CgroupController> controller(new CgroupController(
      std::move(options.root), std::move(options.parent), has[2], std::move(unified)));

  VET_RETURN_IF_ERROR(MoveIntoLeafAndEnable(own_dir, absl::StrCat(own_dir, "/", kServerLeaf),
                                            controller->V2Controllers("+")));
  absl::Status s = controller->SetUpV2Parent();
  if (!s.ok()) return absl::FailedPreconditionError(s.message());
  return controller;
}

absl::StatusOr<std::unique_ptr<WorkerCgroup>> CgroupController::CreateV2(std::string full_name,
                                                                         int64_t memory_bytes,
                                                                         int max_pids) {
  const std::string leaf = absl::StrCat(UnifiedParent(), "/", full_name);
  if (Exists(leaf)) {
    return absl::AlreadyExistsError(absl::StrCat("cgroup: ", leaf, " exists"));
  }
  // Another controller whose last worker just went may remove an empty
  // parent at any moment (~CgroupController): set it up again and retry.
  int err = ENOENT;
  for (int tries = 0; tries < 5 && err == ENOENT; ++tries) {
    err = mkdir(leaf.c_str(), 0755) == 0 ? 0 : errno;
    if (err == ENOENT) {
      absl::Status s = SetUpV2Parent();
      if (!s.ok()) return absl::InternalError(s.message());
    }
  }
  if (err != 0) return absl::InternalError(ErrnoMessage("mkdir", leaf, err));

  WorkerCgroup::Layout layout;
  layout.unified = true;
  layout.leaf = leaf;
  if (unified_->has_memory) layout.memory_dir = leaf;
  if (unified_->has_pids) layout.pids_dir = leaf;
  if (has_cpu_) layout.cpu_dir = leaf;
  // From here the WorkerCgroup's destructor cleans up on any error.
  std::unique_ptr<WorkerCgroup> cgroup(
      new WorkerCgroup(std::move(full_name), std::move(layout), memory_bytes));
  if (unified_->has_memory) {
    VET_RETURN_IF_ERROR(WriteFile(leaf + "/memory.max", absl::StrCat(memory_bytes), kCreateFlags));
    // Without it a worker on a machine with swap would page out instead of
    // being OOM-killed (v1's memsw limit, which counts memory and swap
    // together; v2 bounds swap on its own).
    if (unified_->has_swap) {
      VET_RETURN_IF_ERROR(WriteFile(leaf + "/memory.swap.max", "0", kCreateFlags));
    }
  }
  if (unified_->has_pids) {
    VET_RETURN_IF_ERROR(WriteFile(leaf + "/pids.max", absl::StrCat(max_pids), kCreateFlags));
  }
  if (has_cpu_) {
    // Written although it is the kernel's default, as on v1.
    VET_RETURN_IF_ERROR(WriteFile(leaf + "/cpu.weight", absl::StrCat(kCpuWeight), kCreateFlags));
  }
  return cgroup;
}

absl::StatusOr<std::unique_ptr<WorkerCgroup>> CgroupController::Create(absl::string_view name,
                                                                       int64_t memory_bytes,
                                                                       int max_pids) {
  if (!ValidName(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("cgroup: worker name '", name, "' must be non-empty [A-Za-z0-9_.-]"));
  }
  if (memory_bytes <= 0 || max_pids <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("cgroup: limits must be positive (memory ",
                                                   memory_bytes, ", pids ", max_pids, ")"));
  }
  std::string full_name = absl::StrCat(getpid(), "-", name);
  if (unified_ != nullptr) {
    return CreateV2(std::move(full_name), memory_bytes, max_pids);
  }
  std::string memory_dir = absl::StrCat(MemoryParent(), "/", full_name);
  std::string pids_dir = absl::StrCat(PidsParent(), "/", full_name);
  std::string cpu_dir = has_cpu_ ? absl::StrCat(CpuParent(), "/", full_name) : std::string();
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
  WorkerCgroup::Layout layout;
  layout.memory_dir = memory_dir;
  layout.pids_dir = pids_dir;
  layout.cpu_dir = cpu_dir;
  std::unique_ptr<WorkerCgroup> cgroup(
      new WorkerCgroup(std::move(full_name), std::move(layout), memory_bytes));

  absl::Status s = WriteFile(memory_dir + "/memory.limit_in_bytes", absl::StrCat(memory_bytes));
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
  if (unified_ != nullptr) {
    std::string controllers = V2Controllers("");
    absl::StrReplaceAll({{" ", "+"}}, &controllers);
    return absl::StrCat("cgroup v2 ", controllers, " under ", UnifiedParent());
  }
  return absl::StrCat("cgroup v1 memory+pids", has_cpu_ ? "+cpu" : "", " under ", root_, "/*/",
                      parent_);
}

}  // namespace vet::sandbox
