// The Ask reactor queues converted, serialized events under a mutex with one
// StartWrite in flight, and calls Finish exactly once: after the pipeline has
// returned and every queued event is written. OnCancel (client cancel or
// deadline) trips the question's cancellation token. Unary methods run their
// store I/O on the worker pool too; a unary call owns its typed response
// until it is serialized, just before Finish.
#include "server/analytics_service.h"

#include <atomic>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/variant.h"
#include "core/common/error_details.h"
#include "core/common/log.h"
#include "core/common/status_macros.h"
#include "core/common/trace_context.h"
#include "server/call_audit.h"
#include "server/convert.h"
#include "server/grpc_status.h"
#include "server/wire.h"

namespace vet::server {
namespace v1 = ::vetanalytics::v1;
namespace {

std::string ApiKey(const grpc::CallbackServerContext* context) {
  const auto& metadata = context->client_metadata();
  auto it = metadata.find("x-api-key");
  if (it != metadata.end()) return std::string(it->second.data(), it->second.size());
  it = metadata.find("authorization");
  if (it != metadata.end()) {
    absl::string_view value(it->second.data(), it->second.size());
    if (absl::ConsumePrefix(&value, "Bearer ") || absl::ConsumePrefix(&value, "bearer ")) {
      return std::string(value);
    }
  }
  return "";
}

// The call's W3C trace: the caller's traceparent when it sent a valid one,
// else none, and the Ask span starts a new trace (an invalid header is
// ignored, as the spec says).
TraceContext TraceOf(const grpc::CallbackServerContext* context) {
  const auto& metadata = context->client_metadata();
  auto it = metadata.find("traceparent");
  if (it != metadata.end()) {
    if (auto parsed = ParseTraceparent(absl::string_view(it->second.data(), it->second.size()))) {
      return *parsed;
    }
  }
  return TraceContext();
}

// The Ask's server span: what the caller hears as this server's span, and
// the parent of the question's spans.
std::unique_ptr<telemetry::Span> StartAskSpan(const AnalyticsService::Deps& deps,
                                              const grpc::CallbackServerContext* context) {
  auto span = telemetry::TracerOrNull(deps.tracer)
                  .StartSpan("vetanalytics.v1.AnalyticsService/Ask", TraceOf(context),
                             telemetry::SpanKind::kServer);
  if (span->recording()) {
    span->SetAttribute("rpc.system", std::string("grpc"));
    span->SetAttribute("rpc.service", std::string("vetanalytics.v1.AnalyticsService"));
    span->SetAttribute("rpc.method", std::string("Ask"));
  }
  return span;
}

// Validates the practice id's form first (so that a malformed id is
// INVALID_ARGUMENT whatever the key), then the key.
absl::StatusOr<std::shared_ptr<const Practice>> Authorize(const PracticeRegistry& practices,
                                                          const std::string& api_key,
                                                          const std::string& practice_id) {
  absl::Status valid = ValidatePracticeId(practice_id);
  if (!valid.ok()) return valid;
  return practices.Authorize(practice_id, api_key);
}
absl::StatusOr<std::shared_ptr<const Practice>> Authorize(
    const PracticeRegistry& practices, const grpc::CallbackServerContext* context,
    const std::string& practice_id) {
  return Authorize(practices, ApiKey(context), practice_id);
}
// The same, telling the call's audit who it is for.
absl::StatusOr<std::shared_ptr<const Practice>> Authorize(
    const PracticeRegistry& practices, const grpc::CallbackServerContext* context,
    const std::string& practice_id, CallAudit& audit) {
  auto practice = Authorize(practices, context, practice_id);
  audit.Authorized(practice_id, practice);
  return practice;
}

std::unique_ptr<CallAudit> NewAudit(const AnalyticsService::Deps& deps, std::string rpc) {
  return std::make_unique<CallAudit>(deps.audit, *deps.practices, *deps.clock, std::move(rpc));
}

// The code of the status the client gets, for the call's audit entry.
absl::Status AuditedStatus(const grpc::Status& sent) {
  return absl::Status(static_cast<absl::StatusCode>(sent.error_code()), "");
}

// The status a call ends with: `status`, and when it is OK, `response`
// serialized into `out` for gRPC to send.
grpc::Status FinishStatus(absl::Status status, const google::protobuf::MessageLite& response,
                          grpc::ByteBuffer* out) {
  if (status.ok()) {
    absl::StatusOr<grpc::ByteBuffer> bytes = SerializeMessage(response);
    if (bytes.ok()) {
      *out = *bytes;
    } else {
      status = bytes.status();
    }
  }
  return ToGrpcStatus(status);
}

// One unary call: holds its typed response until the call finishes, and its
// audit entry until it is recorded, with the status sent, just before.
template <typename Response>
class UnaryCall final : public grpc::ServerUnaryReactor {
 public:
  UnaryCall(grpc::ByteBuffer* raw_response, std::unique_ptr<CallAudit> audit)
      : raw_response_(raw_response), audit_(std::move(audit)) {}

