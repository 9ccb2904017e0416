// The load counters are not on the Executor interface (they are for
// metrics and tests only): the scheduler's come from its own type, and the
// warm-worker count from the one dynamic_cast at wiring time.
#include "server/instrumented_executor.h"

#include <string>
#include <utility>

#include "core/sandbox/zygote_executor.h"
#include "prometheus/client_metric.h"
#include "prometheus/metric_type.h"

namespace vet::server {
namespace {

prometheus::MetricFamily Gauge(std::string name, std::string help, int value) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = prometheus::MetricType::Gauge;
  prometheus::ClientMetric metric;
  metric.gauge.value = value;
  family.metric.push_back(std::move(metric));
  return family;
}

// One gauge per practice, from `value` of each practice's load.
prometheus::MetricFamily PracticeGauge(
    std::string name, std::string help,
    const std::map<std::string, sandbox::FairScheduler::PracticeLoad>& practices,
    int sandbox::FairScheduler::PracticeLoad::*value) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = prometheus::MetricType::Gauge;
  for (const auto& [practice, load] : practices) {
    prometheus::ClientMetric metric;
    metric.label.push_back({"practice", practice});
    metric.gauge.value = load.*value;
    family.metric.push_back(std::move(metric));
  }
  return family;
}

}  // namespace

std::vector<prometheus::MetricFamily> SandboxLoadCollector::Collect() const {
  const SandboxLoad load = load_();
  return {
      Gauge("vet_sandbox_workers", "Warm sandbox workers alive (one per active practice)",
            load.workers),
      Gauge("vet_sandbox_running", "Sandbox executions running", load.running),
      Gauge("vet_sandbox_waiting", "Sandbox executions waiting for a slot", load.waiting),
      PracticeGauge("vet_sandbox_practice_running", "Sandbox executions running, by practice",
                    load.practices, &sandbox::FairScheduler::PracticeLoad::running),
      PracticeGauge("vet_sandbox_practice_waiting",
                    "Sandbox executions waiting for a slot, by practice", load.practices,
                    &sandbox::FairScheduler::PracticeLoad::waiting),
  };
}

InstrumentedExecutor::InstrumentedExecutor(std::unique_ptr<sandbox::Executor> inner,
                                           Metrics& metrics, std::function<SandboxLoad()> load)
    : inner_(std::move(inner)),
      metrics_(metrics),
      collector_(load ? std::make_unique<SandboxLoadCollector>(std::move(load)) : nullptr) {
  if (collector_ != nullptr) metrics_.AddCollector(collector_.get());
}

InstrumentedExecutor::~InstrumentedExecutor() {
  if (collector_ != nullptr) metrics_.RemoveCollector(collector_.get());
}

absl::StatusOr<sandbox::ExecutionResult> InstrumentedExecutor::Execute(
    const sandbox::ExecutionRequest& request, sandbox::OutputSink& output,
    CancellationToken& cancel) {
  absl::StatusOr<sandbox::ExecutionResult> result = inner_->Execute(request, output, cancel);
  Record(request.practice_id, result);
  return result;
}

void InstrumentedExecutor::ExecuteAsync(const sandbox::ExecutionRequest& request,
                                        sandbox::OutputSink& output, CancellationToken& cancel,
                                        sandbox::ExecuteCallback done) {
  inner_->ExecuteAsync(request, output, cancel,
                       [this, practice_id = request.practice_id,
                        done = std::move(done)](absl::StatusOr<sandbox::ExecutionResult> result) {
                         Record(practice_id, result);
                         done(std::move(result));
                       });
}

void InstrumentedExecutor::Record(const std::string& practice_id,
                                  const absl::StatusOr<sandbox::ExecutionResult>& result) {
  if (result.ok()) {
    metrics_.RecordExecution(practice_id, result->elapsed);
    metrics_.RecordExecutionQueueWait(result->queued);
  }
}

std::unique_ptr<sandbox::Executor> InstrumentExecutor(
    std::unique_ptr<sandbox::FairScheduler> scheduler, Metrics& metrics) {
  const sandbox::FairScheduler* s = scheduler.get();
  const auto* zygote = dynamic_cast<const sandbox::ZygoteExecutor*>(&s->inner());
  std::function<SandboxLoad()> load = [s, zygote] {
    return SandboxLoad{zygote != nullptr ? zygote->workers() : 0, s->running(), s->waiting(),
                       s->practice_load()};
  };
  return std::make_unique<InstrumentedExecutor>(std::move(scheduler), metrics, std::move(load));
}

}  // namespace vet::server
