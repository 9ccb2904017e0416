// Pipeline::Ask as a chain of steps (Pipeline::Question). The budget
// reservation is always either committed (with what was actually spent) or
// released, and every question that reached a session leaves a turn in it,
// whatever way it ends.
#include "core/pipeline/pipeline.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "core/common/await.h"
#include "core/common/error_details.h"
#include "core/common/log.h"
#include "core/common/random.h"
#include "core/common/redact.h"
#include "core/common/status_macros.h"
#include "core/common/utf8.h"
#include "core/common/worker_pool.h"
#include "core/data/practice_data.h"
#include "core/data/schema.h"
#include "core/pipeline/artifact_chunks.h"

namespace vet::pipeline {
namespace {

// Assigns seq numbers and timestamps; the stages only say what happened.
class Emitter {
 public:
  Emitter(EventSink& sink, const Clock& clock) : sink_(sink), clock_(clock) {}
  // Thread-safe: a question's events come from the runner's, the model
  // client's and the executor's threads, one after the other; the lock
  // keeps their numbers in the order they reach the sink.
  void Emit(EventPayload payload) {
    absl::MutexLock lock(&mu_);
    AskEvent event;
    event.seq = ++seq_;
    event.timestamp = clock_.Now();
    event.payload = std::move(payload);
    sink_.Emit(event);
  }

 private:
  EventSink& sink_;
  const Clock& clock_;
  absl::Mutex mu_;
  int64_t seq_ ABSL_GUARDED_BY(mu_) = 0;
};

class StreamingOutput final : public sandbox::OutputSink {
 public:
  explicit StreamingOutput(Emitter& emitter) : emitter_(emitter) {}
  void OnOutput(sandbox::OutputStream stream, absl::string_view text) override {
    emitter_.Emit(ExecutionOutputEvent{stream, std::string(text)});
  }