  Response* response() { return &response_; }
  CallAudit& audit() { return *audit_; }
  // Call once; `this` may be deleted as soon as it returns.
  void FinishWith(const absl::Status& status) {
    grpc::Status sent = FinishStatus(status, response_, raw_response_);
    audit_->Finish(AuditedStatus(sent));
    Finish(std::move(sent));
  }
  void OnDone() override { delete this; }

 private:
  grpc::ByteBuffer* const raw_response_;
  const std::unique_ptr<CallAudit> audit_;
  Response response_;
};

class AskReactor final : public grpc::ServerWriteReactor<grpc::ByteBuffer>,
                         public pipeline::EventSink {
 public:
  // `request` as parsed: a request that did not parse is answered with its
  // status.
  AskReactor(const AnalyticsService::Deps& deps, grpc::CallbackServerContext* context,
             const absl::StatusOr<v1::AskRequest>& request)
      : deps_(deps),
        context_(context),
        started_at_(deps.clock->Now()),
        span_(StartAskSpan(deps, context)),
        trace_(span_->context()) {
    deps_.metrics->active_streams().Increment();
    // This server's span of the trace goes back to the caller (with the
    // first event or the status), so a client without a trace of its own
    // learns the id to quote; questions log it and make their spans its
    // children.
    context->AddInitialMetadata("traceparent", FormatTraceparent(trace_));
    log_context_ = std::make_shared<LogContext>(LogContext{"", "", "", trace_.trace_id});
    {
      absl::MutexLock lock(&watch_->mu);
      watch_->context = context;
    }
    if (!request.ok()) {
      FinishNow(request.status());
      return;
    }
    auto practice = Authorize(*deps_.practices, context, request->practice_id(), *audit_);
    if (!practice.ok()) {
      FinishNow(practice.status());
      return;
    }
    practice_ = *practice;
    if (span_->recording()) span_->SetAttribute("vet.practice_id", practice_->id);
    log_context_ = std::make_shared<LogContext>(
        LogContext{practice_->id, request->session_id(), "", trace_.trace_id});
    audit_->SetQuestion(request->question());
    audit_->SetSession(request->session_id());
    if (deps_.admission != nullptr) {
      // One practice past its share is refused; the others are still served.
      auto ticket = deps_.admission->Admit(practice_->id);
      if (!ticket.ok()) {
        FinishNow(ticket.status());
        return;
      }
      ticket_ = *std::move(ticket);
    }
    request_ = {request->question(), request->session_id(), request->as_of_date(), trace_};
    submitted_at_ = deps_.clock->Now();
    absl::Status submitted = deps_.pool->Submit([this] { Run(); });
    deps_.metrics->queued_work().Set(static_cast<double>(deps_.pool->pending()));
    if (!submitted.ok()) FinishNow(submitted);
  }

  void Emit(const pipeline::AskEvent& event) override {
    audit_->Observe(event);
    v1::AskEvent message;
    ToProto(event, &message);
    if (event.seq == 1) deps_.metrics->RecordFirstEvent(deps_.clock->Now() - started_at_);
    if (const auto* check = absl::get_if<pipeline::BudgetCheckEvent>(&event.payload);
        check != nullptr && !check->downgraded_from.empty()) {
      deps_.metrics->RecordDowngrade(practice_->id, check->downgraded_from, check->model);
    }
    absl::StatusOr<grpc::ByteBuffer> bytes = SerializeMessage(message);
    if (!bytes.ok()) {
      // Cannot happen to an event of at most kMaxAskEventBytes.
      ScopedLogContext scope(log_context_);
      LogError("an Ask event for practice ", practice_->id,
               " was not sent: ", bytes.status().message());
      return;
    }
    const int64_t size = static_cast<int64_t>(bytes->Length());
    const grpc::ByteBuffer* to_write = nullptr;
    bool not_reading = false;
    {
      absl::MutexLock lock(&mu_);
      if (client_gone_) return;
      if (buffered_bytes_ + size > deps_.max_buffered_event_bytes) {
        // The client is not reading: stop the question and the stream
        // rather than hold its events in memory.
        client_gone_ = true;
        not_reading = true;
        while (queue_.size() > (write_in_flight_ ? 1u : 0u)) {
          queue_.pop_back();
          sizes_.pop_back();
        }
      } else {
        queue_.push_back(*std::move(bytes));
        sizes_.push_back(size);
        buffered_bytes_ += size;
        if (!write_in_flight_) {
          write_in_flight_ = true;
          to_write = &queue_.front();
        }
      }
    }
    if (not_reading) {
      StopUnreadStream(
          absl::StrCat("over ", deps_.max_buffered_event_bytes >> 20, " MiB of events waiting"));
      return;
    }
    // Outside the lock in case gRPC runs OnWriteDone inline.
    if (to_write != nullptr) StartWrite(to_write);
  }

  void OnWriteDone(bool ok) override {
    bool finish = false;
    bool broken = false;
    const grpc::ByteBuffer* to_write = nullptr;
    {
      absl::MutexLock lock(&mu_);
      write_in_flight_ = false;
      queue_.pop_front();
      buffered_bytes_ -= sizes_.front();
      sizes_.pop_front();
      if (!ok) {
        client_gone_ = true;
        broken = true;
        queue_.clear();
        sizes_.clear();
        buffered_bytes_ = 0;
      }
      if (!queue_.empty()) {
        write_in_flight_ = true;
        to_write = &queue_.front();
      } else {
        finish = ReadyToFinishLocked();
      }
    }
    // The stream is broken (client gone): stop the question's work.
    if (broken) cancel_.Cancel();
    if (to_write != nullptr) StartWrite(to_write);
    if (finish) DoFinish();
  }

  void OnCancel() override { cancel_.Cancel(); }

  void OnDone() override {
    {
      // A stall check still pending must not touch the call after this.
      absl::MutexLock lock(&watch_->mu);
      watch_->context = nullptr;
    }
    deps_.metrics->active_streams().Decrement();
    delete this;
  }

 private:
  // Starts the question; it continues on the pool's threads as what it
  // waits for arrives, and OnPipelineDone ends the call.
  void Run() {
    ScopedLogContext scope(log_context_);
    deps_.metrics->RecordWorkerPoolWait(deps_.clock->Now() - submitted_at_);
    deps_.pipeline->AskAsync(*practice_, request_, *this, cancel_,
                             [this](absl::Status status) { OnPipelineDone(std::move(status)); });
  }

  void OnPipelineDone(absl::Status status) {
    if (!status.ok() && status.code() != absl::StatusCode::kCancelled &&
        status.code() != absl::StatusCode::kInvalidArgument &&
        status.code() != absl::StatusCode::kNotFound) {
      LogWarning("question for practice ", practice_->id, " ended ",
                 absl::StatusCodeToString(status.code()), ": ", status.message());
    }
    deps_.metrics->queued_work().Set(static_cast<double>(deps_.pool->pending()));
    // Let go of the practice's share before the client hears the end, so
    // that it may ask again at once (and before pipeline_done_: after it,
    // OnWriteDone may finish and delete this).
    ticket_ = pipeline::QuestionAdmission::Ticket();
    bool finish;
    {
      absl::MutexLock lock(&mu_);
      result_ = std::move(status);
      pipeline_done_ = true;
      finish = ReadyToFinishLocked();
    }
    if (!finish) WatchForStall();
    // Nothing touches `this` after DoFinish: OnDone may delete it at once.
    if (finish) DoFinish();
  }

  // The question ended with events still to write: if the client has not
  // read them all within the stall limit, the call is cancelled (the
  // watch outlives this reactor; OnDone disarms it).
  void WatchForStall() {
    const absl::Duration limit = deps_.stalled_stream_limit;
    deps_.pool->PostAfter(
        limit, [watch = watch_, limit, practice_id = practice_->id, log_context = log_context_] {
          ScopedLogContext scope(log_context);
          absl::MutexLock lock(&watch->mu);
          if (watch->context == nullptr) return;
          LogWarning("an Ask stream for practice ", practice_id,
                     " was cancelled: its client had not read all its events ",
                     absl::FormatDuration(limit), " after the question ended");
          watch->context->TryCancel();
        });
  }

  void StopUnreadStream(const std::string& why) {
    ScopedLogContext scope(log_context_);
    LogWarning("an Ask stream for practice ", practice_->id,
               " was cancelled: its client is not reading (", why, ")");
    cancel_.Cancel();
    // Completes the write in flight (not ok), which finishes the call.
    context_->TryCancel();
  }

  bool ReadyToFinishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!pipeline_done_ || write_in_flight_ || finish_called_) return false;
    finish_called_ = true;
    return true;
  }

