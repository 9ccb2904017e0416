// Metric families and their buckets. Question durations span ~50 ms (warm
// planner answers) to the 30 s sandbox limit, hence the bucket spread; waits
// for a thread or a sandbox slot are usually near zero, so their buckets
// start at a millisecond.
#include "server/metrics.h"

#include <algorithm>
#include <iterator>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "core/common/version.h"
#include "core/telemetry/batch_tracer.h"
#include "prometheus/metric_family.h"

namespace vet::server {
namespace {
const prometheus::Histogram::BucketBoundaries kSecondsBuckets = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                                 1,    2.5,   5,    10,  30,   60};
const prometheus::Histogram::BucketBoundaries kWaitBuckets = {
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
}  // namespace

// The registry and the scrape-time collectors, as one Collectable. Scrapes
// hold the lock shared, so a collector is never removed while it runs.
class Metrics::Exposed final : public prometheus::Collectable {
 public:
  explicit Exposed(std::shared_ptr<prometheus::Registry> registry)
      : registry_(std::move(registry)) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> families = registry_->Collect();
    absl::ReaderMutexLock lock(&mu_);
    // prometheus-cpp leaves out a family with no series; these are announced
    // all the same (# HELP, # TYPE), so dashboards and the docs' promise
    // (every family from start-up) hold on a server with no model.
    for (const prometheus::MetricFamily& announced : announced_) {
      const bool present =
          std::any_of(families.begin(), families.end(),
                      [&](const prometheus::MetricFamily& f) { return f.name == announced.name; });
      if (!present) families.push_back(announced);
    }
    for (const prometheus::Collectable* collector : collectors_) {
      std::vector<prometheus::MetricFamily> more = collector->Collect();
      families.insert(families.end(), std::make_move_iterator(more.begin()),
                      std::make_move_iterator(more.end()));
    }
    return families;
  }

  void Add(const prometheus::Collectable* collector) {
    absl::MutexLock lock(&mu_);
    collectors_.push_back(collector);
  }

  // A family served even while it has no series.
  void Announce(std::string name, std::string help, prometheus::MetricType type) {
    absl::MutexLock lock(&mu_);
    prometheus::MetricFamily family;
    family.name = std::move(name);
    family.help = std::move(help);
    family.type = type;
    announced_.push_back(std::move(family));
  }

  void Remove(const prometheus::Collectable* collector) {
    absl::MutexLock lock(&mu_);
    collectors_.erase(std::remove(collectors_.begin(), collectors_.end(), collector),
                      collectors_.end());
  }

