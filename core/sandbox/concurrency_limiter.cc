// Implementation of ConcurrencyLimiter: a queue of waiters under one mutex.
#include "core/sandbox/concurrency_limiter.h"

#include "core/common/log.h"

namespace vet::sandbox {

ConcurrencyLimiter::ConcurrencyLimiter(int limit) : limit_(limit) { VET_CHECK(limit >= 1); }

absl::Status ConcurrencyLimiter::Acquire(CancellationToken& cancel) {
  Waiter me;
  // Registered before taking mu_: if the token is already cancelled the
  // callback runs at once, on this thread, and takes mu_ itself.
  ScopedCancellationCallback on_cancel(cancel, [this, &me] {
    absl::MutexLock lock(&mu_);
    me.cancelled = true;
    changed_.SignalAll();
  });
  absl::MutexLock lock(&mu_);
  if (me.cancelled) {
    return absl::CancelledError("cancelled while waiting for a sandbox slot");
  }
  auto position = queue_.insert(queue_.end(), &me);
  while (!me.cancelled && !(queue_.front() == &me && running_ < limit_)) {
    changed_.Wait(&mu_);
  }
  queue_.erase(position);
  // Whoever is now at the front may be able to go (a slot may be free).
  changed_.SignalAll();
  if (me.cancelled) {
    return absl::CancelledError("cancelled while waiting for a sandbox slot");
  }
  ++running_;
  return absl::OkStatus();
}

void ConcurrencyLimiter::Release() {
  absl::MutexLock lock(&mu_);
  VET_CHECK(running_ > 0);
  --running_;
  changed_.SignalAll();
}

int ConcurrencyLimiter::running() const {
  absl::MutexLock lock(&mu_);
  return running_;
}

int ConcurrencyLimiter::waiting() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(queue_.size());
}

}  // namespace vet::sandbox