  // Finishes before any work started (bad request, busy server).
  void FinishNow(const absl::Status& status) {
    // The client may ask again the moment it hears the status, before
    // OnDone: the practice's share must be free by then.
    ticket_ = pipeline::QuestionAdmission::Ticket();
    {
      absl::MutexLock lock(&mu_);
      result_ = status;
      pipeline_done_ = true;
      finish_called_ = true;
    }
    DoFinish();
  }

  void DoFinish() {
    absl::Status result;
    {
      absl::MutexLock lock(&mu_);
      result = result_;
    }
    // Only authorised ids become labels, so clients cannot grow the series.
    deps_.metrics->RecordQuestion(practice_ != nullptr ? practice_->id : "-",
                                  absl::StatusCodeToString(result.code()),
                                  deps_.clock->Now() - started_at_);
    grpc::Status sent = ToGrpcStatus(result);
    audit_->Finish(AuditedStatus(sent));
    if (span_->recording()) {
      span_->SetAttribute("rpc.grpc.status_code", static_cast<int64_t>(sent.error_code()));
    }
    span_->SetStatus(result);
    span_->End();
    Finish(std::move(sent));
  }

  const AnalyticsService::Deps& deps_;
  grpc::CallbackServerContext* const context_;
  const absl::Time started_at_;
  // Started first, ended when the call finishes (DoFinish).
  const std::unique_ptr<telemetry::Span> span_;
  // The call's trace, its parent id this server's span.
  TraceContext trace_;
  // What the reactor's own lines carry (the pipeline adds the question id
  // and the session to its own). Set before the question is submitted.
  std::shared_ptr<const LogContext> log_context_;
  const std::unique_ptr<CallAudit> audit_ = NewAudit(deps_, "Ask");
  // Written before the task is submitted, read by the task.
  absl::Time submitted_at_;
  // Keeps the practices file's snapshot alive for the call across a reload.
  std::shared_ptr<const Practice> practice_;
  pipeline::AskRequest request_;
  CancellationToken cancel_;
  // This question's place among those in progress.
  pipeline::QuestionAdmission::Ticket ticket_;
  // The call, shared with a stall check that may run after OnDone (which
  // clears it).
  struct StallWatch {
    absl::Mutex mu;
    grpc::CallbackServerContext* context ABSL_GUARDED_BY(mu) = nullptr;
  };
  std::shared_ptr<StallWatch> watch_ = std::make_shared<StallWatch>();

