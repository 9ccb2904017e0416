// One practice's warm sandbox worker: a bubblewrap sandbox whose PID 1 is
// runner.py in zygote mode, holding that practice's tables in memory and
// forking a child for each execution (see "zygote" in runner.py for the
// protocol on its control socket).
//
// The sandbox, as built by BwrapArguments:
//   - its own user, PID, network, IPC, UTS and cgroup namespaces, no
//     capabilities, no further user namespaces;
//   - a read-only root holding only /usr (and its /bin, /lib links), the few
//     files of /etc that Python, numpy and matplotlib read, /proc of its own
//     PID namespace, a minimal /dev, and a size-capped /tmp;
//   - no practice data mounted at all: the server passes one read-only
//     descriptor of the practice's data version, which the zygote reads its
//     tables through and closes before it forks anything;
//   - bwrap itself started with an empty environment, as a dedicated
//     non-root uid when the server runs as root, in the worker's memory and
//     pids cgroup (cgroup.h) when there is one.
#ifndef VET_CORE_SANDBOX_ZYGOTE_WORKER_H_
#define VET_CORE_SANDBOX_ZYGOTE_WORKER_H_

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/common/cancellation.h"
#include "core/sandbox/cgroup.h"
#include "core/sandbox/child_process.h"

namespace vet::sandbox {

struct BwrapOptions {
  std::string bwrap_path = "/usr/bin/bwrap";
  std::string python_path = "/usr/bin/python3";
  // The uid and gid inside the sandbox; the same numbers as outside.
  uid_t uid = 0;
  gid_t gid = 0;
  // The size of the sandbox's /tmp, where each child gets a fresh scratch
  // folder.
  int64_t tmp_bytes = int64_t{64} << 20;
  // The descriptor bwrap writes {"child-pid": N} to.
  int info_fd = 5;
};

// bwrap's argv for a zygote running `runner_source` with `spec_json`.
std::vector<std::string> BwrapArguments(const BwrapOptions& options,
                                        absl::string_view runner_source,
                                        absl::string_view spec_json);

class ZygoteWorker {
 public:
  struct LaunchOptions {
    BwrapOptions bwrap;
    // Switch to bwrap.uid/gid before starting bwrap (the server is root).
    bool switch_user = false;
    std::string practice_id;
    // The data version the zygote loads (opened read-only here).
    std::string data_dir;
    // From internal::EncodeZygoteSpec, with control_fd 3 and data_fd 4.
    std::string spec_json;
    // Loading, warm-up and all: a large practice takes seconds.
    absl::Duration start_timeout = absl::Seconds(120);
    // Null when the machine has no usable cgroups.
    std::unique_ptr<WorkerCgroup> cgroup;
  };

  // Starts bwrap and waits until the zygote is ready. kCancelled if
  // `cancel` trips first; kDeadlineExceeded past start_timeout; kInternal
  // (with the zygote's own error, or its last stderr line) if it fails.
  static absl::StatusOr<std::unique_ptr<ZygoteWorker>> Start(LaunchOptions options,
                                                             CancellationToken& cancel);
  // Stops the zygote and everything in its sandbox.
  ~ZygoteWorker();
  ZygoteWorker(const ZygoteWorker&) = delete;
  ZygoteWorker& operator=(const ZygoteWorker&) = delete;

  // Forks a child that runs `code`. kUnavailable if the worker has died or
  // refused (the message says why).
  absl::StatusOr<std::unique_ptr<internal::SupervisedProcess>> Fork(absl::string_view code);

  bool alive() const;
  // Why the worker is no longer alive; empty while it is.
  std::string death_reason() const;
  const std::string& practice_id() const { return practice_id_; }
  const std::string& data_dir() const { return data_dir_; }
  // Children running now.
  int active() const;
  absl::Time last_used() const;
  absl::Duration load_time() const { return load_time_; }
  int64_t ready_rss_bytes() const { return ready_rss_bytes_; }
  // The memory cgroup's usage, or the zygote's RSS at start without one.
  int64_t MemoryBytes() const;
  // "python 3.11.2, pandas 1.5.3, ..."
  const std::string& versions() const { return versions_; }
  // The Landlock ABI each child restricts itself with; 0 when the kernel
  // has none.
  int landlock_abi() const { return landlock_abi_; }

  // Kills the whole sandbox at once (its PID 1, and with it every process
  // in the namespace); in-flight runs end with `reason`.
  void Kill(absl::string_view reason);

  // For the runs; not for callers.
  struct RunState;

 private:
  ZygoteWorker() = default;
  // Start's steps, in order.
  absl::StatusOr<internal::UniqueFd> Launch(LaunchOptions& options);
  absl::Status AwaitSandboxPid(int info_fd, absl::Duration deadline);
  absl::Status AwaitReady(absl::Duration deadline, absl::Duration start_timeout,
                          CancellationToken& cancel);
  void ReaderLoop();
  void MarkDead(std::string reason);
  bool SendControl(absl::string_view message, const int* fds, int nfds);
  void SendKill(uint64_t id);
  void FinishRun(uint64_t id, internal::ExitInfo info);
  friend class ZygoteRun;

  std::string practice_id_;
  std::string data_dir_;
  std::string versions_;
  absl::Duration load_time_;
  int64_t ready_rss_bytes_ = 0;
  int landlock_abi_ = 0;
  std::unique_ptr<WorkerCgroup> cgroup_;
  pid_t bwrap_pid_ = -1;
  internal::UniqueFd bwrap_pidfd_;
  // The sandbox's PID 1, as a pidfd: killing it ends the namespace.
  internal::UniqueFd zygote_pidfd_;
  internal::UniqueFd control_;
  internal::UniqueFd stderr_;
  // Wakes the reader thread for shutdown.
  internal::UniqueFd wake_;
  std::thread reader_;

  mutable absl::Mutex mu_;
  absl::Mutex send_mu_ ABSL_ACQUIRED_AFTER(mu_);
  bool dead_ ABSL_GUARDED_BY(mu_) = false;
  std::string death_reason_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<uint64_t, std::shared_ptr<RunState>> runs_ ABSL_GUARDED_BY(mu_);
  absl::Time last_used_ ABSL_GUARDED_BY(mu_);
  bool reaped_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace vet::sandbox

#endif  // VET_CORE_SANDBOX_ZYGOTE_WORKER_H_
