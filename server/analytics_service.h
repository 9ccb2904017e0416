// vetanalytics.v1.AnalyticsService on gRPC's callback API. Each method
// takes its request raw and parses it with server/wire.h (so that a request
// protobuf would refuse is INVALID_ARGUMENT naming the field), then
// authenticates, validates, hands the blocking work to the worker pool and
// maps the status; the pipeline and stores do the rest.
#ifndef VET_SERVER_ANALYTICS_SERVICE_H_
#define VET_SERVER_ANALYTICS_SERVICE_H_

#include <functional>

#include "absl/status/statusor.h"
#include "core/audit/audit_recorder.h"
#include "core/audit/audit_store.h"
#include "core/budget/budget_guard.h"
#include "core/common/clock.h"
#include "core/common/worker_pool.h"
#include "core/data/dataset_catalog.h"
#include "core/data/dataset_source.h"
#include "core/data/practice_data.h"
#include "core/pipeline/admission.h"
#include "core/pipeline/pipeline.h"
#include "core/practice/practice.h"
#include "core/session/session_store.h"
#include "core/telemetry/tracer.h"
#include "grpcpp/support/byte_buffer.h"
#include "server/call_audit.h"
#include "server/metrics.h"
#include "vetanalytics/v1/analytics.grpc.pb.h"

namespace vet::server {
namespace internal {

// `Base` with each of the generated mixins `Methods` applied.
template <typename Base, template <typename> class... Methods>
struct WithMethods {
  using type = Base;
};
template <typename Base, template <typename> class First, template <typename> class... Rest>
struct WithMethods<Base, First, Rest...> {
  using type = First<typename WithMethods<Base, Rest...>::type>;
};

using GeneratedService = vetanalytics::v1::AnalyticsService;

// Every method of the service served raw, its messages as ByteBuffers. A new
// method is one line here and an override in AnalyticsService.
using RawAnalyticsService =
    WithMethods<GeneratedService::Service, GeneratedService::WithRawCallbackMethod_Ask,
                GeneratedService::WithRawCallbackMethod_GetBudget,
                GeneratedService::WithRawCallbackMethod_DescribeDataset,
                GeneratedService::WithRawCallbackMethod_GetSession,
                GeneratedService::WithRawCallbackMethod_ListSessions,
                GeneratedService::WithRawCallbackMethod_EndSession,
                GeneratedService::WithRawCallbackMethod_ImportDataset,
                GeneratedService::WithRawCallbackMethod_ListAudit>::type;

}  // namespace internal

class AnalyticsService final : public internal::RawAnalyticsService {
 public:
  struct Deps {
    const PracticeRegistry* practices;
    pipeline::Pipeline* pipeline;
    budget::BudgetGuard* budget;
    session::SessionStore* sessions;
    data::DatasetCatalog* datasets;
    // Where a practice's current dataset version is (and where an import
    // shares a new one).
    data::DatasetSource* data;
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
    // Each Ask is a server span (a child of the caller's traceparent, or a
    // new trace's root) and the parent of its question's spans; nullptr:
    // none recorded (telemetry::NullTracer()).
    telemetry::Tracer* tracer = nullptr;
  };
  explicit AnalyticsService(Deps deps) : deps_(deps) {}

  // The methods, raw: each parses its request (server/wire.h), and answers a
  // request that does not parse with its INVALID_ARGUMENT.
  grpc::ServerWriteReactor<grpc::ByteBuffer>* Ask(grpc::CallbackServerContext* context,
                                                  const grpc::ByteBuffer* request) override;
  grpc::ServerUnaryReactor* GetBudget(grpc::CallbackServerContext* context,
                                      const grpc::ByteBuffer* request,
                                      grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* DescribeDataset(grpc::CallbackServerContext* context,
                                            const grpc::ByteBuffer* request,
                                            grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetSession(grpc::CallbackServerContext* context,
                                       const grpc::ByteBuffer* request,
                                       grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ListSessions(grpc::CallbackServerContext* context,
                                         const grpc::ByteBuffer* request,
                                         grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* EndSession(grpc::CallbackServerContext* context,
                                       const grpc::ByteBuffer* request,
                                       grpc::ByteBuffer* response) override;
  grpc::ServerReadReactor<grpc::ByteBuffer>* ImportDataset(grpc::CallbackServerContext* context,
                                                           grpc::ByteBuffer* response) override;
  // The calling practice's audit trail; it first waits up to a second for
  // entries still queued, so that a caller sees the calls it just made.
  grpc::ServerUnaryReactor* ListAudit(grpc::CallbackServerContext* context,
                                      const grpc::ByteBuffer* request,
                                      grpc::ByteBuffer* response) override;

 private:
  // A unary method's typed half, called with the parsed request on gRPC's
  // thread: it authenticates (telling `audit` for whom the call is) and
  // checks what is cheap, and returns the refusal or the work that fills
  // `response` on the worker pool.
  using UnaryWork = std::function<absl::Status()>;
  template <typename Request, typename Response>
  using UnaryHandler = absl::StatusOr<UnaryWork> (AnalyticsService::*)(
      grpc::CallbackServerContext* context, const Request& request, Response* response,
      CallAudit& audit);

  // Parses `request`, calls `handler`, runs its work and answers with the
  // response serialized (server/wire.h); the call's audit entry (method
  // `rpc`) is recorded with the status the client gets.
  template <typename Request, typename Response>
  grpc::ServerUnaryReactor* ServeUnary(UnaryHandler<Request, Response> handler, const char* rpc,
                                       grpc::CallbackServerContext* context,
                                       const grpc::ByteBuffer& request, grpc::ByteBuffer* response);

  absl::StatusOr<UnaryWork> GetBudgetWork(grpc::CallbackServerContext* context,
                                          const vetanalytics::v1::GetBudgetRequest& request,
                                          vetanalytics::v1::Budget* response, CallAudit& audit);
  absl::StatusOr<UnaryWork> DescribeDatasetWork(
      grpc::CallbackServerContext* context, const vetanalytics::v1::DescribeDatasetRequest& request,
      vetanalytics::v1::DatasetDescription* response, CallAudit& audit);
  absl::StatusOr<UnaryWork> GetSessionWork(grpc::CallbackServerContext* context,
                                           const vetanalytics::v1::GetSessionRequest& request,
                                           vetanalytics::v1::Session* response, CallAudit& audit);
  absl::StatusOr<UnaryWork> ListSessionsWork(grpc::CallbackServerContext* context,
                                             const vetanalytics::v1::ListSessionsRequest& request,
                                             vetanalytics::v1::ListSessionsResponse* response,
                                             CallAudit& audit);
  absl::StatusOr<UnaryWork> EndSessionWork(grpc::CallbackServerContext* context,
                                           const vetanalytics::v1::EndSessionRequest& request,
                                           vetanalytics::v1::EndSessionResponse* response,
                                           CallAudit& audit);
  absl::StatusOr<UnaryWork> ListAuditWork(grpc::CallbackServerContext* context,
                                          const vetanalytics::v1::ListAuditRequest& request,
                                          vetanalytics::v1::ListAuditResponse* response,
                                          CallAudit& audit);

  const Deps deps_;
};

}  // namespace vet::server

#endif  // VET_SERVER_ANALYTICS_SERVICE_H_