  absl::Mutex mu_;
  // std::deque keeps the front element in place while others are appended,
  // so the message under StartWrite stays alive until OnWriteDone.
  std::deque<grpc::ByteBuffer> queue_ ABSL_GUARDED_BY(mu_);
  // The encoded size of each queued event, and their sum.
  std::deque<int64_t> sizes_ ABSL_GUARDED_BY(mu_);
  int64_t buffered_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool write_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  bool client_gone_ ABSL_GUARDED_BY(mu_) = false;
  bool pipeline_done_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_called_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status result_ ABSL_GUARDED_BY(mu_);
};

// Receives an import: the header, then table chunks, each parsed and
// written to the staging folder on the worker pool with one read in flight;
// when the client half-closes, validation and the swap run on the pool too.
class ImportReactor final : public grpc::ServerReadReactor<grpc::ByteBuffer> {
 public:
  ImportReactor(const AnalyticsService::Deps& deps, grpc::CallbackServerContext* context,
                grpc::ByteBuffer* raw_response)
      : deps_(deps), context_(context), api_key_(ApiKey(context)), raw_response_(raw_response) {
    StartRead(&raw_chunk_);
  }

  void OnReadDone(bool ok) override {
    absl::Status submitted = deps_.import_pool->Submit([this, ok] {
      if (!ok) {
        // The stream ended: a complete upload (its ImportEnd matched) is
        // committed; a cancelled or broken one never is.
        Done(cancelled_ || context_->IsCancelled()
                 ? absl::CancelledError("the upload was cancelled; nothing was imported")
                 : Commit());
        return;
      }
      absl::Status handled = Handle();
      if (!handled.ok()) {
        Done(handled);
        return;
      }
      StartRead(&raw_chunk_);
    });
    if (!submitted.ok()) Done(submitted);
  }