 private:
  Emitter& emitter_;
};

// Thousands separators on the integer part of a formatted number:
// "-12345.50" -> "-12,345.50".
std::string WithThousands(std::string s) {
  const size_t start = (!s.empty() && s[0] == '-') ? 1 : 0;
  const size_t dot = std::min(s.find('.'), s.size());
  for (int i = static_cast<int>(dot) - 3; i > static_cast<int>(start); i -= 3) {
    s.insert(static_cast<size_t>(i), ",");
  }
  return s;
}

std::string FormatCount(int64_t n) { return WithThousands(absl::StrCat(n)); }

std::string FormatNumber(double v) { return WithThousands(absl::StrFormat("%.2f", v)); }

// After the answer of a table larger than the answer carries: how large it
// is, and where the whole of it is.
std::string TableSizeSentence(const ResultTable& t) {
  std::string out = absl::StrCat("The table has ", FormatCount(t.total_rows), " rows; the first ",
                                 FormatCount(t.rows.size()), " are shown");
  if (t.csv_artifact.empty()) return out + ".";
  const std::string in_csv = t.csv_rows < t.total_rows
                                 ? absl::StrCat("the first ", FormatCount(t.csv_rows))
                                 : std::string("all of them");
  return absl::StrCat(out, " and ", in_csv, " are in ", t.csv_artifact, ".");
}

}  // namespace

std::string ScrubFailureMessage(absl::string_view message) {
  // Names of the schema are not data; anything else quoted may be.
  static const auto* const kNames = [] {
    auto* names = new absl::flat_hash_set<std::string>();
    for (const data::TableSpec& table : data::CanonicalSchema()) {
      names->insert(table.name);
      for (const data::ColumnSpec& column : table.columns) names->insert(column.name);
    }
    return names;
  }();
  std::string out;
  size_t i = 0;
  while (i < message.size()) {
    const char quote = message[i];
    if (quote != '\'' && quote != '"') {
      out.push_back(message[i++]);
      continue;
    }
    size_t end = message.find(quote, i + 1);
    if (end == absl::string_view::npos) {
      out.append(1, quote).append("...");
      break;
    }
    absl::string_view inside = message.substr(i + 1, end - i - 1);
    out.push_back(quote);
    out.append(kNames->contains(inside) ? std::string(inside) : std::string("..."));
    out.push_back(quote);
    i = end + 1;
  }
  return out;
}

namespace {

// The failure a generator may see to repair its code: type, line and the
// start of the message, with quoted values that are not schema names
// replaced by "...": a message can quote a cell ("KeyError: 'Bella'").
std::string DescribeFailure(const sandbox::CodeError& error) {
  std::string message = ScrubFailureMessage(error.message.substr(0, 300));
  return error.line > 0 ? absl::StrCat(error.type, " at line ", error.line, ": ", message)
                        : absl::StrCat(error.type, ": ", message);
}

// INVALID_ARGUMENT naming the request field (BadRequest) as well.
absl::Status BadField(absl::string_view field, const std::string& message) {
  return WithViolations(WithReason(absl::InvalidArgumentError(message), reason::kInvalidRequest),
                        {{std::string(field), message}});
}

// `status` with `why` as its reason unless one was set where it arose.
absl::Status Reasoned(const absl::Status& status, const char* why) {
  if (!GetErrorDetails(status).reason.empty()) return status;
  return WithReason(status, why);
}

}  // namespace

absl::StatusOr<absl::CivilDay> ValidateAskRequest(const AskRequest& request,
                                                  const PipelineOptions& options, absl::Time now,
                                                  absl::TimeZone tz) {
  absl::string_view question = absl::StripAsciiWhitespace(request.question);
  if (question.empty()) {
    return BadField("question", "question is empty: ask something about the practice's data");
  }
  // Counted in characters, as the person typing sees them.
  const Utf8Scan scan = ScanUtf8(request.question);
  if (!scan.valid) {
    return BadField("question",
                    absl::StrCat("question is not valid UTF-8 (from byte ", scan.invalid_at, ")"));
  }
  if (static_cast<int>(scan.chars) > options.max_question_chars) {
    return BadField("question",
                    absl::StrCat("question is ", scan.chars, " characters long; at most ",
                                 options.max_question_chars, " are allowed"));
  }
  for (unsigned char c : request.question) {
    if (c < 0x20 && c != '\n' && c != '\t' && c != '\r') {
      return BadField("question", "question contains control characters");
    }
  }
  if (request.session_id.size() > 128) {
    return BadField("session_id", "session_id is longer than 128 characters");
  }
  if (request.as_of_date.empty()) return absl::CivilDay(absl::ToCivilDay(now, tz));
  absl::CivilDay day;
  // ParseCivilTime accepts exactly "YYYY-MM-DD" and rejects impossible days.
  if (request.as_of_date.size() != 10 || !absl::ParseCivilTime(request.as_of_date, &day) ||
      absl::FormatCivilTime(day) != request.as_of_date) {
    return BadField("as_of_date", absl::StrCat("as_of_date '", request.as_of_date.substr(0, 40),
                                               "' is not a date in the form YYYY-MM-DD "
                                               "(e.g. 2026-10-26)"));
  }
  if (day.year() < 1990 || day.year() > 2200) {
    return BadField("as_of_date", absl::StrCat("as_of_date ", request.as_of_date,
                                               " is outside the years 1990 to 2200"));
  }
  return day;
}

std::string DefaultAnswerText(const ResultValue& result) {
  switch (result.kind) {
    case ResultValue::Kind::kNone:
      return "The code ran but produced no result.";
    case ResultValue::Kind::kNumber:
      if (result.unit == "USD") return absl::StrCat("$", FormatNumber(result.number));
      if (result.unit == "percent") return absl::StrFormat("%.1f%%", result.number);
      return result.unit.empty() || result.unit == "count"
                 ? FormatNumber(result.number)
                 : absl::StrCat(FormatNumber(result.number), " ", result.unit);
    case ResultValue::Kind::kText:
      return result.text;
    case ResultValue::Kind::kTable:
      return absl::StrCat("A table of ", result.table.total_rows, " row",
                          result.table.total_rows == 1 ? "" : "s", ".");
  }
  return "";
}

Pipeline::Pipeline(PipelineOptions options, Deps deps)
    : options_(std::move(options)), deps_(deps), runner_(deps.runner) {
  if (runner_ == nullptr) {
    own_runner_ = std::make_unique<WorkerPool>(WorkerPool::Options{/*threads=*/2});
    runner_ = own_runner_.get();
  }
}

// Destroys the pipeline's own runner (if any) first: it finishes the steps
// still queued, which use the rest of the pipeline.
Pipeline::~Pipeline() { own_runner_.reset(); }

// One question in flight: its state, and its steps in order. Each step runs
// on the runner; a step that starts something asynchronous returns, and the
// callback posts the next step. Owned by the callbacks that will continue
// it (shared_from_this), so it lives exactly as long as the question.
class Pipeline::Question : public std::enable_shared_from_this<Question> {
 public:
  Question(Pipeline& pipeline, const Practice& practice, AskRequest request, EventSink& sink,
           CancellationToken& cancel, AskCallback done)
      : p_(pipeline),
        deps_(pipeline.deps_),
        options_(pipeline.options_),
        practice_(practice),
        request_(std::move(request)),
        emit_(sink, *pipeline.deps_.clock),
        output_(emit_),
        cancel_(cancel),
        done_(std::move(done)),
        // Names this question in the budget ledger and as its session's
        // claimant.
        question_id_(RandomHex(16)),
        log_context_(std::make_shared<LogContext>(
            LogContext{practice.id, request_.session_id, question_id_, request_.trace.trace_id})),
        tracer_(telemetry::TracerOrNull(pipeline.deps_.tracer)) {}

  void Start();

