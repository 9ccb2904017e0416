// The production Executor: a warm, isolated worker per active practice
// (zygote_worker.h), each execution a fork of it.
//
// Layers, each of which the containment tests in tests/sandbox/ exercise:
//   - bubblewrap namespaces (user, PID, network, IPC, UTS, cgroup), no
//     capabilities, a read-only root of /usr only, no practice data mounted:
//     the zygote reads its own practice's tables through one read-only
//     descriptor and closes it before forking;
//   - a dedicated non-root uid (sandbox_user) when the server runs as root;
//   - a memory and pids cgroup per worker (when the machine allows it),
//     and a cpu cgroup with the same weight for every worker, so that all
//     of one practice's executions together get one practice's CPU share;
//   - per execution: a seccomp filter (no sockets but AF_UNIX, no fork or
//     exec, no ptrace, mount, namespaces, keyrings, modules; signals only to
//     itself), rlimits (CPU, address space, file size, open files,
//     processes), oom_score_adj 1000, a fresh scratch folder in a
//     size-capped /tmp;
//   - a wall-clock limit and output caps enforced here, which kill the
//     execution; cancellation kills it at once.
//
// Workers start lazily (at most max_starting at once, the rest wait), are
// reused while the practice's data version stays the same, restarted when
// they die or the data changes, and evicted when idle longer than
// idle_timeout or when max_workers are running and another practice needs
// one. How many executions run at once, and whose goes next, is not this
// executor's business: the server wraps it in a FairScheduler
// (fair_scheduler.h).
#ifndef VET_CORE_SANDBOX_ZYGOTE_EXECUTOR_H_
#define VET_CORE_SANDBOX_ZYGOTE_EXECUTOR_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/sandbox/cgroup.h"
#include "core/sandbox/concurrency_limiter.h"
#include "core/sandbox/executor.h"
#include "core/sandbox/seccomp_policy.h"
#include "core/sandbox/zygote_worker.h"

namespace vet::sandbox {

class ZygoteExecutor final : public Executor {
 public:
  struct Options {
    std::string bwrap_path = "/usr/bin/bwrap";
    // Debian's interpreter, which has pandas, numpy and matplotlib.
    std::string python_path = "/usr/bin/python3";
    // Table name -> its date and datetime columns (as SubprocessExecutor).
    std::map<std::string, std::vector<std::string>> tables;
    // The account the sandbox runs as when the server runs as root. It
    // must exist (scripts/install-deps.sh makes it). When the server is not
    // root it cannot switch users, and the sandbox runs as the server's own
    // uid, with every other layer in place.
    std::string sandbox_user = "vet-sandbox";

    // Per execution.
    int cpu_seconds = 30;
    int64_t address_space_bytes = int64_t{4} << 30;
    int64_t file_bytes = int64_t{64} << 20;
    int open_files = 64;
    // RLIMIT_NPROC: counts every process and thread of the sandbox uid.
    int processes = 1024;
    int64_t max_output_bytes = int64_t{1} << 20;
    int64_t max_result_bytes = int64_t{8} << 20;
    int max_rows = 1000;
    int max_charts = 5;
    int64_t max_chart_bytes = int64_t{2} << 20;
    // What a result may take in the answer the client receives: a table's
    // encoded rows (rows beyond are dropped from the end) or a text. 768 KiB
    // keeps the answer well inside one message (server/event_bound.h). A
    // table cut to fit also comes whole, as result.csv, of at most
    // max_csv_rows rows and max_csv_bytes (0 rows: no CSV).
    int64_t max_sent_result_bytes = int64_t{768} << 10;
    int max_csv_rows = 100000;
    int64_t max_csv_bytes = int64_t{32} << 20;

    // Per worker.
    int64_t memory_bytes = int64_t{4} << 30;  // the cgroup's limit
    int max_pids = 128;                       // the cgroup's limit
    int64_t tmp_bytes = int64_t{256} << 20;   // the sandbox's /tmp
    absl::Duration start_timeout = absl::Seconds(120);

    int max_starting = 3;
    int max_workers = 8;
    // The CPU weight of the whole sandbox against the host's other
    // processes, in executions: the parent cpu cgroup weighs as much as
    // this many processes (each practice's worker weighs the same within
    // it). Set it to the executions that may run at once, so that on a busy
    // host they get what they got as processes of their own.
    int cpu_weight_executions = 5;
    absl::Duration idle_timeout = absl::Minutes(10);

    // Where the per-worker cgroups go; empty cgroup_root turns them off.
    std::string cgroup_root = "/sys/fs/cgroup";
    std::string cgroup_parent = "vet-analytics";
  };

  // kFailedPrecondition naming what is missing when bwrap cannot build a
  // sandbox here (not installed, user namespaces disabled), the sandbox
  // user does not exist, or the interpreter lacks pandas, numpy or
  // matplotlib (checked by starting one sandbox); kInvalidArgument for a
  // limit out of range.
  static absl::StatusOr<std::unique_ptr<ZygoteExecutor>> Create(Options options);
  ~ZygoteExecutor() override;

  // See Executor. Beyond its contract:
  //   - runs at once (no queue of its own); request.timeout counts from
  //     the fork, not from waiting for the practice's worker to start;
  //   - kResourceExhausted names the limit; kInternal when the worker died
  //     during the execution ("the next question starts a new one").
  absl::StatusOr<ExecutionResult> Execute(const ExecutionRequest& request, OutputSink& output,
                                          CancellationToken& cancel) override;

  // "bwrap namespaces, uid 999 (vet-sandbox), seccomp, cgroup v1 ..., rlimits"
  const std::string& isolation() const { return isolation_; }
  // For metrics and tests.
  int workers() const;
  // The workers' memory: their cgroups' usage (or the zygotes' resident
  // size at start, without cgroups).
  int64_t worker_memory_bytes() const;
  // Stops workers idle longer than idle_timeout; returns how many. Called
  // by a background thread; public for tests.
  int EvictIdle(absl::Time now);

 private:
  struct Slot;

  ZygoteExecutor(Options options, SeccompPrograms seccomp,
                 std::unique_ptr<CgroupController> cgroups, bool switch_user, uid_t uid, gid_t gid,
                 std::string isolation);
  // The practice's ready worker for `data_dir`, starting one if needed.
  absl::StatusOr<std::shared_ptr<ZygoteWorker>> WorkerFor(const std::string& practice_id,
                                                          const std::string& data_dir,
                                                          CancellationToken& cancel);
  absl::StatusOr<std::unique_ptr<ZygoteWorker>> StartWorker(const std::string& practice_id,
                                                            const std::string& data_dir,
                                                            CancellationToken& cancel);
  // Makes room for one more worker; returns the evicted ones, to be
  // destroyed outside the lock.
  std::vector<std::shared_ptr<ZygoteWorker>> MakeRoomLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EvictionLoop();

  const Options options_;
  const SeccompPrograms seccomp_;
  const std::unique_ptr<CgroupController> cgroups_;
  const bool switch_user_;
  const uid_t uid_;
  const gid_t gid_;
  std::string isolation_;  // completed by Create's probe
  ConcurrencyLimiter start_limiter_;

  mutable absl::Mutex mu_;
  // practice id -> its worker (or the start in progress).
  std::map<std::string, std::shared_ptr<Slot>> slots_ ABSL_GUARDED_BY(mu_);
  int starts_in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Tripped by the destructor: worker starts (on their own threads) stop.
  CancellationToken shutdown_;
  std::thread evictor_;
};

}  // namespace vet::sandbox

#endif  // VET_CORE_SANDBOX_ZYGOTE_EXECUTOR_H_
