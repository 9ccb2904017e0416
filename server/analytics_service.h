// vetanalytics.v1.AnalyticsService on gRPC's callback API. Each method
// authenticates, validates, hands the blocking work to the worker pool and
// maps the status; the pipeline and stores do the rest.
#ifndef VET_SERVER_ANALYTICS_SERVICE_H_
#define VET_SERVER_ANALYTICS_SERVICE_H_

#include "core/audit/audit_recorder.h"
#include "core/audit/audit_store.h"
#include "core/budget/budget_guard.h"
#include "core/common/clock.h"
#include "core/common/worker_pool.h"
#include "core/data/dataset_catalog.h"
#include "core/data/practice_data.h"
#include "core/pipeline/admission.h"
#include "core/pipeline/pipeline.h"
#include "core/practice/practice.h"
#include "core/session/session_store.h"
#include "server/metrics.h"
#include "vetanalytics/v1/analytics.grpc.pb.h"

namespace vet::server {

class AnalyticsService final : public vetanalytics::v1::AnalyticsService::CallbackService {
 public:
  struct Deps {
    const PracticeRegistry* practices;
    pipeline::Pipeline* pipeline;
    budget::BudgetGuard* budget;
    session::SessionStore* sessions;
    data::DatasetCatalog* datasets;
    WorkerPool* pool;
    // Import uploads and commits: separate from questions, so that a busy
    // pool never cuts an upload short, and one thread, so that at most one
    // dataset is validated in memory at a time.
    WorkerPool* import_pool;
    Metrics* metrics;
    const Clock* clock;
    data::ImportLimits import_limits;
    // Questions in progress, in all and per practice; nullptr for no bound.
    pipeline::QuestionAdmission* admission = nullptr;
    // A client that does not read its events: an Ask stream holding more
    // than this many bytes of events not yet written is cancelled, and so
    // is one whose events are not all written this long after its question
    // ended. The most a question legitimately sends is about 55 MiB
    // (result.csv at its 32 MiB cap, charts, output), so 64 MiB never cuts
    // a client that reads, however slowly; the stall limit bounds how long
    // a client that stopped reading holds that memory.
    int64_t max_buffered_event_bytes = int64_t{64} << 20;
    absl::Duration stalled_stream_limit = absl::Minutes(2);
    // Every call is recorded here (CallAudit), and ListAudit reads the
    // store; nullptr records nothing and ListAudit is UNIMPLEMENTED.
    audit::AuditRecorder* audit = nullptr;
    audit::AuditStore* audit_store = nullptr;
  };
  explicit AnalyticsService(Deps deps) : deps_(deps) {}

  grpc::ServerWriteReactor<vetanalytics::v1::AskEvent>* Ask(
      grpc::CallbackServerContext* context,
      const vetanalytics::v1::AskRequest* request) override;
  grpc::ServerUnaryReactor* GetBudget(grpc::CallbackServerContext* context,
                                      const vetanalytics::v1::GetBudgetRequest* request,
                                      vetanalytics::v1::Budget* response) override;
  grpc::ServerUnaryReactor* DescribeDataset(
      grpc::CallbackServerContext* context,
      const vetanalytics::v1::DescribeDatasetRequest* request,
      vetanalytics::v1::DatasetDescription* response) override;
  grpc::ServerUnaryReactor* GetSession(grpc::CallbackServerContext* context,
                                       const vetanalytics::v1::GetSessionRequest* request,
                                       vetanalytics::v1::Session* response) override;
  grpc::ServerUnaryReactor* ListSessions(
      grpc::CallbackServerContext* context,
      const vetanalytics::v1::ListSessionsRequest* request,
      vetanalytics::v1::ListSessionsResponse* response) override;
  grpc::ServerUnaryReactor* EndSession(grpc::CallbackServerContext* context,
                                       const vetanalytics::v1::EndSessionRequest* request,
                                       vetanalytics::v1::EndSessionResponse* response) override;
  grpc::ServerReadReactor<vetanalytics::v1::ImportChunk>* ImportDataset(
      grpc::CallbackServerContext* context,
      vetanalytics::v1::ImportReport* response) override;
  // The calling practice's audit trail; it first waits up to a second for
  // entries still queued, so that a caller sees the calls it just made.
  grpc::ServerUnaryReactor* ListAudit(grpc::CallbackServerContext* context,
                                      const vetanalytics::v1::ListAuditRequest* request,
                                      vetanalytics::v1::ListAuditResponse* response) override;

 private:
  const Deps deps_;
};

}  // namespace vet::server

#endif  // VET_SERVER_ANALYTICS_SERVICE_H_
