// A scripted Executor: writes the given output, then returns the queued
// result. With `block_until_cancelled` it waits for the token, like a long
// computation would, and returns kCancelled.
#ifndef VET_CORE_SANDBOX_TESTING_FAKE_EXECUTOR_H_
#define VET_CORE_SANDBOX_TESTING_FAKE_EXECUTOR_H_

#include <deque>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "core/sandbox/executor.h"

namespace vet::sandbox {

class FakeExecutor final : public Executor {
 public:
  struct Step {
    std::vector<std::pair<OutputStream, std::string>> output;
    absl::StatusOr<ExecutionResult> result;
  };
  bool block_until_cancelled = false;
  absl::Notification started;

  void Push(Step step) {
    absl::MutexLock lock(&mu_);
    script_.push_back(std::move(step));
  }
  static ExecutionResult Number(double v, std::string answer = "") {
    ExecutionResult r;
    r.result.kind = ResultValue::Kind::kNumber;
    r.result.number = v;
    r.answer = std::move(answer);
    return r;
  }
  static ExecutionResult Raised(std::string type, std::string message, int line) {
    ExecutionResult r;
    r.error = CodeError{std::move(type), std::move(message), line};
    return r;
  }

  absl::StatusOr<ExecutionResult> Execute(const ExecutionRequest& request, OutputSink& output,
                                          CancellationToken& cancel) override {
    Step step;
    bool first = false;
    {
      absl::MutexLock lock(&mu_);
      requests_.push_back(request);
      if (script_.empty()) return absl::InternalError("FakeExecutor: script is empty");
      step = std::move(script_.front());
      script_.pop_front();
      // Decided under the lock: two executions starting together must not
      // both notify (absl::Notification aborts on a second Notify).
      first = !notifying_;
      notifying_ = true;
    }
    if (first) started.Notify();
    for (auto& [stream, text] : step.output) output.OnOutput(stream, text);
    if (block_until_cancelled) {
      cancel.WaitFor(absl::InfiniteDuration());
      return absl::CancelledError("execution cancelled");
    }
    return std::move(step.result);
  }
  std::vector<ExecutionRequest> requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }

 private:
  absl::Mutex mu_;
  std::deque<Step> script_ ABSL_GUARDED_BY(mu_);
  bool notifying_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<ExecutionRequest> requests_ ABSL_GUARDED_BY(mu_);
};

}  // namespace vet::sandbox

#endif  // VET_CORE_SANDBOX_TESTING_FAKE_EXECUTOR_H_
