// Memory and process-count limits, and an equal CPU weight, for sandbox
// workers, on cgroup v1 (the memory, pids and cpu hierarchies, as root) or
// on a cgroup v2-only host (the unified hierarchy, in the subtree delegated
// to the server: systemd's Delegate=yes, or root). CgroupController owns a
// parent directory (under each v1 controller, or one under the server's own
// v2 cgroup) and makes one WorkerCgroup per worker (a practice's zygote and
// its forked children); the directory name starts with the server's pid so
// a restarted server can sweep what a dead one left behind. Detect says why
// cgroups are unusable so callers can log it and run without them. The cpu
// controller is optional: without it the limits still hold, only the CPU
// weights are missing.
#ifndef VET_CORE_SANDBOX_CGROUP_H_
#define VET_CORE_SANDBOX_CGROUP_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vet::sandbox {

// One worker's cgroup: on v1 a directory under the memory, the pids and
// (when the controller has it) the cpu hierarchy; on v2 one leaf directory
// with the controllers that were delegated. The destructor kills every
// process still in it (v2: through cgroup.kill where the kernel has it) and
// removes the directories (retrying briefly: rmdir fails
// with EBUSY until the killed tasks have exited). Thread-safe: it keeps no
// mutable state of its own.
class WorkerCgroup {
 public:
  ~WorkerCgroup();
  WorkerCgroup(const WorkerCgroup&) = delete;
  WorkerCgroup& operator=(const WorkerCgroup&) = delete;

  // Moves `pid` (and all its threads) into its cgroups; its future children
  // start there. Returns kInternal naming the file and errno on failure
  // (ESRCH if the process is gone).
  absl::Status AddProcess(pid_t pid);

  // How many processes the kernel OOM killer has killed in this cgroup: the
  // 'oom_kill N' line of memory.oom_control (v1, kernel 4.13+) or of
  // memory.events (v2); 0 if absent or unreadable, or without a memory
  // controller.
  int64_t OomKills() const;

  // memory.usage_in_bytes (v1) or memory.current (v2), or -1 if unreadable
  // or without a memory controller.
  int64_t MemoryUsageBytes() const;

  int64_t memory_limit_bytes() const { return memory_limit_bytes_; }

  // cpu.shares (v1), or -1 on v2, without a cpu cgroup, or if unreadable.
  int64_t CpuShares() const;

  // cpu.weight (v2), or -1 on v1, without the cpu controller, or if
  // unreadable.
  int64_t CpuWeight() const;

  // On v2, where the kernel has cgroup.kill (5.14+), writes 1 there, which
  // kills the whole tree at once. Then sends SIGKILL to every process listed in
  // its cgroup.procs files, repeating until they are empty or about a second
  // has passed (a process may fork between the read and the kill). Does not
  // reap: killed children of the caller stay zombies until it waits for
  // them.
  void KillAll();

  // "<server pid>-<name>", the directory name under each controller.
  const std::string& name() const { return name_; }

 private:
  friend class CgroupController;
  // What a worker's cgroup is made of. v1: three directories (cpu_dir empty
  // without the cpu controller). v2: `unified` with memory_dir, pids_dir and
  // cpu_dir all the one leaf, each empty when that controller is missing.
  struct Layout {
    bool unified = false;
    std::string leaf;  // v2 only
    std::string memory_dir;
    std::string pids_dir;
    std::string cpu_dir;
  };
  WorkerCgroup(std::string name, Layout layout, int64_t memory_limit_bytes);
  // Its directories, each once: v1 memory, pids, and cpu if it has one; v2
  // the leaf.
  std::vector<std::string> Dirs() const;

  const std::string name_;
  const Layout layout_;
  const int64_t memory_limit_bytes_;
};

// Makes worker cgroups under <root>/{memory,pids,cpu}/<parent> (v1) or
// <root><own cgroup>/<parent> (v2). Thread-safe.
class CgroupController {
 public:
  // Every worker's cpu.shares (the kernel's default weight). The same for
  // all, so on a busy CPU the practices get equal shares, however many
  // executions (processes of one worker's cgroup) each runs at once.
  static constexpr int kCpuShares = 1024;
  // The same on v2: every worker's cpu.weight (the kernel's default). The
  // parent's weight is parent_cpu_shares scaled by kCpuWeight / kCpuShares.
  static constexpr int kCpuWeight = 100;
  // The v2 leaf the server moves itself into (the "no internal processes"
  // rule: a cgroup that hands controllers to its children holds no process
  // of its own). A /proc/self/cgroup path ending in it means the move was
  // already made (by an earlier Detect in this process).
  static constexpr char kServerLeaf[] = "server";

  struct Options {
    // The top of the cgroup filesystem. When it is a v2 (unified) mount,
    // recognised by the cgroup.controllers file that only a cgroup2 mount
    // has at its top, the v2 path is used; otherwise (v1, or a hybrid host
    // whose /sys/fs/cgroup is a tmpfs of v1 hierarchies) the v1 path.
    std::string root = "/sys/fs/cgroup";
    // Where the server's own cgroup is read (v2: its "0::/path" line).
    std::string proc_self_cgroup = "/proc/self/cgroup";
    // The directory name made (if missing) under each v1 controller, or
    // under the server's own v2 cgroup.
    std::string parent = "vet-analytics";
    // See Detect below.
    int parent_cpu_shares = kCpuShares;
  };

