// Sandbox metrics: an Executor decorator that times executions and their
// wait for a slot, and a collector of the sandbox's load (warm workers,
// executions running and waiting) read at scrape time.
#ifndef VET_SERVER_INSTRUMENTED_EXECUTOR_H_
#define VET_SERVER_INSTRUMENTED_EXECUTOR_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/sandbox/executor.h"
#include "core/sandbox/fair_scheduler.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"
#include "server/metrics.h"

namespace vet::server {

// What the sandbox is doing now.
struct SandboxLoad {
  int workers = 0;  // warm workers alive (0 for a sandbox without them)
  int running = 0;  // executions holding a slot
  int waiting = 0;  // executions waiting for one
  // The same per practice, for practices with executions running or
  // waiting (only those, so the series come and go with the work).
  std::map<std::string, sandbox::FairScheduler::PracticeLoad> practices;
};

// vet_sandbox_workers, vet_sandbox_running and vet_sandbox_waiting, and
// vet_sandbox_practice_{running,waiting}{practice}, from `load` at each
// Collect. Thread-safe if `load` is.
class SandboxLoadCollector final : public prometheus::Collectable {
 public:
  explicit SandboxLoadCollector(std::function<SandboxLoad()> load) : load_(std::move(load)) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const std::function<SandboxLoad()> load_;
};

// Forwards to `inner`; for each execution that ran (an OK status, the code
// raising included) records vet_sandbox_execution_seconds{practice} from
// ExecutionResult.elapsed and vet_sandbox_queue_wait_seconds from
// ExecutionResult.queued. With `load`, a SandboxLoadCollector over it is
// added to `metrics` for the decorator's lifetime. Thread-safe as `inner`
// is; `metrics` must outlive it.
class InstrumentedExecutor final : public sandbox::Executor {
 public:
  InstrumentedExecutor(std::unique_ptr<sandbox::Executor> inner, Metrics& metrics,
                       std::function<SandboxLoad()> load);
  ~InstrumentedExecutor() override;
  InstrumentedExecutor(const InstrumentedExecutor&) = delete;
  InstrumentedExecutor& operator=(const InstrumentedExecutor&) = delete;

  absl::StatusOr<sandbox::ExecutionResult> Execute(const sandbox::ExecutionRequest& request,
                                                   sandbox::OutputSink& output,
                                                   CancellationToken& cancel) override;
  // Forwards to `inner`'s ExecuteAsync (so a scheduler's queue stays
  // asynchronous) and records as Execute does, before `done`.
  void ExecuteAsync(const sandbox::ExecutionRequest& request, sandbox::OutputSink& output,
                    CancellationToken& cancel, sandbox::ExecuteCallback done) override;

 private:
  void Record(const std::string& practice_id,
              const absl::StatusOr<sandbox::ExecutionResult>& result);

  const std::unique_ptr<sandbox::Executor> inner_;
  Metrics& metrics_;
  const std::unique_ptr<SandboxLoadCollector> collector_;
};

// Wraps the server's executor, the scheduler in front of the sandbox:
// running and waiting come from the scheduler, warm workers from the
// ZygoteExecutor it runs on (0 for another executor).
std::unique_ptr<sandbox::Executor> InstrumentExecutor(
    std::unique_ptr<sandbox::FairScheduler> scheduler, Metrics& metrics);

}  // namespace vet::server

#endif  // VET_SERVER_INSTRUMENTED_EXECUTOR_H_