  void OnCancel() override { cancelled_ = true; }
  void OnDone() override { delete this; }

 private:
  absl::Status Handle() {
    if (cancelled_) return absl::CancelledError("the import was cancelled");
    ++messages_;
    absl::StatusOr<v1::ImportChunk> chunk = ParseRequest<v1::ImportChunk>(raw_chunk_);
    if (!chunk.ok()) {
      return vet::Annotate(chunk.status(), absl::StrCat("message ", messages_, " of the upload: "),
                           "; nothing was imported");
    }
    chunk_ = *std::move(chunk);
    if (staging_ == nullptr) {
      if (!chunk_.has_header()) {
        return absl::InvalidArgumentError(
            "the first message of an import must be its header (practice_id)");
      }
      const v1::ImportHeader& header = chunk_.header();
      auto practice = Authorize(*deps_.practices, api_key_, header.practice_id());
      audit_->Authorized(header.practice_id(), practice);
      if (!practice.ok()) return practice.status();
      practice_ = *practice;
      if (practice_->data_root.empty()) {
        return absl::FailedPreconditionError(
            absl::StrCat("practice '", practice_->id, "' reads its data from ", practice_->data_dir,
                         ", a folder set in the practices file; remove data_dir there to import "
                         "through the service"));
      }
      mapping_json_ = header.mapping_json();
      if (header.as_of_date().empty()) {
        as_of_ = absl::ToCivilDay(deps_.clock->Now(), practice_->time_zone);
      } else if (!absl::ParseCivilTime(header.as_of_date(), &as_of_) ||
                 absl::FormatCivilTime(as_of_) != header.as_of_date()) {
        return absl::InvalidArgumentError(
            absl::StrCat("as_of_date '", header.as_of_date().substr(0, 40), "' is not YYYY-MM-DD"));
      }
      auto staging = data::ImportStaging::Create(practice_->data_root, deps_.import_limits);
      if (!staging.ok()) return staging.status();
      staging_ = std::move(*staging);
      return absl::OkStatus();
    }
    if (ended_) {
      return absl::InvalidArgumentError("nothing may follow the import's end message");
    }
    if (chunk_.has_end()) {
      ended_ = true;
      if (chunk_.end().total_bytes() != staging_->bytes()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "the import's end message says ", chunk_.end().total_bytes(), " bytes were sent but ",
            staging_->bytes(), " arrived; nothing was imported"));
      }
      return absl::OkStatus();
    }
    if (!chunk_.has_table()) {
      return absl::InvalidArgumentError("the header may only be sent once, first");
    }
    return staging_->Append(chunk_.table().table(), chunk_.table().data());
  }

  absl::Status Commit() {
    if (staging_ == nullptr) {
      return absl::InvalidArgumentError("the import stream ended before its header");
    }
    if (!ended_) {
      return absl::InvalidArgumentError(
          "the upload ended without its end message (ImportEnd); nothing was imported");
    }
    VET_RETURN_IF_ERROR(staging_->Finish());
    auto outcome = data::CommitImport(*staging_, mapping_json_, as_of_,
                                      [this](const std::string& version, const std::string& dir) {
                                        return deps_.data->Publish(practice_->id, version, dir);
                                      });
    if (!outcome.ok()) return outcome.status();
    response_.set_practice_id(practice_->id);
    for (const auto& [table, rows] : outcome->rows) {
      v1::TableRows* t = response_.add_tables();
      t->set_table(table);
      t->set_rows(rows);
    }
    for (const std::string& w : outcome->warnings) response_.add_warnings(w);
    response_.set_dataset_version(outcome->version);
    response_.set_unchanged(outcome->unchanged);
    LogInfo("practice ", practice_->id, ": imported dataset ", outcome->version,
            outcome->unchanged ? " (unchanged)" : "");
    return absl::OkStatus();
  }

  // Frees the staging folder before finishing: nothing touches `this` after.
  void Done(const absl::Status& status) {
    staging_.reset();
    grpc::Status sent = FinishStatus(status, response_, raw_response_);
    audit_->Finish(AuditedStatus(sent));
    Finish(std::move(sent));
  }

  const AnalyticsService::Deps& deps_;
  grpc::CallbackServerContext* const context_;
  const std::string api_key_;
  const std::unique_ptr<CallAudit> audit_ = NewAudit(deps_, "ImportDataset");
  grpc::ByteBuffer* const raw_response_;
  v1::ImportReport response_;
  // The message being read, and that message parsed; messages_ counts them.
  grpc::ByteBuffer raw_chunk_;
  v1::ImportChunk chunk_;
  int64_t messages_ = 0;
  std::atomic<bool> cancelled_{false};
  bool ended_ = false;
  // Keeps the practices file's snapshot alive for the call across a reload.
  std::shared_ptr<const Practice> practice_;
  std::string mapping_json_;
  absl::CivilDay as_of_;
  std::unique_ptr<data::ImportStaging> staging_;
};

}  // namespace