 private:
  const std::shared_ptr<prometheus::Registry> registry_;
  mutable absl::Mutex mu_;
  std::vector<const prometheus::Collectable*> collectors_ ABSL_GUARDED_BY(mu_);
  std::vector<prometheus::MetricFamily> announced_ ABSL_GUARDED_BY(mu_);
};

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      exposed_(std::make_shared<Exposed>(registry_)) {
  // The usual build-info shape: a constant 1 whose labels say what runs, so
  // that a query can join on them or count versions across replicas.
  prometheus::BuildGauge()
      .Name("vet_build_info")
      .Help("Always 1; the labels are the version and commit of the running binary")
      .Register(*registry_)
      .Add({{"version", BuildVersion()}, {"commit", BuildCommit()}})
      .Set(1);
  questions_ = &prometheus::BuildCounter()
                    .Name("vet_questions_total")
                    .Help("Questions answered, by practice and final gRPC status")
                    .Register(*registry_);
  duration_ = &prometheus::BuildHistogram()
                   .Name("vet_question_duration_seconds")
                   .Help("Time from receiving a question to the end of its stream")
                   .Register(*registry_);
  first_event_ = &prometheus::BuildHistogram()
                      .Name("vet_question_first_event_seconds")
                      .Help("Time from receiving a question to its first event")
                      .Register(*registry_)
                      .Add({}, kSecondsBuckets);
  pool_wait_ = &prometheus::BuildHistogram()
                    .Name("vet_worker_pool_queue_wait_seconds")
                    .Help("Time a question waited for a worker thread before it started")
                    .Register(*registry_)
                    .Add({}, kWaitBuckets);
  active_streams_ = &prometheus::BuildGauge()
                         .Name("vet_active_streams")
                         .Help("Ask streams in progress")
                         .Register(*registry_)
                         .Add({});
  queued_work_ = &prometheus::BuildGauge()
                      .Name("vet_worker_pool_pending")
                      .Help("Blocking tasks queued or running on the worker pool")
                      .Register(*registry_)
                      .Add({});
  constexpr char kTokensHelp[] =
      "Model tokens paid for, by practice, model and kind (input: uncached prompt, "
      "cached_input, output)";
  tokens_ = &prometheus::BuildCounter()
                 .Name("vet_model_tokens_total")
                 .Help(kTokensHelp)
                 .Register(*registry_);
  exposed_->Announce("vet_model_tokens_total", kTokensHelp, prometheus::MetricType::Counter);
  spend_ = &prometheus::BuildCounter()
                .Name("vet_spend_usd_total")
                .Help(
                    "Money committed to practices' budgets (model calls and sandbox "
                    "time), by practice and model")
                .Register(*registry_);
  sandbox_charged_ = &prometheus::BuildCounter()
                          .Name("vet_sandbox_charged_seconds_total")
                          .Help("Sandbox execution time charged to practices' budgets")
                          .Register(*registry_);
  denials_ = &prometheus::BuildCounter()
                  .Name("vet_budget_denials_total")
                  .Help("Questions refused because they would pass the budget's hard cap")
                  .Register(*registry_);
  constexpr char kDowngradesHelp[] = "Questions the budget's soft cap moved to a cheaper model";
  downgrades_ = &prometheus::BuildCounter()
                     .Name("vet_budget_downgrades_total")
                     .Help(kDowngradesHelp)
                     .Register(*registry_);
  exposed_->Announce("vet_budget_downgrades_total", kDowngradesHelp,
                     prometheus::MetricType::Counter);
  execution_ = &prometheus::BuildHistogram()
                    .Name("vet_sandbox_execution_seconds")
                    .Help("Run time of generated code in the sandbox, by practice")
                    .Register(*registry_);
  execution_wait_ = &prometheus::BuildHistogram()
                         .Name("vet_sandbox_queue_wait_seconds")
                         .Help("Time an execution waited for a sandbox slot")
                         .Register(*registry_)
                         .Add({}, kWaitBuckets);
  audit_.written = &prometheus::BuildCounter()
                        .Name("vet_audit_entries_written_total")
                        .Help("Audit trail entries appended to the store")
                        .Register(*registry_)
                        .Add({});
  audit_.dropped = &prometheus::BuildCounter()
                        .Name("vet_audit_entries_dropped_total")
                        .Help(
                            "Calls with no audit entry, by reason: queue_full, "
                            "write_failed, refusal_limit, unattributed")
                        .Register(*registry_);
  // The reasons exist from the start, so that an alert on their rate has a
  // series to read before the first drop.
  for (const char* reason : {audit::kDropQueueFull, audit::kDropWriteFailed,
                             audit::kDropRefusalLimit, audit::kDropUnattributed}) {
    audit_.dropped->Add({{"reason", reason}});
  }
  spans_dropped_ = &prometheus::BuildCounter()
                        .Name("vet_trace_spans_dropped_total")
                        .Help(
                            "Spans not exported, by reason: queue_full, export_failed, "
                            "shutdown")
                        .Register(*registry_);
  for (absl::string_view reason :
       {telemetry::kDropQueueFull, telemetry::kDropExportFailed, telemetry::kDropShutdown}) {
    spans_dropped_->Add({{"reason", std::string(reason)}});
  }
}

Metrics::~Metrics() = default;

void Metrics::AuditCounters::Written(int64_t entries) {
  written->Increment(static_cast<double>(entries));
}

void Metrics::AuditCounters::Dropped(absl::string_view reason, int64_t entries) {
  dropped->Add({{"reason", std::string(reason)}}).Increment(static_cast<double>(entries));
}

