// Where the steps of asynchronous work run: a question's pipeline continues
// on a TaskRunner when a model reply, an execution slot or a timer arrives,
// so no thread waits on the network or on a queue.
#ifndef VET_CORE_COMMON_TASK_RUNNER_H_
#define VET_CORE_COMMON_TASK_RUNNER_H_

#include <functional>

#include "absl/time/time.h"

namespace vet {

// Thread-safe. Implementations: WorkerPool (core/common/worker_pool.h).
class TaskRunner {
 public:
  virtual ~TaskRunner() = default;

  // Runs `task` on one of the runner's threads, after the tasks posted
  // before it have started. Never refused: it continues work that was
  // already admitted. Tasks must not block for long.
  virtual void Post(std::function<void()> task) = 0;

  // Runs `task` as Post would, once `delay` has passed (measured on a
  // monotonic clock).
  virtual void PostAfter(absl::Duration delay, std::function<void()> task) = 0;
};

}  // namespace vet

#endif  // VET_CORE_COMMON_TASK_RUNNER_H_