grpc::ServerReadReactor<grpc::ByteBuffer>* AnalyticsService::ImportDataset(
    grpc::CallbackServerContext* context, grpc::ByteBuffer* response) {
  return new ImportReactor(deps_, context, response);
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* AnalyticsService::Ask(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request) {
  return new AskReactor(deps_, context, ParseRequest<v1::AskRequest>(*request));
}

template <typename Request, typename Response>
grpc::ServerUnaryReactor* AnalyticsService::ServeUnary(UnaryHandler<Request, Response> handler,
                                                       const char* rpc,
                                                       grpc::CallbackServerContext* context,
                                                       const grpc::ByteBuffer& request,
                                                       grpc::ByteBuffer* response) {
  auto* call = new UnaryCall<Response>(response, NewAudit(deps_, rpc));
  absl::StatusOr<Request> parsed = ParseRequest<Request>(request);
  if (!parsed.ok()) {
    call->FinishWith(parsed.status());
    return call;
  }
  absl::StatusOr<UnaryWork> work =
      (this->*handler)(context, *parsed, call->response(), call->audit());
  // A request refused anyway uses no pool slot.
  if (!work.ok()) {
    call->FinishWith(work.status());
    return call;
  }
  absl::Status submitted =
      deps_.pool->Submit([call, work = *std::move(work)] { call->FinishWith(work()); });
  if (!submitted.ok()) call->FinishWith(submitted);
  return call;
}

grpc::ServerUnaryReactor* AnalyticsService::GetBudget(grpc::CallbackServerContext* context,
                                                      const grpc::ByteBuffer* request,
                                                      grpc::ByteBuffer* response) {
  return ServeUnary(&AnalyticsService::GetBudgetWork, "GetBudget", context, *request, response);
}
grpc::ServerUnaryReactor* AnalyticsService::DescribeDataset(grpc::CallbackServerContext* context,
                                                            const grpc::ByteBuffer* request,
                                                            grpc::ByteBuffer* response) {
  return ServeUnary(&AnalyticsService::DescribeDatasetWork, "DescribeDataset", context, *request,
                    response);
}
grpc::ServerUnaryReactor* AnalyticsService::GetSession(grpc::CallbackServerContext* context,
                                                       const grpc::ByteBuffer* request,
                                                       grpc::ByteBuffer* response) {
  return ServeUnary(&AnalyticsService::GetSessionWork, "GetSession", context, *request, response);
}
grpc::ServerUnaryReactor* AnalyticsService::ListSessions(grpc::CallbackServerContext* context,
                                                         const grpc::ByteBuffer* request,
                                                         grpc::ByteBuffer* response) {
  return ServeUnary(&AnalyticsService::ListSessionsWork, "ListSessions", context, *request,
                    response);
}
grpc::ServerUnaryReactor* AnalyticsService::EndSession(grpc::CallbackServerContext* context,
                                                       const grpc::ByteBuffer* request,
                                                       grpc::ByteBuffer* response) {
  return ServeUnary(&AnalyticsService::EndSessionWork, "EndSession", context, *request, response);
}

absl::StatusOr<AnalyticsService::UnaryWork> AnalyticsService::GetBudgetWork(
    grpc::CallbackServerContext* context, const v1::GetBudgetRequest& request, v1::Budget* response,
    CallAudit& audit) {
  auto practice = Authorize(*deps_.practices, context, request.practice_id(), audit);
  if (!practice.ok()) return practice.status();
  return UnaryWork([this, practice, response]() -> absl::Status {
    auto state = deps_.budget->GetState(**practice);
    if (!state.ok()) return state.status();
    ToProto(*state, response);
    return absl::OkStatus();
  });
}

absl::StatusOr<AnalyticsService::UnaryWork> AnalyticsService::DescribeDatasetWork(
    grpc::CallbackServerContext* context, const v1::DescribeDatasetRequest& request,
    v1::DatasetDescription* response, CallAudit& audit) {
  auto practice = Authorize(*deps_.practices, context, request.practice_id(), audit);
  if (!practice.ok()) return practice.status();
  return UnaryWork([this, practice, response]() -> absl::Status {
    const Practice& p = **practice;
    auto lease = deps_.data->Lease(p.id, p.data_root, p.data_dir);
    if (!lease.ok()) {
      const char* why = lease.status().code() == absl::StatusCode::kNotFound
                            ? reason::kNoData
                            : reason::kDataUnavailable;
      return WithReason(vet::Annotate(lease.status(), absl::StrCat("practice '", p.id, "': ")),
                        why);
    }
    auto dataset = deps_.datasets->Describe(lease->dir());
    if (!dataset.ok()) {
      return vet::Annotate(dataset.status(), absl::StrCat("practice '", p.id, "': "));
    }
    ToProto(**dataset, response);
    response->set_practice_id((*practice)->id);
    response->set_time_zone((*practice)->time_zone_name);
    if (!p.data_root.empty()) {
      response->set_dataset_version(std::filesystem::path(lease->dir()).filename().string());
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<AnalyticsService::UnaryWork> AnalyticsService::GetSessionWork(
    grpc::CallbackServerContext* context, const v1::GetSessionRequest& request,
    v1::Session* response, CallAudit& audit) {
  auto practice = Authorize(*deps_.practices, context, request.practice_id(), audit);
  if (!practice.ok()) return practice.status();
  const std::string& session_id = request.session_id();
  audit.SetSession(session_id);
  if (session_id.empty()) return absl::InvalidArgumentError("session_id is empty");
  return UnaryWork([this, practice, session_id, response]() -> absl::Status {
    auto record = deps_.sessions->Get((*practice)->id, session_id);
    if (!record.ok()) return record.status();
    ToProto(*record, /*summary_only=*/false, response);
    return absl::OkStatus();
  });
}

absl::StatusOr<AnalyticsService::UnaryWork> AnalyticsService::ListSessionsWork(
    grpc::CallbackServerContext* context, const v1::ListSessionsRequest& request,
    v1::ListSessionsResponse* response, CallAudit& audit) {
  auto practice = Authorize(*deps_.practices, context, request.practice_id(), audit);
  if (!practice.ok()) return practice.status();
  int page_size = request.page_size();
  const std::string& token = request.page_token();
  return UnaryWork([this, practice, page_size, token, response]() -> absl::Status {
    auto page = deps_.sessions->List((*practice)->id, page_size, token);
    if (!page.ok()) return page.status();
    for (const auto& s : page->sessions) {
      ToProto(s, /*summary_only=*/true, response->add_sessions());
    }
    response->set_next_page_token(page->next_page_token);
    return absl::OkStatus();
  });
}

absl::StatusOr<AnalyticsService::UnaryWork> AnalyticsService::EndSessionWork(
    grpc::CallbackServerContext* context, const v1::EndSessionRequest& request,
    v1::EndSessionResponse* /*response*/, CallAudit& audit) {
  auto practice = Authorize(*deps_.practices, context, request.practice_id(), audit);
  if (!practice.ok()) return practice.status();
  const std::string& session_id = request.session_id();
  audit.SetSession(session_id);
  if (session_id.empty()) return absl::InvalidArgumentError("session_id is empty");
  return UnaryWork([this, practice, session_id]() -> absl::Status {
    return deps_.sessions->End((*practice)->id, session_id);
  });
}

grpc::ServerUnaryReactor* AnalyticsService::ListAudit(grpc::CallbackServerContext* context,
                                                      const grpc::ByteBuffer* request,
                                                      grpc::ByteBuffer* response) {
  return ServeUnary(&AnalyticsService::ListAuditWork, "ListAudit", context, *request, response);
}

absl::StatusOr<AnalyticsService::UnaryWork> AnalyticsService::ListAuditWork(
    grpc::CallbackServerContext* context, const v1::ListAuditRequest& request,
    v1::ListAuditResponse* response, CallAudit& audit) {
  auto practice = Authorize(*deps_.practices, context, request.practice_id(), audit);
  if (!practice.ok()) return practice.status();
  if (deps_.audit_store == nullptr) {
    return absl::UnimplementedError("this server keeps no audit trail");
  }
  absl::Time since = absl::InfinitePast();
  if (request.has_since()) {
    VET_ASSIGN_OR_RETURN(since, FromProto(request.since(), "since"));
  }
  const int page_size = request.page_size();
  const std::string& token = request.page_token();
  return UnaryWork([this, practice, since, page_size, token, response]() -> absl::Status {
    // The entries of calls that ended before this one began may still be
    // queued: wait for them, briefly (a writer that is behind must not hold
    // the call long).
    if (deps_.audit != nullptr) deps_.audit->Flush(absl::Seconds(1));
    auto page = deps_.audit_store->List((*practice)->id, since, page_size, token);
    if (!page.ok()) return page.status();
    for (const audit::AuditEntry& e : page->entries) ToProto(e, response->add_entries());
    response->set_next_page_token(page->next_page_token);
    return absl::OkStatus();
  });
}

}  // namespace vet::server
