// A counting semaphore that admits callers strictly in arrival order and lets
// a waiting caller give up when its question is cancelled. ZygoteExecutor
// uses it to bound how many workers start at once: extra starts wait their
// turn, they are never refused. (Executions are admitted by FairScheduler,
// fair_scheduler.h, per practice.)
#ifndef VET_CORE_SANDBOX_CONCURRENCY_LIMITER_H_
#define VET_CORE_SANDBOX_CONCURRENCY_LIMITER_H_

#include <list>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "core/common/cancellation.h"

namespace vet::sandbox {

// Thread-safe.
class ConcurrencyLimiter {
 public:
  // `limit` slots; must be >= 1.
  explicit ConcurrencyLimiter(int limit);
  ConcurrencyLimiter(const ConcurrencyLimiter&) = delete;
  ConcurrencyLimiter& operator=(const ConcurrencyLimiter&) = delete;

  // Blocks until a slot is free and every caller that arrived earlier has been
  // admitted or has given up. Returns OK holding a slot (give it back with
  // Release), or kCancelled without one if `cancel` is tripped first.
  absl::Status Acquire(CancellationToken& cancel);
  void Release();

  int running() const;
  int waiting() const;

 private:
  struct Waiter {
    bool cancelled = false;
  };

  const int limit_;
  mutable absl::Mutex mu_;
  absl::CondVar changed_;
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  // Arrival order; the front is the only one that may take a free slot.
  std::list<Waiter*> queue_ ABSL_GUARDED_BY(mu_);
};

// Holds one slot for a scope.
class ConcurrencySlot {
 public:
  explicit ConcurrencySlot(ConcurrencyLimiter& limiter) : limiter_(limiter) {}
  ~ConcurrencySlot() { limiter_.Release(); }
  ConcurrencySlot(const ConcurrencySlot&) = delete;
  ConcurrencySlot& operator=(const ConcurrencySlot&) = delete;

 private:
  ConcurrencyLimiter& limiter_;
};

}  // namespace vet::sandbox

#endif  // VET_CORE_SANDBOX_CONCURRENCY_LIMITER_H_
