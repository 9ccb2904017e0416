// The service's components, built from ServerOptions in order: metrics,
// tracing, practice data and the practices, the budget, sessions and the
// audit trail (with their sweeper), pricing and the code generator, the
// executor, and the pipeline with its admission and pools. No gRPC here:
// server.cc serves these (AnalyticsService, reflection, the gateway), so
// this wiring compiles, and can be tested, without it.
#ifndef VET_SERVER_COMPONENTS_H_
#define VET_SERVER_COMPONENTS_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "core/audit/audit_recorder.h"
#include "core/audit/audit_store.h"
#include "core/budget/budget_guard.h"
#include "core/budget/pricing.h"
#include "core/codegen/code_generator.h"
#include "core/common/clock.h"
#include "core/common/worker_pool.h"
#include "core/data/dataset_catalog.h"
#include "core/data/dataset_source.h"
#include "core/data/dataset_store.h"
#include "core/pipeline/admission.h"
#include "core/pipeline/pipeline.h"
#include "core/practice/practice.h"
#include "core/sandbox/executor.h"
#include "core/session/session_store.h"
#include "core/telemetry/batch_tracer.h"
#include "prometheus/exposer.h"
#include "server/config.h"
#include "server/dataset_metrics.h"
#include "server/metrics.h"
#include "server/process_metrics.h"

namespace vet::server {

// Owned components, destroyed in reverse order of declaration, except the
// pools: they stop first (finishing what is queued), since their tasks use
// everything else.
struct Components {
  ~Components();

  ServerOptions options;
  const Clock* clock = nullptr;
  std::unique_ptr<Metrics> metrics;
  ProcessCollector process_metrics;
  std::unique_ptr<prometheus::Exposer> exposer;
  int metrics_port = 0;
  // Null when tracing is off; destroyed (flushing what is queued, for up
  // to its shutdown timeout) after everything that starts spans.
  std::unique_ptr<telemetry::BatchTracer> tracer;
  // Practice data: the store replicas share (VET_DATABASE_URL; null
  // without one) and where questions and imports get it; destroyed after
  // everything that reads it.
  std::unique_ptr<data::DatasetStore> dataset_store;
  std::unique_ptr<data::DatasetSource> data;
  // Reads `data` when it is shared; unregistered first on destruction.
  std::unique_ptr<DatasetCacheCollector> dataset_metrics;
  std::unique_ptr<PracticeRegistry> practices;
  std::unique_ptr<session::SessionStore> sessions;
  // The audit trail; the recorder writes what is queued when destroyed,
  // after the pools have stopped calling it.
  std::unique_ptr<audit::AuditStore> audit_store;
  std::unique_ptr<audit::AuditRecorder> audit;
  // Purges expired and ended sessions and expired audit entries every
  // options.session_sweep (SweepOnce); stopped first on destruction.
  std::thread sweeper;
  absl::Notification stop_sweeper;
  std::unique_ptr<budget::BudgetGuard> budget;
  std::unique_ptr<budget::PricingTable> pricing;
  std::unique_ptr<data::DatasetCatalog> datasets;
  std::unique_ptr<codegen::CodeGenerator> generator;
  std::unique_ptr<sandbox::Executor> executor;
  // Runs the questions' steps (the pipeline posts each next step there).
  std::unique_ptr<WorkerPool> pool;
  std::unique_ptr<pipeline::Pipeline> pipeline;
  std::unique_ptr<pipeline::QuestionAdmission> admission;
  // Runs imports, one at a time.
  std::unique_ptr<WorkerPool> import_pool;
  // One reload of the practices at a time (ReloadPractices).
  absl::Mutex reload_mu;
};

// Builds every component; `clock` must outlive them. kInvalidArgument for a
// bad practices file or budget, kUnavailable when the metrics address
// cannot be bound, kFailedPrecondition when the state directory cannot be
// made or the sandbox cannot run.
absl::StatusOr<std::unique_ptr<Components>> BuildComponents(const ServerOptions& options,
                                                            const Clock& clock);

// Rereads the practices file (and re-adds the demo practice); on a bad file
// returns its error and keeps the practices loaded. Thread-safe.
absl::Status ReloadPractices(Components& c);

// One sweep: expired sessions, then audit entries past the retention; each
// failure logged. Returns the sessions purged (or the purge's error).
absl::StatusOr<int> SweepOnce(Components& c);

// "demo, clinic-a": the practices served, for the log.
std::string PracticeIds(const PracticeRegistry& practices);

}  // namespace vet::server

#endif  // VET_SERVER_COMPONENTS_H_