 private:
  // A callback that runs `step` with its value on the runner, keeping the
  // question alive until it ran.
  template <typename T>
  std::function<void(T)> ThenWith(void (Question::*step)(T)) {
    return [self = shared_from_this(), step](T value) {
      // A std::function must be copyable; the value (a lease) may not be.
      auto boxed = std::make_shared<T>(std::move(value));
      self->p_.runner_->Post([self, step, boxed] {
        ScopedLogContext scope(self->log_context());
        ((*self).*step)(std::move(*boxed));
      });
    };
  }
  // `step` on the runner after `wait`, keeping the question alive.
  void PostAfter(absl::Duration wait, void (Question::*step)()) {
    p_.runner_->PostAfter(wait, [self = shared_from_this(), step] {
      ScopedLogContext scope(self->log_context());
      ((*self).*step)();
    });
  }

  // What this question's log lines carry (see Pipeline's comment).
  std::shared_ptr<const LogContext> log_context() const {
    absl::MutexLock lock(&log_mu_);
    return log_context_;
  }
  // Once the session is known: a new context (lines in flight keep theirs).
  void SetLogSession(const std::string& session_id) {
    auto next = std::make_shared<LogContext>(*log_context());
    next->session = session_id;
    absl::MutexLock lock(&log_mu_);
    log_context_ = std::move(next);
  }

  // 1. Session: one question at a time per session, in this process and
  // then across servers sharing the store.
  void OnSessionLocked(absl::StatusOr<session::SessionLocks::Lease> lease);
  void ClaimSession();
  void OnSessionClaimed();
  // 2. Budget.
  void CheckBudget();
  void Reserve();
  void OnReserved();
  // 3 and 4. Generate and execute, repairing when the generator can.
  void GenerateAttempt();
  void OnGenerated(absl::StatusOr<codegen::GeneratedCode> generated);
  void OnExecuted(absl::StatusOr<sandbox::ExecutionResult> executed);
  void Answer(sandbox::ExecutionResult executed);

  // Ends the question with `status`: settles the reservation (when one was
  // taken), stores the turn (once a session was reached), lets go of the
  // session and calls done_.
  void End(absl::Status status);

  // A span of this question, a child of the caller's (the server's Ask).
  std::unique_ptr<telemetry::Span> StartSpan(absl::string_view name) {
    std::unique_ptr<telemetry::Span> span = tracer_.StartSpan(name, request_.trace);
    if (span->recording()) {
      span->SetAttribute("vet.practice_id", practice_.id);
      span->SetAttribute("vet.question_id", question_id_);
    }
    return span;
  }
  // Ends `span` (if still open) with `status`.
  static void EndSpan(std::unique_ptr<telemetry::Span>& span, const absl::Status& status) {
    if (span == nullptr) return;
    span->SetStatus(status);
    span->End();
    span.reset();
  }
  void ChargeSandbox(absl::Duration elapsed);

  Pipeline& p_;
  const Deps& deps_;
  const PipelineOptions& options_;
  const Practice& practice_;
  const AskRequest request_;
  Emitter emit_;
  StreamingOutput output_;
  CancellationToken& cancel_;
  AskCallback done_;
  const std::string question_id_;
  absl::Time started_at_;
  mutable absl::Mutex log_mu_;
  std::shared_ptr<const LogContext> log_context_ ABSL_GUARDED_BY(log_mu_);
  telemetry::Tracer& tracer_;
  // Spans open across steps; End closes any left with the question's status.
  std::unique_ptr<telemetry::Span> reserve_span_;
  std::unique_ptr<telemetry::Span> codegen_span_;
  std::unique_ptr<telemetry::Span> sandbox_span_;

  absl::CivilDay as_of_;
  std::string as_of_text_;
  bool resumed_ = false;
  std::string session_id_;
  session::SessionRecord session_;
  session::SessionLocks::Lease session_lease_;
  bool claimed_ = false;
  absl::Duration claim_backoff_ = absl::Milliseconds(20);
  // Set once the session is known: the question then leaves a turn.
  bool records_turn_ = false;
  // The sandbox ran the code (whatever it then answered).
  bool executed_ = false;
  session::TurnRecord turn_;

  absl::optional<data::DataLease> data_lease_;
  std::shared_ptr<const data::DatasetDescription> dataset_;
  codegen::CodeRequest code_request_;

  budget::BudgetState state_;
  codegen::CostEstimate estimate_;
  BudgetCheckEvent check_;
  bool planner_answers_ = false;
  int max_attempts_ = 1;
  int64_t sandbox_worst_ = 0;
  int64_t worst_ = 0;
  absl::Time budget_wait_started_;
  absl::Duration reserve_backoff_ = absl::Milliseconds(25);
  // OK once a reservation is held: End settles it.
  absl::StatusOr<budget::Reservation> reservation_ = absl::UnknownError("not reserved");
  bool free_answer_ = false;