  // Detect({root, "/proc/self/cgroup", parent, parent_cpu_shares}), below.
  // On v1: `root` is normally "/sys/fs/cgroup"; `parent` is a directory name
  // made (if missing) under each controller, e.g. "vet-analytics". Returns
  // kFailedPrecondition with the reason when cgroups are unusable: not root,
  // no cgroup v1 memory or pids hierarchy under `root`, or the parent cannot
  // be created. Returns kInvalidArgument for a bad `parent` name or
  // `parent_cpu_shares` outside the kernel's 2..262144. Without a usable
  // cgroup v1 cpu hierarchy (cpu.shares) it still succeeds, without CPU
  // weights (has_cpu() false), and logs why once.
  //
  // `parent_cpu_shares` is the weight of all workers together against the
  // processes outside the parent (the parent's cpu.shares; the last Detect
  // of servers sharing a parent sets it; on v2 its siblings are the server
  // leaf, the service's own processes). One worker's weight (kCpuShares)
  // there would give the whole sandbox one process's share on a busy host;
  // callers pass kCpuShares times the executions that may run at once,
  // what those executions weighed as processes of their own.
  static absl::StatusOr<std::unique_ptr<CgroupController>> Detect(
      std::string root, std::string parent, int parent_cpu_shares = kCpuShares);

  // As above, with the cgroup v2 path too. On a v2 host, no root is needed,
  // only a writable own cgroup (its "0::" line of proc_self_cgroup, under
  // root): Detect moves this process into <own>/kServerLeaf, enables the
  // delegated memory, pids and cpu controllers (those listed in
  // <own>/cgroup.controllers) in <own>/cgroup.subtree_control and in the
  // parent's, and sets the parent's cpu.weight to parent_cpu_shares x
  // kCpuWeight / kCpuShares (1..10000). A controller that was not delegated
  // is logged once and left out (has_cpu() false without cpu; no memory or
  // pids limit without those). Returns kFailedPrecondition when the own
  // cgroup has no "0::" line, is not writable, has none of the three
  // controllers, holds other processes than this one (checked before
  // anything moves), or refuses the move or the controllers.
  static absl::StatusOr<std::unique_ptr<CgroupController>> Detect(Options options);

  // Makes <root>/memory/<parent>/<server pid>-<name> and its pids twin, with
  // memory.limit_in_bytes = memory_bytes (and memory.memsw.limit_in_bytes
  // too where swap accounting exists, so the limit cannot be dodged by
  // swapping) and pids.max = max_pids, and with has_cpu() its cpu twin with
  // cpu.shares = kCpuShares. On v2: the leaf <own>/<parent>/<server
  // pid>-<name> with memory.max = memory_bytes and memory.swap.max = 0
  // (where the kernel has it), pids.max = max_pids and cpu.weight =
  // kCpuWeight, each only with its controller. `name` must be non-empty and
  // only [A-Za-z0-9_.-]; returns kInvalidArgument otherwise or for non-positive
  // limits, kAlreadyExists if this server already has a cgroup of that name,
  // kInternal (naming the file and errno) if the kernel refuses.
  absl::StatusOr<std::unique_ptr<WorkerCgroup>> Create(absl::string_view name, int64_t memory_bytes,
                                                       int max_pids);

  // Removes cgroups under the parent left by server processes that have
  // died: names "<pid>-..." whose pid is not alive (and is not this
  // process). Kills their tasks first. Never touches a live server's
  // cgroups; a dead server's pid reused by an unrelated process keeps its
  // cgroups until a later sweep. Returns how many worker cgroups (names) it
  // removed completely; logs a warning for each it could not remove.
  int SweepStale();

  // E.g. "cgroup v1 memory+pids+cpu under /sys/fs/cgroup/*/vet-analytics",
  // or "cgroup v2 memory+pids+cpu under /sys/fs/cgroup/<own>/vet-analytics"
  // (naming only the controllers in use).
  std::string description() const;

  // Whether workers get a cpu cgroup (and so equal CPU weights).
  bool has_cpu() const { return has_cpu_; }

  // Removes the parent folders if they are empty (no other server or
  // executor uses them); the next Detect makes them again.
  ~CgroupController();

 private:
  // v2 only: what Detect found in the delegated subtree.
  struct Unified {
    std::string own_dir;  // <root><own cgroup>
    bool has_memory = false;
    bool has_pids = false;
    bool has_swap = false;  // memory.swap.max exists
    int parent_cpu_weight = kCpuWeight;
  };
  CgroupController(std::string root, std::string parent, bool has_cpu,
                   std::unique_ptr<Unified> unified = nullptr);

  static absl::StatusOr<std::unique_ptr<CgroupController>> DetectV1(Options options);
  static absl::StatusOr<std::unique_ptr<CgroupController>> DetectV2(Options options);
  absl::StatusOr<std::unique_ptr<WorkerCgroup>> CreateV2(std::string full_name,
                                                         int64_t memory_bytes, int max_pids);
  // v2: makes the parent (if missing), enables the controllers in use for
  // its children and sets its cpu.weight.
  absl::Status SetUpV2Parent() const;
  // v2: the controllers in use, e.g. "memory pids cpu" with `prefix` "" or
  // "+memory +pids +cpu" with "+".
  std::string V2Controllers(absl::string_view prefix) const;

  std::string MemoryParent() const;
  std::string PidsParent() const;
  std::string CpuParent() const;
  std::string UnifiedParent() const;
  // The parent directories in use: memory, pids, and cpu with has_cpu_ (v1);
  // the one parent (v2).
  std::vector<std::string> Parents() const;

  const std::string root_;
  const std::string parent_;
  const bool has_cpu_;
  const std::unique_ptr<const Unified> unified_;  // null on v1
};

}  // namespace vet::sandbox

#endif  // VET_CORE_SANDBOX_CGROUP_H_
