// Implementation of WorkerPool: one queue of tasks served by the pool's
// threads, and one timer thread that moves due timers onto that queue.
#include "core/common/worker_pool.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/common/error_details.h"

namespace vet {
namespace {

// Timers are ordered on the monotonic clock: a wall-clock step must not
// fire them early or hold them back.
absl::Time MonotonicNow() {
  return absl::UnixEpoch() + absl::FromChrono(std::chrono::steady_clock::now().time_since_epoch());
}

}  // namespace

WorkerPool::WorkerPool(Options options) : options_(options) {
  int n = options_.threads > 0 ? options_.threads : 1;
  threads_.reserve(n);
  for (int i = 0; i < n; ++i) threads_.emplace_back([this] { Loop(); });
  timer_thread_ = std::thread([this] { TimerLoop(); });
}

WorkerPool::~WorkerPool() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  // The timer thread hands every remaining timer to the queue before it
  // ends, so that work waiting on a timer still finishes.
  timer_thread_.join();
  for (auto& t : threads_) t.join();
}

absl::Status WorkerPool::Submit(std::function<void()> task) {
  absl::MutexLock lock(&mu_);
  if (stopping_) return absl::UnavailableError("the server is shutting down");
  // Bounded by what is in the pool at all, so idle threads never count
  // against the queue (max_queued = 0 means "only as many as threads").
  const size_t idle = threads_.size() - std::min(threads_.size(), running_);
  if (queue_.size() >= idle + options_.max_queued) {
    return WithRetryDelay(WithReason(absl::UnavailableError(absl::StrCat(
                                         "the server is busy (", queue_.size(),
                                         " new questions waiting for a thread); try again in a "
                                         "moment")),
                                     reason::kServerBusy),
                          absl::Seconds(1));
  }
  queue_.push_back(std::move(task));
  return absl::OkStatus();
}

void WorkerPool::Post(std::function<void()> task) {
  absl::MutexLock lock(&mu_);
  continuations_.push_back(std::move(task));
}

void WorkerPool::PostAfter(absl::Duration delay, std::function<void()> task) {
  absl::MutexLock lock(&mu_);
  if (timers_stopped_ || delay <= absl::ZeroDuration()) {
    continuations_.push_back(std::move(task));
    return;
  }
  timers_.emplace(std::make_pair(MonotonicNow() + delay, next_timer_++), std::move(task));
}

size_t WorkerPool::pending() const {
  absl::MutexLock lock(&mu_);
  return continuations_.size() + queue_.size() + running_;
}

void WorkerPool::TimerLoop() {
  absl::MutexLock lock(&mu_);
  while (true) {
    const absl::Time now = MonotonicNow();
    while (!timers_.empty() && (stopping_ || timers_.begin()->first.first <= now)) {
      continuations_.push_back(std::move(timers_.begin()->second));
      timers_.erase(timers_.begin());
    }
    if (stopping_) {
      timers_stopped_ = true;
      return;
    }
    auto changed =
        [this, size = timers_.size(),
         first = timers_.empty() ? absl::InfiniteFuture() : timers_.begin()->first.first]()
            ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
              return stopping_ || timers_.size() != size ||
                     (!timers_.empty() && timers_.begin()->first.first < first);
            };
    const absl::Duration wait =
        timers_.empty() ? absl::Hours(1) : timers_.begin()->first.first - now;
    mu_.AwaitWithTimeout(absl::Condition(&changed), wait);
  }
}

void WorkerPool::Loop() {
  while (true) {
    std::function<void()> task;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](WorkerPool* p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(p->mu_) {
            return (p->stopping_ && p->timers_stopped_) || !p->queue_.empty() ||
                   !p->continuations_.empty();
          },
          this));
      auto& from = !continuations_.empty() ? continuations_ : queue_;
      if (from.empty()) return;  // stopping, timers handed over, drained
      task = std::move(from.front());
      from.pop_front();
      ++running_;
    }
    task();
    absl::MutexLock lock(&mu_);
    --running_;
  }
}

}  // namespace vet
