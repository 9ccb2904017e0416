// Memory and process-count limits for sandbox workers on cgroup v1 (the
// memory and pids controllers, which is what production machines mount).
// CgroupController owns a parent directory under each controller and makes
// one WorkerCgroup per worker (a practice's zygote and its forked children);
// the directory name starts with the server's pid so a restarted server can
// sweep what a dead one left behind. Everything here needs root; Detect says
// why cgroups are unusable so callers can log it and run without them.
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

// One worker's cgroup: a directory under the memory and the pids hierarchy.
// The destructor kills every process still in it and removes both
// directories (retrying briefly: rmdir fails with EBUSY until the killed
// tasks have exited). Thread-safe: it keeps no mutable state of its own.
class WorkerCgroup {
 public:
  ~WorkerCgroup();
  WorkerCgroup(const WorkerCgroup&) = delete;
  WorkerCgroup& operator=(const WorkerCgroup&) = delete;

  // Moves `pid` (and all its threads) into both cgroups; its future children
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

  // Sends SIGKILL to every process listed in either cgroup.procs, repeating
  // until both are empty or about a second has passed (a process may fork
  // between the read and the kill). Does not reap: killed children of the
  // caller stay zombies until it waits for them.
  void KillAll();

  // "<server pid>-<name>", the directory name under each controller.
  const std::string& name() const { return name_; }

 private:
  friend class CgroupController;
  WorkerCgroup(std::string name, std::string memory_dir, std::string pids_dir,
               int64_t memory_limit_bytes);

  const std::string name_;
  const std::string memory_dir_;
  const std::string pids_dir_;
  const int64_t memory_limit_bytes_;
};

// Makes worker cgroups under <root>/{memory,pids}/<parent>. Thread-safe.
class CgroupController {
 public:
  // `root` is normally "/sys/fs/cgroup"; `parent` is a directory name made
  // (if missing) under each controller, e.g. "vet-analytics". Returns
  // kFailedPrecondition with the reason when cgroups are unusable: not root,
  // no cgroup v1 memory or pids hierarchy under `root`, or the parent cannot
  // be created. Returns kInvalidArgument for a bad `parent` name.
  static absl::StatusOr<std::unique_ptr<CgroupController>> Detect(
      std::string root, std::string parent);

  // Makes <root>/memory/<parent>/<server pid>-<name> and its pids twin, with
  // memory.limit_in_bytes = memory_bytes (and memory.memsw.limit_in_bytes
  // too where swap accounting exists, so the limit cannot be dodged by
  // swapping) and pids.max = max_pids. `name` must be non-empty and only
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

  // E.g. "cgroup v1 memory+pids under /sys/fs/cgroup/*/vet-analytics".
  std::string description() const;

  // Removes the parent folders if they are empty (no other server or
  // executor uses them); the next Detect makes them again.
  ~CgroupController();

 private:
  CgroupController(std::string root, std::string parent);

  std::string MemoryParent() const;
  std::string PidsParent() const;

  const std::string root_;
  const std::string parent_;
};

}  // namespace vet::sandbox

#endif  // VET_CORE_SANDBOX_CGROUP_H_
