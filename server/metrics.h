// The service's Prometheus metric families, created once and handed to the
// components that record them, and what the exposer serves: those families
// plus collectors that read state at scrape time (budgets, sandbox load).
// Names: vet_<what>_<unit>[_total]; labels by practice, model, kind and
// status, never by session or question. docs/METRICS.md lists every metric.
#ifndef VET_SERVER_METRICS_H_
#define VET_SERVER_METRICS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/audit/audit_recorder.h"
#include "prometheus/collectable.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace vet::server {

// Thread-safe (prometheus-cpp metrics are; the collector list is locked).
class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  const std::shared_ptr<prometheus::Registry>& registry() const { return registry_; }
  // What the exposer serves: the registry's families, then those of every
  // collector added below, collected afresh at each scrape.
  std::shared_ptr<prometheus::Collectable> collectable() const;

  // Collects `collector` at every scrape until RemoveCollector. The caller
  // keeps ownership; RemoveCollector waits for a scrape in progress, so the
  // collector (and what it reads) may be destroyed as soon as it returns.
  void AddCollector(const prometheus::Collectable* collector);
  void RemoveCollector(const prometheus::Collectable* collector);

  // Exports the practice's series at zero (histograms empty) so that every
  // family exists, and an alert on a rate has a series, before the first
  // question: questions by the statuses a question usually ends with,
  // denials, sandbox time and execution time, spend under each of `models`
  // ("planner" included), tokens under each model but "planner", and each
  // soft-cap downgrade (from, to) in `downgrades`. Idempotent; called for
  // every practice at start-up and on reload.
  void AddPractice(const std::string& practice_id, const std::vector<std::string>& models,
                   const std::vector<std::pair<std::string, std::string>>& downgrades);

  // One finished question: its final gRPC status name ("OK", ...), how long it
  // took and how long until its first event.
  void RecordQuestion(const std::string& practice_id, const std::string& status,
                      absl::Duration duration);
  void RecordFirstEvent(absl::Duration latency);
  // From a question's submission to the worker pool until it starts running.
  void RecordWorkerPoolWait(absl::Duration wait);
  prometheus::Gauge& active_streams() { return *active_streams_; }
  prometheus::Gauge& queued_work() { return *queued_work_; }

  // Money settled (BudgetGuard::Commit): tokens of one kind ("input",
  // "cached_input", "output"), dollars, sandbox seconds charged.
  void RecordTokens(const std::string& practice_id, const std::string& model,
                    const std::string& kind, int64_t tokens);
  void RecordSpend(const std::string& practice_id, const std::string& model, double usd);
  void RecordSandboxCharged(const std::string& practice_id, double seconds);
  // A reservation refused because it would pass the hard cap.
  void RecordBudgetDenial(const std::string& practice_id);
  // The soft cap made a question use model `to` instead of `from`.
  void RecordDowngrade(const std::string& practice_id, const std::string& from,
                       const std::string& to);

  // One sandbox execution that ran (its code's run time) and the time it
  // waited for an execution slot first.
  void RecordExecution(const std::string& practice_id, absl::Duration elapsed);
  void RecordExecutionQueueWait(absl::Duration wait);

  // The audit trail's counters (vet_audit_entries_written_total and
  // vet_audit_entries_dropped_total{reason}), as the AuditRecorder reports
  // them.
  audit::AuditMetrics& audit() { return audit_; }

  // Spans the tracer lost (vet_trace_spans_dropped_total{reason}), as
  // telemetry::BatchTracer::Options::on_dropped reports them.
  void RecordSpansDropped(absl::string_view reason, int64_t spans);

 private:
  class Exposed;
  class AuditCounters final : public audit::AuditMetrics {
   public:
    void Written(int64_t entries) override;
    void Dropped(absl::string_view reason, int64_t entries) override;
    prometheus::Counter* written = nullptr;
    prometheus::Family<prometheus::Counter>* dropped = nullptr;
  };

  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<Exposed> exposed_;
  prometheus::Family<prometheus::Counter>* questions_;
  prometheus::Family<prometheus::Histogram>* duration_;
  prometheus::Histogram* first_event_;
  prometheus::Histogram* pool_wait_;
  prometheus::Gauge* active_streams_;
  prometheus::Gauge* queued_work_;
  prometheus::Family<prometheus::Counter>* tokens_;
  prometheus::Family<prometheus::Counter>* spend_;
  prometheus::Family<prometheus::Counter>* sandbox_charged_;
  prometheus::Family<prometheus::Counter>* denials_;
  prometheus::Family<prometheus::Counter>* downgrades_;
  prometheus::Family<prometheus::Histogram>* execution_;
  prometheus::Histogram* execution_wait_;
  AuditCounters audit_;
  prometheus::Family<prometheus::Counter>* spans_dropped_;
};

}  // namespace vet::server

#endif  // VET_SERVER_METRICS_H_