void Metrics::RecordSpansDropped(absl::string_view reason, int64_t spans) {
  spans_dropped_->Add({{"reason", std::string(reason)}}).Increment(static_cast<double>(spans));
}

std::shared_ptr<prometheus::Collectable> Metrics::collectable() const { return exposed_; }

void Metrics::AddCollector(const prometheus::Collectable* collector) { exposed_->Add(collector); }

void Metrics::RemoveCollector(const prometheus::Collectable* collector) {
  exposed_->Remove(collector);
}

void Metrics::AddPractice(const std::string& practice_id, const std::vector<std::string>& models,
                          const std::vector<std::pair<std::string, std::string>>& downgrades) {
  // What the pipeline's statuses can be (core/pipeline/pipeline.h), not all
  // 17 codes: the series count is practices x this list.
  for (const char* status : {"OK", "INVALID_ARGUMENT", "NOT_FOUND", "RESOURCE_EXHAUSTED",
                             "DEADLINE_EXCEEDED", "CANCELLED", "UNAVAILABLE", "INTERNAL"}) {
    questions_->Add({{"practice", practice_id}, {"status", status}});
  }
  duration_->Add({{"practice", practice_id}}, kSecondsBuckets);
  denials_->Add({{"practice", practice_id}});
  sandbox_charged_->Add({{"practice", practice_id}});
  execution_->Add({{"practice", practice_id}}, kSecondsBuckets);
  for (const std::string& model : models) {
    spend_->Add({{"practice", practice_id}, {"model", model}});
    if (model == "planner") continue;
    for (const char* kind : {"input", "cached_input", "output"}) {
      tokens_->Add({{"practice", practice_id}, {"model", model}, {"kind", kind}});
    }
  }
  for (const auto& [from, to] : downgrades) {
    downgrades_->Add({{"practice", practice_id}, {"from", from}, {"to", to}});
  }
}

void Metrics::RecordQuestion(const std::string& practice_id, const std::string& status,
                             absl::Duration duration) {
  questions_->Add({{"practice", practice_id}, {"status", status}}).Increment();
  duration_->Add({{"practice", practice_id}}, kSecondsBuckets)
      .Observe(absl::ToDoubleSeconds(duration));
}

void Metrics::RecordFirstEvent(absl::Duration latency) {
  first_event_->Observe(absl::ToDoubleSeconds(latency));
}

void Metrics::RecordWorkerPoolWait(absl::Duration wait) {
  pool_wait_->Observe(absl::ToDoubleSeconds(wait));
}

void Metrics::RecordTokens(const std::string& practice_id, const std::string& model,
                           const std::string& kind, int64_t tokens) {
  tokens_->Add({{"practice", practice_id}, {"model", model}, {"kind", kind}})
      .Increment(static_cast<double>(std::max<int64_t>(0, tokens)));
}

void Metrics::RecordSpend(const std::string& practice_id, const std::string& model, double usd) {
  spend_->Add({{"practice", practice_id}, {"model", model}}).Increment(std::max(0.0, usd));
}

void Metrics::RecordSandboxCharged(const std::string& practice_id, double seconds) {
  sandbox_charged_->Add({{"practice", practice_id}}).Increment(std::max(0.0, seconds));
}

void Metrics::RecordBudgetDenial(const std::string& practice_id) {
  denials_->Add({{"practice", practice_id}}).Increment();
}

void Metrics::RecordDowngrade(const std::string& practice_id, const std::string& from,
                              const std::string& to) {
  downgrades_->Add({{"practice", practice_id}, {"from", from}, {"to", to}}).Increment();
}

void Metrics::RecordExecution(const std::string& practice_id, absl::Duration elapsed) {
  execution_->Add({{"practice", practice_id}}, kSecondsBuckets)
      .Observe(absl::ToDoubleSeconds(elapsed));
}

void Metrics::RecordExecutionQueueWait(absl::Duration wait) {
  execution_wait_->Observe(absl::ToDoubleSeconds(wait));
}

}  // namespace vet::server
