// A bounded pool of threads for the CPU-bound steps of questions (planner,
// store I/O, building events), so that gRPC's own threads never block. New
// work (Submit) beyond the threads waits in a bounded queue and beyond that
// is refused, never silently dropped; the continuations of admitted work
// (Post, PostAfter) are never refused. Nothing that waits on the network
// or on a queue should hold one of these threads: such work is asynchronous
// and posts its continuation here.
#ifndef VET_CORE_COMMON_WORKER_POOL_H_
#define VET_CORE_COMMON_WORKER_POOL_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/common/task_runner.h"

namespace vet {

// Thread-safe.
class WorkerPool final : public TaskRunner {
 public:
  struct Options {
    int threads = 8;
    // Tasks waiting for a thread while every thread is busy; Submit()
    // beyond this is refused.
    size_t max_queued = 256;
  };

  explicit WorkerPool(Options options);
  // Runs every queued task and every timer (at once, not at its time),
  // then joins the threads. Posting from a task while the pool is being
  // destroyed still runs that task.
  ~WorkerPool() override;
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task` as new work. Returns kUnavailable when max_queued new
  // tasks already wait (beyond the idle threads) or the pool is shutting
  // down; the task is then not run. Continuations (Post) do not count
  // against the bound: they are work already admitted.
  absl::Status Submit(std::function<void()> task);

  // TaskRunner: never refused, whatever the queue holds. Continuations run
  // before new work, so that questions in progress finish first and a
  // burst of new ones waits (and is refused at the bound) instead.
  void Post(std::function<void()> task) override;
  void PostAfter(absl::Duration delay, std::function<void()> task) override;

  // Tasks queued or running (timers not yet due are not counted).
  size_t pending() const;

 private:
  void Loop();
  void TimerLoop();

  const Options options_;
  mutable absl::Mutex mu_;
  // Continuations (Post, due timers) and new work (Submit).
  std::deque<std::function<void()>> continuations_ ABSL_GUARDED_BY(mu_);
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  size_t running_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Timers by due time (monotonic); the sequence number keeps equal times
  // in posting order.
  std::map<std::pair<absl::Time, int64_t>, std::function<void()>> timers_ ABSL_GUARDED_BY(mu_);
  int64_t next_timer_ ABSL_GUARDED_BY(mu_) = 0;
  bool timers_stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
  std::thread timer_thread_;
};

}  // namespace vet

#endif  // VET_CORE_COMMON_WORKER_POOL_H_
