// Memory and process-count limits, and an equal CPU weight, for sandbox
// workers on cgroup v1 (the memory, pids and cpu controllers, which is what
// production machines mount). CgroupController owns a parent directory under
// each controller and makes one WorkerCgroup per worker (a practice's zygote
// and its forked children); the directory name starts with the server's pid
// so a restarted server can sweep what a dead one left behind. Everything
// here needs root; Detect says why cgroups are unusable so callers can log
// it and run without them. The cpu controller is optional: without it the
// limits still hold, only the CPU weights are missing.
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

// One worker's cgroup: a directory under the memory, the pids and (when the
// controller has it) the cpu hierarchy. The destructor kills every process
// still in it and removes the directories (retrying briefly: rmdir fails
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
  // 'oom_kill N' line of memory.oom_control (kernel 4.13+); 0 if absent or
  // unreadable.
  int64_t OomKills() const;

  // memory.usage_in_bytes, or -1 if unreadable.
  int64_t MemoryUsageBytes() const;

  int64_t memory_limit_bytes() const { return memory_limit_bytes_; }

  // cpu.shares, or -1 without a cpu cgroup (or if unreadable).
  int64_t CpuShares() const;

  // Sends SIGKILL to every process listed in its cgroup.procs files,
  // repeating until they are empty or about a second has passed (a process may fork
  // between the read and the kill). Does not reap: killed children of the
  // caller stay zombies until it waits for them.
  void KillAll();

  // "<server pid>-<name>", the directory name under each controller.
  const std::string& name() const { return name_; }

 private:
  friend class CgroupController;
  WorkerCgroup(std::string name, std::string memory_dir, std::string pids_dir,
               std::string cpu_dir, int64_t memory_limit_bytes);
  // Its directories: memory, pids, and cpu if it has one.
  std::vector<std::string> Dirs() const;

  const std::string name_;
  const std::string memory_dir_;
  const std::string pids_dir_;
  const std::string cpu_dir_;  // empty without the cpu controller
  const int64_t memory_limit_bytes_;
};

// Makes worker cgroups under <root>/{memory,pids,cpu}/<parent>. Thread-safe.
class CgroupController {
 public:
  // Every worker's cpu.shares (the kernel's default weight). The same for
  // all, so on a busy CPU the practices get equal shares, however many
  // executions (processes of one worker's cgroup) each runs at once.
  static constexpr int kCpuShares = 1024;

  // `root` is normally "/sys/fs/cgroup"; `parent` is a directory name made
  // (if missing) under each controller, e.g. "vet-analytics". Returns
  // kFailedPrecondition with the reason when cgroups are unusable: not root,
  // no cgroup v1 memory or pids hierarchy under `root`, or the parent cannot
  // be created. Returns kInvalidArgument for a bad `parent` name or
  // `parent_cpu_shares` outside the kernel's 2..262144. Without a usable
  // cgroup v1 cpu hierarchy (cpu.shares) it still succeeds, without CPU
  // weights (has_cpu() false), and logs why once.
  //
  // `parent_cpu_shares` is the weight of all workers together against the
  // processes outside the parent (the parent's cpu.shares; the last Detect
  // of servers sharing a parent sets it). One worker's weight (kCpuShares)
  // there would give the whole sandbox one process's share on a busy host;
  // callers pass kCpuShares times the executions that may run at once,
  // what those executions weighed as processes of their own.
  static absl::StatusOr<std::unique_ptr<CgroupController>> Detect(
      std::string root, std::string parent, int parent_cpu_shares = kCpuShares);

  // Makes <root>/memory/<parent>/<server pid>-<name> and its pids twin, with
  // memory.limit_in_bytes = memory_bytes (and memory.memsw.limit_in_bytes
  // too where swap accounting exists, so the limit cannot be dodged by
  // swapping) and pids.max = max_pids, and with has_cpu() its cpu twin with
  // cpu.shares = kCpuShares. `name` must be non-empty and only
  // [A-Za-z0-9_.-]; returns kInvalidArgument otherwise or for non-positive
  // limits, kAlreadyExists if this server already has a cgroup of that name,
  // kInternal (naming the file and errno) if the kernel refuses.
  absl::StatusOr<std::unique_ptr<WorkerCgroup>> Create(absl::string_view name,
                                                       int64_t memory_bytes,
                                                       int max_pids);

  // Removes cgroups under the parent left by server processes that have
  // died: names "<pid>-..." whose pid is not alive (and is not this
  // process). Kills their tasks first. Never touches a live server's
  // cgroups; a dead server's pid reused by an unrelated process keeps its
  // cgroups until a later sweep. Returns how many worker cgroups (names) it
  // removed completely; logs a warning for each it could not remove.
  int SweepStale();

  // E.g. "cgroup v1 memory+pids+cpu under /sys/fs/cgroup/*/vet-analytics".
  std::string description() const;

  // Whether workers get a cpu cgroup (and so equal CPU weights).
  bool has_cpu() const { return has_cpu_; }

  // Removes the parent folders if they are empty (no other server or
  // executor uses them); the next Detect makes them again.
  ~CgroupController();

 private:
  CgroupController(std::string root, std::string parent, bool has_cpu);

  std::string MemoryParent() const;
  std::string PidsParent() const;
  std::string CpuParent() const;
  // The parent directories in use: memory, pids, and cpu with has_cpu_.
  std::vector<std::string> Parents() const;

  const std::string root_;
  const std::string parent_;
  const bool has_cpu_;
};

}  // namespace vet::sandbox

#endif  // VET_CORE_SANDBOX_CGROUP_H_
