// Fair admission to the sandbox: an Executor decorator that owns how many
// executions run at once and in which order. Each practice has its own FIFO
// queue and the practices take turns, so a practice that floods the server
// delays another practice's question by at most one of its own executions
// (the single FIFO queue this replaces made a practice's trivial question
// wait 28.9 s behind six CPU-bound questions of another). Executions run on
// the scheduler's own threads, one per slot, which call the inner
// executor's blocking Execute.
#ifndef VET_CORE_SANDBOX_FAIR_SCHEDULER_H_
#define VET_CORE_SANDBOX_FAIR_SCHEDULER_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/common/cancellation.h"
#include "core/common/clock.h"
#include "core/sandbox/executor.h"

namespace vet::sandbox {

// Thread-safe.
class FairScheduler final : public Executor {
 public:
  struct Options {
    // Executions running at once, all practices together; also the number
    // of threads that supervise them.
    int max_concurrent = 5;
    // Executions of one practice running at once, between 1 and
    // max_concurrent. A running execution cannot be preempted and may hold
    // its slot for the whole wall-clock limit (30 s), so a slot lent to a
    // practice alone on the server could not be taken back when another
    // practice arrives. The cap therefore holds even for a practice alone:
    // 3 of 5 keeps two slots free for the other practices at all times, so
    // their questions start at once. A lone practice loses little by it:
    // its executions are CPU-bound and three of them already fill the cores
    // of a small host. Equal to max_concurrent turns the reserve off.
    int max_running_per_practice = 3;
    // Executions of one practice waiting for a slot; a request past it
    // fails at once with kResourceExhausted. As many as one practice may
    // have questions in progress (the server's --max_streams_per_practice):
    // a question admitted there is not refused again here for waiting its
    // turn, and fairness comes from the round-robin, not from refusals.
    int max_queued_per_practice = 128;
    // Executions waiting, all practices together; a request past it fails
    // at once with kUnavailable. Bounds the memory a burst can take.
    int max_queued = 256;
    // What one execution is assumed to take before any has finished; the
    // retry delay in a refusal is estimated from it, then from the
    // executions that ran.
    absl::Duration initial_run_estimate = absl::Seconds(2);
  };

  // Load of one practice, for metrics.
  struct PracticeLoad {
    int running = 0;
    int waiting = 0;
  };

  // kInvalidArgument naming the option when a limit is out of range or
  // `inner` is null. `clock` must outlive the scheduler; it times the wait
  // (ExecutionResult::queued) and the runs behind the retry estimate.
  static absl::StatusOr<std::unique_ptr<FairScheduler>> Create(Options options,
                                                               std::unique_ptr<Executor> inner,
                                                               const Clock& clock);

  // Stops accepting requests, fails those still waiting with kUnavailable
  // ("shutting down", their `done` called on this thread), lets the running
  // ones finish and joins the threads. Must not run while another thread is
  // still calling ExecuteAsync.
  ~FairScheduler() override;
  FairScheduler(const FairScheduler&) = delete;
  FairScheduler& operator=(const FairScheduler&) = delete;

  // ExecuteAsync, then waits for `done`.
  absl::StatusOr<ExecutionResult> Execute(const ExecutionRequest& request, OutputSink& output,
                                          CancellationToken& cancel) override;

  // Queues the request and returns at once. `done` is called exactly once:
  //   - on a scheduler thread with what the inner executor returned, its
  //     `queued` the time spent waiting here;
  //   - on a scheduler thread with kCancelled, at once, when `cancel` trips
  //     while the request waits (it never runs; once it runs, the inner
  //     executor handles the token);
  //   - inline, before ExecuteAsync returns, when the request is refused:
  //     kResourceExhausted when its practice already has
  //     max_queued_per_practice waiting ("practice 'a' has 32 executions
  //     waiting (the limit); retry in about 40 s": the caller should retry
  //     later, not sooner), kUnavailable when max_queued wait in all ("the
  //     sandbox is busy ...; retry in about N s") or the scheduler is
  //     shutting down, kCancelled when `cancel` is already tripped;
  //   - on the destroying thread with kUnavailable when the scheduler is
  //     destroyed while the request waits.
  // `done` runs on a thread that supervises executions: it must not block.
  void ExecuteAsync(const ExecutionRequest& request, OutputSink& output, CancellationToken& cancel,
                    ExecuteCallback done) override;

  // Executions running now, and waiting for a slot. For metrics and tests.
  int running() const;
  int waiting() const;
  // Practices with executions running or waiting, and how many of each.
  std::map<std::string, PracticeLoad> practice_load() const;

  const Options& options() const { return options_; }
  // The executor the scheduler runs requests on (for its own gauges).
  const Executor& inner() const { return *inner_; }

 private:
  struct Pending;
  struct Practice {
    // Arrival order.
    std::deque<std::shared_ptr<Pending>> waiting;
    int running = 0;
    // When the practice last got a slot (a count of admissions); 0 for a
    // practice that has not had one since it was last idle. The practice
    // with the oldest turn goes next.
    int64_t last_turn = 0;
  };

  FairScheduler(Options options, std::unique_ptr<Executor> inner, const Clock& clock);

  // Queues `pending`, or returns why not.
  absl::Status AdmitLocked(const std::shared_ptr<Pending>& pending)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The next request to run (counted as running), or null if none may.
  std::shared_ptr<Pending> TakeNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The token's callback: takes a waiting request out of its queue.
  void OnCancelled(const std::shared_ptr<Pending>& pending);
  // Drops the practice's entry when it has nothing running or waiting.
  void ForgetIfIdleLocked(const std::string& practice_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // About how long until `ahead` waiting executions, `lanes` at a time,
  // have run; whole seconds, at least 1.
  int64_t RetrySecondsLocked(int ahead, int lanes) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool HasCancelledOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Unregisters the cancel callback, then calls `done`.
  static void Finish(Pending& pending, absl::StatusOr<ExecutionResult> result);
  void RunLoop();
  void CancelLoop();

  const Options options_;
  const std::unique_ptr<Executor> inner_;
  const Clock& clock_;

  mutable absl::Mutex mu_;
  absl::CondVar work_;  // a request was queued, a slot freed, or stopping
  std::map<std::string, Practice> practices_ ABSL_GUARDED_BY(mu_);
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  int waiting_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t turns_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t arrivals_ ABSL_GUARDED_BY(mu_) = 0;
  // Taken out of their queue by a cancel; `done` not yet called.
  std::deque<std::shared_ptr<Pending>> cancelled_ ABSL_GUARDED_BY(mu_);
  absl::Duration run_estimate_ ABSL_GUARDED_BY(mu_);
  bool run_measured_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  std::vector<std::thread> runners_;
  // Calls `done` for cancelled requests, so that it is neither the
  // cancelling thread (a gRPC reaction) nor a runner busy with a run.
  std::thread canceller_;
};

}  // namespace vet::sandbox

#endif  // VET_CORE_SANDBOX_FAIR_SCHEDULER_H_
