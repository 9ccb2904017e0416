// A bounded pool of threads for blocking work (sandbox I/O, HTTP calls), so
// that gRPC's own threads never block. Work beyond the threads waits in a
// bounded queue; beyond that it is refused, never silently dropped.
#ifndef VET_CORE_COMMON_WORKER_POOL_H_
#define VET_CORE_COMMON_WORKER_POOL_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace vet {

// Thread-safe.
class WorkerPool {
 public:
  struct Options {
    int threads = 8;
    // Tasks waiting for a thread while every thread is busy; Submit()
    // beyond this is refused.
    size_t max_queued = 256;
  };

  explicit WorkerPool(Options options);
  // Runs every queued task, then joins the threads.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task`. Returns kUnavailable when the queue is full or the pool is
  // shutting down; the task is then not run.
  absl::Status Submit(std::function<void()> task);

  // Tasks queued or running.
  size_t pending() const;

 private:
  void Loop();

  const Options options_;
  mutable absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  size_t running_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace vet

#endif  // VET_CORE_COMMON_WORKER_POOL_H_
