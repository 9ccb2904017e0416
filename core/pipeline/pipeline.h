// The pipeline that answers one question, in order:
//   session -> budget check -> code generation -> execution (streamed) ->
//   final answer,
// reporting each step as an event. Every stage sits behind an interface; the
// pipeline never sees gRPC. Repairs loop back from execution to code
// generation when the generator can use the error.
#ifndef VET_CORE_PIPELINE_PIPELINE_H_
#define VET_CORE_PIPELINE_PIPELINE_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "core/budget/budget_guard.h"
#include "core/budget/budget_rules.h"
#include "core/budget/pricing.h"
#include "core/codegen/code_generator.h"
#include "core/common/cancellation.h"
#include "core/common/clock.h"
#include "core/common/task_runner.h"
#include "core/common/trace_context.h"
#include "core/data/dataset_catalog.h"
#include "core/data/dataset_source.h"
#include "core/pipeline/events.h"
#include "core/practice/practice.h"
#include "core/sandbox/executor.h"
#include "core/session/session_locks.h"
#include "core/session/session_store.h"
#include "core/telemetry/tracer.h"

namespace vet::pipeline {

struct AskRequest {
  std::string question;
  // Empty starts a new session.
  std::string session_id;
  // "YYYY-MM-DD"; empty means today in the practice's time zone.
  std::string as_of_date;
  // The caller's W3C trace (core/common/trace_context.h); empty trace_id:
  // none. Carried in the question's log lines and sent on model calls; its
  // parent_id is the span the question's spans are children of (the
  // server's Ask span).
  TraceContext trace;
};

struct PipelineOptions {
  // Questions longer than this are refused.
  int max_question_chars = 2000;
  // Attempts per question, the first included, when the generator can repair.
  int max_attempts = 3;
  // Wall-clock limit of one execution in the sandbox.
  absl::Duration execution_timeout = absl::Seconds(30);
  // What a second in the sandbox costs (SANDBOX_COST_PER_SECOND), charged
  // to the question's budget; 0 makes execution free.
  int64_t sandbox_micros_per_second = 0;
  // How long a question's claim on its session holds when its server dies
  // without releasing it: longer than the slowest question.
  absl::Duration session_claim_lease = absl::Minutes(10);
  // A question refused only because of other questions' holds (what is
  // spent alone would allow it) waits up to this long for them to settle
  // before it is refused (--budget_wait). Zero refuses at once.
  absl::Duration budget_wait = absl::Seconds(5);
};

// An exception's message with every quoted string that is not a table or
// column name of the schema replaced by "...", before it goes to a model.
std::string ScrubFailureMessage(absl::string_view message);

// Checks a request before any work: kInvalidArgument saying which field is
// wrong and how. Returns the as-of day (today in `tz` when empty).
absl::StatusOr<absl::CivilDay> ValidateAskRequest(const AskRequest& request,
                                                  const PipelineOptions& options, absl::Time now,
                                                  absl::TimeZone tz);

// Thread-safe: one Pipeline serves every question concurrently. The
// dependencies must outlive it.
//
// Logging: every step of a question, and every callback it hands the code
// generator, runs under a ScopedLogContext (core/common/log.h) naming the
// practice, the session (once known), the question id and the trace id, so
// a line logged anywhere below it (budget, session store, executor,
// generator) says which question it is about.
//
// A question is a chain of steps, not a thread: each step runs on the
// TaskRunner and the next one is posted there when what it waits for
// arrives (the session's previous question, a model's reply, an execution
// slot, a timer), so no thread is held while a model answers or a question
// waits in a queue.
class Pipeline {
 public:
  // Called exactly once with the status that ended the question.
  using AskCallback = std::function<void(absl::Status)>;

  struct Deps {
    session::SessionStore* sessions;
    budget::BudgetGuard* budget;
    codegen::CodeGenerator* generator;
    sandbox::Executor* executor;
    data::DatasetCatalog* datasets;
    const Clock* clock;
    // The soft cap's downgrade rules; nullptr for none.
    const budget::PricingTable* pricing = nullptr;
    // Where the steps run; nullptr for a small pool of the pipeline's own.
    TaskRunner* runner = nullptr;
    // Where a question gets its practice's dataset version (shared by
    // replicas, or not); nullptr for the practice's local folder.
    data::DatasetSource* data = nullptr;
    // The question's spans, children of AskRequest::trace: session.create
    // or session.load, budget.reserve, codegen (one per attempt; the model
    // generator's calls are its children through CodeRequest::traceparent),
    // sandbox.execute, budget.commit (or budget.release), session.save.
    // nullptr: none (telemetry::NullTracer()).
    telemetry::Tracer* tracer = nullptr;
  };

  Pipeline(PipelineOptions options, Deps deps);
  ~Pipeline();

  // Answers `request` for the authorised `practice`, emitting events to
  // `sink` (seq 1, 2, 3, ...). Blocks; run it off gRPC's threads. Returns OK
  // after FinalAnswer, or the status that ended the question:
  //   kInvalidArgument  bad request, or a question the generator cannot answer
  //   kNotFound         unknown session, or the practice has no data
  //   kResourceExhausted budget hard cap (after BudgetCheck allowed=false), or
  //                     a sandbox limit
  // Budget: the worst case of every attempt (model calls at the chosen
  // model's prices, plus sandbox time) is reserved before anything is spent
  // and settled with what was spent. Past the soft cap, a model with a
  // downgrade rule gives way to its cheaper model (BudgetCheck says so).
  // When the reservation is refused but the offline planner understands the
  // question, the planner answers at no cost (sandbox time included) and
  // BudgetCheck says the budget is used up.
  //   kDeadlineExceeded the sandbox's wall-clock limit
  //   kCancelled        `cancel` was tripped (also while waiting for the
  //                     session's previous question: questions on one
  //                     session run one at a time, in arrival order)
  //   kUnavailable      a model service is down
  // A question refused only because of other questions' holds waits up to
  // PipelineOptions::budget_wait for them to settle (BudgetCheck says so).
  absl::Status Ask(const Practice& practice, const AskRequest& request, EventSink& sink,
                   CancellationToken& cancel);

  // Ask without holding the calling thread: returns at once and calls
  // `done` exactly once, on a runner thread (or inline for a request
  // refused before any work). `practice`, `sink` and `cancel` must stay
  // alive until `done` has been called; `sink` is called from the runner's,
  // the model client's and the executor's threads, one event at a time.
  void AskAsync(const Practice& practice, AskRequest request, EventSink& sink,
                CancellationToken& cancel, AskCallback done);

 private:
  class Question;

  const PipelineOptions options_;
  const Deps deps_;
  // Deps::runner, or own_runner_ when none was given.
  std::unique_ptr<TaskRunner> own_runner_;
  TaskRunner* runner_;
  // In this process, questions on one session queue here (FIFO); across
  // servers sharing the store, they also claim the session in the store.
  session::SessionLocks session_locks_;
};

// The answer sentence when the code did not set one: a number with its
// unit, the text, or the table's size.
std::string DefaultAnswerText(const ResultValue& result);

}  // namespace vet::pipeline

#endif  // VET_CORE_PIPELINE_PIPELINE_H_