  budget::Spend spend_;
  bool spend_reported_ = false;
  int attempt_ = 1;
  codegen::GeneratedCode generated_;
  sandbox::ExecutionRequest exec_;
};

void Pipeline::Question::Start() {
  ScopedLogContext scope(log_context());
  const Clock& clock = *deps_.clock;
  started_at_ = clock.Now();
  auto as_of = ValidateAskRequest(request_, options_, clock.Now(), practice_.time_zone);
  if (!as_of.ok()) return End(as_of.status());
  as_of_ = *as_of;
  as_of_text_ = absl::FormatCivilTime(as_of_);
  // A question cancelled while it waited for a thread does no work at all.
  if (absl::Status c = cancel_.Check("before it started"); !c.ok()) return End(c);

  resumed_ = !request_.session_id.empty();
  session_id_ = request_.session_id;
  if (!resumed_) {
    auto span = StartSpan("session.create");
    auto created = deps_.sessions->Create(practice_.id);
    EndSpan(span, created.status());
    if (!created.ok()) return End(created.status());
    session_ = *std::move(created);
    session_id_ = session_.id;
    SetLogSession(session_id_);
  }
  ScopedLogContext with_session(log_context());
  // One question at a time per session: a follow-up sent while the
  // previous question still runs waits for it (without a thread), and then
  // sees its turn.
  p_.session_locks_.AcquireAsync(practice_.id + "/" + session_id_, cancel_,
                                 ThenWith(&Question::OnSessionLocked));
}

void Pipeline::Question::OnSessionLocked(absl::StatusOr<session::SessionLocks::Lease> lease) {
  if (!lease.ok()) return End(lease.status());
  session_lease_ = *std::move(lease);
  ClaimSession();
}

// The same across servers sharing the store: a claim in the store, released
// when this question is done (after its turn is stored). Another server's
// question may hold it: try again after a growing pause.
void Pipeline::Question::ClaimSession() {
  auto claimed = deps_.sessions->TryClaim(practice_.id, session_id_, question_id_,
                                          options_.session_claim_lease);
  if (!claimed.ok()) return End(claimed.status());
  if (*claimed) {
    claimed_ = true;
    return OnSessionClaimed();
  }
  if (cancel_.IsCancelled()) {
    return End(absl::CancelledError(
        "cancelled while waiting for the session's previous question (on another server)"));
  }
  const absl::Duration wait = claim_backoff_;
  claim_backoff_ = std::min(claim_backoff_ * 2, absl::Milliseconds(500));
  PostAfter(wait, &Question::ClaimSession);
}

void Pipeline::Question::OnSessionClaimed() {
  if (resumed_) {
    auto span = StartSpan("session.load");
    auto loaded = deps_.sessions->Get(practice_.id, session_id_);
    if (loaded.ok() && span->recording()) {
      span->SetAttribute("vet.turns", static_cast<int64_t>(loaded->turns.size()));
    }
    EndSpan(span, loaded.status());
    if (!loaded.ok()) return End(loaded.status());
    session_ = *std::move(loaded);
  }
  emit_.Emit(SessionStartedEvent{session_.id, resumed_, static_cast<int>(session_.turns.size()) + 1,
                                 as_of_text_, question_id_});
  records_turn_ = true;
  turn_.question = request_.question;
  turn_.as_of_date = as_of_text_;
  turn_.asked_at = deps_.clock->Now();
  if (absl::Status c = cancel_.Check("before the budget check"); !c.ok()) return End(c);

  // One version of the data for the whole question, even if an import
  // swaps it meanwhile.
  auto data_error = [this](const absl::Status& s) {
    const char* why =
        s.code() == absl::StatusCode::kNotFound ? reason::kNoData : reason::kDataUnavailable;
    return End(Reasoned(Annotate(s, absl::StrCat("practice '", practice_.id, "' data: ")), why));
  };
  auto lease = deps_.data != nullptr
                   ? deps_.data->Lease(practice_.id, practice_.data_root, practice_.data_dir)
                   : data::DataLease::Acquire(practice_.data_dir);
  if (!lease.ok()) return data_error(lease.status());
  data_lease_.emplace(*std::move(lease));
  auto dataset = deps_.datasets->Describe(data_lease_->dir());
  if (!dataset.ok()) return data_error(dataset.status());
  dataset_ = *std::move(dataset);
  // What a model must never see (personal_data_shield.h): read once per
  // version, like the description, and only where a model may be asked.
  absl::StatusOr<std::shared_ptr<const std::vector<data::PersonalColumn>>> personal = nullptr;
  if (deps_.generator->SendsTextOut()) {
    personal = deps_.datasets->Personal(data_lease_->dir());
    if (!personal.ok()) return data_error(personal.status());
  }

  code_request_.practice_id = practice_.id;
  code_request_.question = request_.question;
  code_request_.as_of = as_of_;
  code_request_.dataset = dataset_.get();
  code_request_.personal = *std::move(personal);
  for (const session::TurnRecord& prior : session_.turns) {
    if (prior.status != absl::StatusCode::kOk) continue;
    code_request_.history.push_back({prior.question, prior.code, prior.summary, prior.plan});
  }
  CheckBudget();
}

// 2. Budget: reserve the worst case before anything is spent, every attempt
// included.
void Pipeline::Question::CheckBudget() {
  // From the first look at the totals to the decision, waits included.
  reserve_span_ = StartSpan("budget.reserve");
  auto state = deps_.budget->GetTotals(practice_);
  if (!state.ok()) return End(state.status());
  state_ = *std::move(state);
  estimate_ = deps_.generator->Estimate(code_request_);
  if (state_.soft_cap_reached && deps_.pricing != nullptr) {
    std::string cheaper = deps_.pricing->DowngradeAtSoftCap(estimate_.model);
    if (!cheaper.empty()) {
      check_.downgraded_from = estimate_.model;
      code_request_.model = cheaper;
      estimate_ = deps_.generator->Estimate(code_request_);
    }
  }
  // The planner is deterministic: its code failing again would be the same
  // code, and a repair by a model was not reserved for.
  planner_answers_ = estimate_.micros == 0 && estimate_.model == "planner";
  max_attempts_ =
      deps_.generator->CanRepair() && !planner_answers_ ? std::max(1, options_.max_attempts) : 1;
  sandbox_worst_ =
      budget::SandboxCostMicros(options_.execution_timeout, options_.sandbox_micros_per_second);
  worst_ = (estimate_.micros + sandbox_worst_) * max_attempts_;
  budget_wait_started_ = deps_.clock->Now();
  Reserve();
}

void Pipeline::Question::Reserve() {
  reservation_ = deps_.budget->Reserve(practice_, worst_, estimate_.model);
  if (!reservation_.ok() && reservation_.status().code() == absl::StatusCode::kResourceExhausted) {
    // Refused only because of other questions' holds, when what is spent
    // alone would allow it: they settle within moments (most cost far less
    // than their worst case), so wait for them rather than refuse a
    // question the budget can pay for. The store's conditional write still
    // decides, so the cap holds exactly.
    auto now_state = deps_.budget->GetTotals(practice_);
    const absl::Duration waited = deps_.clock->Now() - budget_wait_started_;
    if (now_state.ok()) {
      state_ = *now_state;
      const bool holds_only =
          state_.reserved_micros > 0 &&
          state_.spent_micros + worst_ <= budget::CapMicros(state_.limit_micros, state_.hard_cap);
      if (holds_only && waited < options_.budget_wait && !cancel_.IsCancelled()) {
        const absl::Duration pause = std::min(reserve_backoff_, options_.budget_wait - waited);
        reserve_backoff_ = std::min(reserve_backoff_ * 2, absl::Milliseconds(250));
        PostAfter(pause, &Question::Reserve);
        return;
      }
    }
    check_.waited = waited;
  } else {
    check_.waited = deps_.clock->Now() - budget_wait_started_;
  }
  OnReserved();
}

void Pipeline::Question::OnReserved() {
  const int64_t refused_worst = worst_;
  if (!reservation_.ok() && reservation_.status().code() == absl::StatusCode::kResourceExhausted) {
    // The offline planner still answers what it understands, for nothing.
    codegen::CodeRequest free_request = code_request_;
    free_request.free_only = true;
    free_request.model.clear();
    if (deps_.generator->CanAnswerFree(free_request)) {
      free_answer_ = true;
      code_request_ = std::move(free_request);
      check_.downgraded_from.clear();
      estimate_ = deps_.generator->Estimate(code_request_);
      max_attempts_ = 1;
      worst_ = 0;
      reservation_ = deps_.budget->Reserve(practice_, 0, estimate_.model);
    }
  }
  const budget::BudgetState& state = state_;
  check_.spent_micros = state.spent_micros;
  check_.limit_micros = state.limit_micros;
  check_.remaining_micros = state.remaining_micros;
  check_.reserved_micros = state.reserved_micros;
  check_.estimate_micros = worst_;
  check_.soft_cap_reached = state.soft_cap_reached;
  check_.hard_cap_reached = state.hard_cap_reached;
  check_.resets_at = state.resets_at;
  check_.model = estimate_.model;
  const std::string waited =
      check_.waited >= absl::Milliseconds(1)
          ? absl::StrCat(" (after waiting ",
                         absl::FormatDuration(absl::Trunc(check_.waited, absl::Milliseconds(1))),
                         " for other questions' holds to settle)")
          : "";
  if (reserve_span_->recording()) {
    reserve_span_->SetAttribute("vet.reserved_usd", telemetry::MicrosToUsd(worst_));
    reserve_span_->SetAttribute("vet.model", estimate_.model);
    reserve_span_->SetAttribute("vet.free_answer", free_answer_);
  }
  EndSpan(reserve_span_, reservation_.status());
  if (!reservation_.ok()) {
    check_.allowed = false;
    check_.message = absl::StrCat(reservation_.status().message(), waited);
    emit_.Emit(check_);
    if (reservation_.status().code() == absl::StatusCode::kResourceExhausted) {
      return End(WithReason(reservation_.status(), reason::kBudgetExhausted,
                            {{"practice_id", practice_.id},
                             {"resets_at", absl::FormatTime(absl::RFC3339_sec, state.resets_at,
                                                            absl::UTCTimeZone())}}));
    }
    return End(reservation_.status());
  }
  check_.allowed = true;
  const std::string resets =
      absl::FormatTime("%Y-%m-%d %H:%M %Z", state.resets_at, practice_.time_zone);
  if (free_answer_) {
    check_.message = absl::StrCat(
        state.hard_cap_reached ? "The budget is used up"
                               : "What is left of the budget cannot cover a model call",
        " (", budget::FormatDollars(state.spent_micros), " spent of ",
        budget::FormatDollars(state.limit_micros), ", ",
        budget::FormatDollars(state.reserved_micros), " held by questions in flight; up to ",
        budget::FormatDollars(refused_worst),
        " was needed): the offline planner answers this one at no cost. The budget resets at ",
        resets, ".");
  } else if (planner_answers_ && worst_ == 0) {
    check_.message = "The offline planner answers at no cost.";
  } else {
    check_.message =
        absl::StrCat("Reserved up to ", budget::FormatDollars(worst_), " for ", estimate_.model,
                     sandbox_worst_ > 0 ? " and sandbox time" : "", waited, ".");
    if (!check_.downgraded_from.empty()) {
      check_.message =
          absl::StrCat("Past the soft cap (", budget::FormatDollars(state.spent_micros), " of ",
                       budget::FormatDollars(state.limit_micros), " spent): ", estimate_.model,
                       " answers instead of ", check_.downgraded_from, ". ", check_.message);
    }
  }
  emit_.Emit(check_);

  spend_.model = estimate_.model;
  spend_.question_id = question_id_;
  // A model service that fails and is retried, and code as a model writes
  // it. These run on the model client's thread while no step of this
  // question runs.
  code_request_.on_retry = [this](const std::string& reason) {
    ScopedLogContext scope(log_context());
    emit_.Emit(RetryEvent{attempt_, reason});
  };
  code_request_.on_code_delta = [this](absl::string_view piece) {
    ScopedLogContext scope(log_context());
    emit_.Emit(CodeDeltaEvent{attempt_, std::string(piece)});
  };
  code_request_.on_spend = [this](const codegen::CallSpend& call) {
    ScopedLogContext scope(log_context());
    spend_reported_ = true;
    spend_.micros += call.micros;
    spend_.prompt_tokens += call.prompt_tokens;
    spend_.cached_prompt_tokens += call.cached_prompt_tokens;
    spend_.completion_tokens += call.completion_tokens;
    if (!call.model.empty()) spend_.model = call.model;
  };
  GenerateAttempt();
}

void Pipeline::Question::GenerateAttempt() {
  spend_reported_ = false;
  if (absl::Status c = cancel_.Check("before generating code"); !c.ok()) return End(c);
  if (attempt_ > 1) {
    // Extends the claim by another lease before each repair attempt, so a
    // long question keeps it; logged, not fatal, when it cannot.
    auto renewed = deps_.sessions->TryClaim(practice_.id, session_id_, question_id_,
                                            options_.session_claim_lease);
    if (!renewed.ok() || !*renewed) {
      LogWarning(
          "session ", session_id_.substr(0, 8), "...: its claim could not be renewed (",
          renewed.ok() ? "another question took it after it lapsed" : renewed.status().ToString(),
          ")");
    }
  }
  code_request_.attempt = attempt_;
  codegen_span_ = StartSpan("codegen");
  if (codegen_span_->recording()) {
    codegen_span_->SetAttribute("vet.attempt", static_cast<int64_t>(attempt_));
  }
  // The model calls are spans of this question's trace, children of this
  // attempt's.
  if (!request_.trace.trace_id.empty()) {
    code_request_.traceparent = FormatTraceparent(codegen_span_->context());
  }
  deps_.generator->GenerateAsync(code_request_, cancel_, ThenWith(&Question::OnGenerated));
}

void Pipeline::Question::OnGenerated(absl::StatusOr<codegen::GeneratedCode> generated) {
  if (generated.ok() && codegen_span_->recording()) {
    codegen_span_->SetAttribute("vet.generator", generated->generator);
    codegen_span_->SetAttribute("vet.model", generated->model);
    codegen_span_->SetAttribute("vet.cost_usd", telemetry::MicrosToUsd(generated->cost_micros));
  }
  EndSpan(codegen_span_, generated.status());
  if (!generated.ok()) {
    // Not understood (and no model to ask), or the model failed.
    const absl::StatusCode code = generated.status().code();
    if (code == absl::StatusCode::kInvalidArgument) {
      return End(Reasoned(generated.status(), reason::kNotUnderstood));
    }
    if (code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kDeadlineExceeded) {
      return End(Reasoned(generated.status(), reason::kModelUnavailable));
    }
    return End(generated.status());
  }
  generated_ = *std::move(generated);
  // A generator that reports its spend call by call (on_spend) has counted
  // it already, including calls whose reply it then refused.
  if (!spend_reported_) {
    spend_.micros += generated_.cost_micros;
    spend_.prompt_tokens += generated_.prompt_tokens;
    spend_.cached_prompt_tokens += generated_.cached_prompt_tokens;
    spend_.completion_tokens += generated_.completion_tokens;
  }
  turn_.code = generated_.code;
  turn_.summary = generated_.summary;
  turn_.plan = generated_.plan;
  emit_.Emit(CodeGeneratedEvent{attempt_, generated_.code, generated_.generator, generated_.model,
                                generated_.prompt_tokens, generated_.completion_tokens,
                                generated_.cost_micros, generated_.summary});

  if (absl::Status c = cancel_.Check("before running the code"); !c.ok()) return End(c);
  exec_.practice_id = practice_.id;
  exec_.data_dir = data_lease_->dir();
  exec_.code = generated_.code;
  exec_.timeout = options_.execution_timeout;
  // Queue wait included: the span is what the question waited for.
  sandbox_span_ = StartSpan("sandbox.execute");
  // Waits for a slot in the executor's queue without a thread.
  deps_.executor->ExecuteAsync(exec_, output_, cancel_, ThenWith(&Question::OnExecuted));
}

void Pipeline::Question::OnExecuted(absl::StatusOr<sandbox::ExecutionResult> executed) {
  executed_ = executed.ok();
  if (executed.ok() && sandbox_span_->recording()) {
    sandbox_span_->SetAttribute("vet.sandbox_ms", absl::ToInt64Milliseconds(executed->elapsed));
  }
  // Code that raised is an answer, but a failed execution all the same.
  EndSpan(sandbox_span_, !executed.ok() ? executed.status()
                         : executed->error.has_value()
                             ? absl::UnknownError(DescribeFailure(*executed->error))
                             : absl::OkStatus());
  if (executed.ok()) {
    ChargeSandbox(executed->elapsed);
  } else if (executed.status().code() == absl::StatusCode::kDeadlineExceeded) {
    ChargeSandbox(options_.execution_timeout);
  }
  if (!executed.ok()) {
    absl::Status failed = Annotate(executed.status(), "sandbox: ");
    if (failed.code() == absl::StatusCode::kDeadlineExceeded) {
      failed = Reasoned(failed, reason::kSandboxTimeout);
    } else if (failed.code() == absl::StatusCode::kResourceExhausted) {
      failed = Reasoned(failed, reason::kSandboxLimit);
    }
    return End(failed);
  }
  // The code looked at the data and declined: a question the data cannot
  // answer as asked, like one the generator did not understand.
  if (!executed->declined.empty()) {
    return End(WithReason(absl::InvalidArgumentError(executed->declined), reason::kNotAnswerable));
  }
  // Artifacts (charts, the whole result table as CSV) in parts small
  // enough for any client.
  for (sandbox::Chart& chart : executed->charts) {
    for (ArtifactEvent& part : ArtifactChunks(std::move(chart))) emit_.Emit(std::move(part));
  }
  if (executed->error.has_value()) {
    std::string failure = DescribeFailure(*executed->error);
    if (attempt_ < max_attempts_) {
      emit_.Emit(RetryEvent{attempt_ + 1, absl::StrCat("the code raised ", failure)});
      code_request_.failed_code = generated_.code;
      code_request_.failure = failure;
      ++attempt_;
      return GenerateAttempt();
    }
    // A program that raises is an answer to report, not a failed call.
    FinalAnswerEvent answer;
    answer.text =
        absl::StrCat("The analysis could not be completed: the code raised ", failure, ".");
    answer.total_cost_micros = spend_.micros;
    answer.code = generated_.code;
    answer.attempts = attempt_;
    turn_.answer = answer.text;
    emit_.Emit(std::move(answer));
    return End(absl::OkStatus());
  }
  Answer(*std::move(executed));
}

namespace {

// The data's first and last day over its dated columns ("" when it has
// none), and a warning when `as_of` lies outside them: relative periods then
// cover days with no data, and an answer of zero would mislead.
std::vector<std::string> AsOfWarnings(const data::DatasetDescription& dataset,
                                      absl::string_view as_of) {
  std::string first, last;
  for (const data::TableDescription& table : dataset.tables) {
    for (const data::ColumnDescription& column : table.columns) {
      if (column.min_value.empty()) continue;
      const std::string lo = column.min_value.substr(0, 10);
      const std::string hi = column.max_value.substr(0, 10);
      if (first.empty() || lo < first) first = lo;
      if (last.empty() || hi > last) last = hi;
    }
  }
  std::vector<std::string> out;
  if (last.empty()) return out;
  if (as_of > last) {
    out.push_back(absl::StrCat("The as-of date ", as_of, " is after the data's last day (", last,
                               "): periods after it have no data in this dataset."));
  } else if (as_of < first) {
    out.push_back(absl::StrCat("The as-of date ", as_of, " is before the data's first day (", first,
                               "): periods before it have no data in this dataset."));
  }
  return out;
}

}  // namespace

// 5. The answer.
void Pipeline::Question::Answer(sandbox::ExecutionResult executed) {
  FinalAnswerEvent answer;
  answer.explanation = std::move(executed.explanation);
  if (dataset_ != nullptr) {
    for (std::string& w : AsOfWarnings(*dataset_, as_of_text_)) {
      answer.explanation.warnings.push_back(std::move(w));
    }
  }
  answer.result = std::move(executed.result);
  answer.text = executed.answer.empty() ? DefaultAnswerText(answer.result) : executed.answer;
  if (const ResultTable& t = answer.result.table;
      answer.result.kind == ResultValue::Kind::kTable &&
      t.total_rows > static_cast<int64_t>(t.rows.size())) {
    absl::StrAppend(&answer.text, answer.text.empty() ? "" : " ", TableSizeSentence(t));
  }
  answer.total_cost_micros = spend_.micros;
  answer.code = generated_.code;
  answer.attempts = attempt_;
  turn_.answer = answer.text;
  turn_.summary = absl::StrCat(generated_.summary.empty() ? "" : generated_.summary + "; ",
                               DescribeShape(answer.result));
  emit_.Emit(std::move(answer));
  End(absl::OkStatus());
}

// Sandbox time is charged unless the planner answers past the cap.
void Pipeline::Question::ChargeSandbox(absl::Duration elapsed) {
  if (free_answer_) return;
  spend_.sandbox_millis += absl::ToInt64Milliseconds(elapsed);
  spend_.micros += budget::SandboxCostMicros(elapsed, options_.sandbox_micros_per_second);
}

void Pipeline::Question::End(absl::Status status) {
  EndSpan(reserve_span_, status);
  EndSpan(codegen_span_, status);
  EndSpan(sandbox_span_, status);
  if (reservation_.ok()) {
    const bool commit = spend_.micros > 0 || status.ok();
    auto span = StartSpan(commit ? "budget.commit" : "budget.release");
    absl::Status settled =
        commit ? deps_.budget->Commit(*reservation_, spend_) : deps_.budget->Release(*reservation_);
    if (span->recording()) {
      span->SetAttribute("vet.cost_usd", telemetry::MicrosToUsd(spend_.micros));
    }
    EndSpan(span, settled);
    if (!settled.ok()) LogError("budget settlement failed: ", settled.ToString());
    turn_.cost_micros = spend_.micros;
  }
  // Records the turn however the question ends; a failure to store it is
  // logged, not allowed to replace the question's own outcome.
  if (!resumed_ && !session_.id.empty() && !status.ok() && !executed_ &&
      status.code() != absl::StatusCode::kCancelled) {
    // The first question of a new session was refused before anything ran
    // (not understood, no data, over budget, ...): it leaves no session. A
    // question the client cancelled is kept, as the client chose to stop.
    absl::Status discarded = deps_.sessions->Discard(practice_.id, session_.id);
    if (!discarded.ok()) LogWarning("could not discard session: ", discarded.ToString());
  } else if (records_turn_) {
    turn_.status = status.code();
    // What the session shows later: without the server's paths.
    if (turn_.answer.empty() && !status.ok()) turn_.answer = WithoutPaths(status.message());
    auto span = StartSpan("session.save");
    absl::Status stored = deps_.sessions->AppendTurn(practice_.id, session_.id, turn_);
    EndSpan(span, stored);
    if (!stored.ok()) LogWarning("could not store turn of session: ", stored.ToString());
  }
  if (claimed_) {
    absl::Status released = deps_.sessions->ReleaseClaim(session_id_, question_id_);
    if (!released.ok()) LogWarning("could not release session claim: ", released.ToString());
  }
  // The next question on this session may start now.
  session_lease_ = session::SessionLocks::Lease();
  data_lease_.reset();
  // One line a question, what an operator greps for first.
  LogInfo(
      "question ended ", absl::StatusCodeToString(status.code()), " after ",
      absl::FormatDuration(absl::Trunc(deps_.clock->Now() - started_at_, absl::Milliseconds(1))),
      generated_.generator.empty() ? "" : absl::StrCat("; code by ", generated_.generator),
      generated_.model.empty() ? "" : absl::StrCat(" ", generated_.model),
      attempt_ > 1 ? absl::StrCat("; ", attempt_, " attempts") : "");
  AskCallback done = std::move(done_);
  done(std::move(status));
}

void Pipeline::AskAsync(const Practice& practice, AskRequest request, EventSink& sink,
                        CancellationToken& cancel, AskCallback done) {
  auto question = std::make_shared<Question>(*this, practice, std::move(request), sink, cancel,
                                             std::move(done));
  question->Start();
}

absl::Status Pipeline::Ask(const Practice& practice, const AskRequest& request, EventSink& sink,
                           CancellationToken& cancel) {
  return AwaitCallback<absl::Status>([&](Pipeline::AskCallback done) {
    AskAsync(practice, request, sink, cancel, std::move(done));
  });
}

}  // namespace vet::pipeline
