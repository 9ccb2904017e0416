// Implementation of WorkerPool.
#include "core/common/worker_pool.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace vet {

WorkerPool::WorkerPool(Options options) : options_(options) {
  int n = options_.threads > 0 ? options_.threads : 1;
  threads_.reserve(n);
  for (int i = 0; i < n; ++i) threads_.emplace_back([this] { Loop(); });
}

WorkerPool::~WorkerPool() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (auto& t : threads_) t.join();
}

absl::Status WorkerPool::Submit(std::function<void()> task) {
  absl::MutexLock lock(&mu_);
  if (stopping_) return absl::UnavailableError("the server is shutting down");
  // Bounded by what is in the pool at all, so idle threads never count
  // against the queue (max_queued = 0 means "only as many as threads").
  if (queue_.size() + running_ >= threads_.size() + options_.max_queued) {
    return absl::UnavailableError(absl::StrCat(
        "the server is busy (", queue_.size() + running_,
        " questions in progress or waiting); try again in a moment"));
  }
  queue_.push_back(std::move(task));
  return absl::OkStatus();
}

size_t WorkerPool::pending() const {
  absl::MutexLock lock(&mu_);
  return queue_.size() + running_;
}

void WorkerPool::Loop() {
  while (true) {
    std::function<void()> task;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](WorkerPool* p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(p->mu_) {
            return p->stopping_ || !p->queue_.empty();
          },
          this));
      if (queue_.empty()) return;  // stopping and drained
      task = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
    }
    task();
    absl::MutexLock lock(&mu_);
    --running_;
  }
}

}  // namespace vet
