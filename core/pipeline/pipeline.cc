// Pipeline::Ask. The budget reservation is always either committed (with what
// was actually spent) or released, and every question that reached a session
// leaves a turn in it, whatever way it ends.
#include "core/pipeline/pipeline.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/common/log.h"
#include "core/common/random.h"
#include "core/common/status_macros.h"
#include "core/data/practice_data.h"
#include "core/data/schema.h"
#include "core/pipeline/artifact_chunks.h"

namespace vet::pipeline {
namespace {

// Assigns seq numbers and timestamps; the stages only say what happened.
class Emitter {
 public:
  Emitter(EventSink& sink, const Clock& clock) : sink_(sink), clock_(clock) {}
  void Emit(EventPayload payload) {
    AskEvent event;
    event.seq = ++seq_;
    event.timestamp = clock_.Now();
    event.payload = std::move(payload);
    sink_.Emit(event);
  }

 private:
  EventSink& sink_;
  const Clock& clock_;
  int64_t seq_ = 0;
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

std::string FormatNumber(double v) {
  std::string s = absl::StrFormat("%.2f", v);
  // Thousands separators on the integer part.
  size_t dot = s.find('.');
  size_t start = (s[0] == '-') ? 1 : 0;
  for (int i = static_cast<int>(dot) - 3; i > static_cast<int>(start); i -= 3) {
    s.insert(i, ",");
  }
  return s;
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

}  // namespace

absl::StatusOr<absl::CivilDay> ValidateAskRequest(const AskRequest& request,
                                                  const PipelineOptions& options,
                                                  absl::Time now, absl::TimeZone tz) {
  absl::string_view question = absl::StripAsciiWhitespace(request.question);
  if (question.empty()) {
    return absl::InvalidArgumentError("question is empty: ask something about the practice's data");
  }
  if (static_cast<int>(request.question.size()) > options.max_question_chars) {
    return absl::InvalidArgumentError(absl::StrCat(
        "question is ", request.question.size(), " characters long; at most ",
        options.max_question_chars, " are allowed"));
  }
  for (unsigned char c : request.question) {
    if (c < 0x20 && c != '\n' && c != '\t' && c != '\r') {
      return absl::InvalidArgumentError("question contains control characters");
    }
  }
  if (request.session_id.size() > 128) {
    return absl::InvalidArgumentError("session_id is longer than 128 characters");
  }
  if (request.as_of_date.empty()) return absl::CivilDay(absl::ToCivilDay(now, tz));
  absl::CivilDay day;
  // ParseCivilTime accepts exactly "YYYY-MM-DD" and rejects impossible days.
  if (request.as_of_date.size() != 10 ||
      !absl::ParseCivilTime(request.as_of_date, &day) ||
      absl::FormatCivilTime(day) != request.as_of_date) {
    return absl::InvalidArgumentError(absl::StrCat(
        "as_of_date '", request.as_of_date.substr(0, 40),
        "' is not a date in the form YYYY-MM-DD (e.g. 2026-10-26)"));
  }
  if (day.year() < 1990 || day.year() > 2200) {
    return absl::InvalidArgumentError(absl::StrCat(
        "as_of_date ", request.as_of_date, " is outside the years 1990 to 2200"));
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
    : options_(std::move(options)), deps_(deps) {}

void Pipeline::RenewSessionClaim(const std::string& practice_id,
                                 const std::string& session_id, const std::string& holder) {
  auto renewed = deps_.sessions->TryClaim(practice_id, session_id, holder,
                                          options_.session_claim_lease);
  if (!renewed.ok() || !*renewed) {
    LogWarning("session ", session_id.substr(0, 8), "...: its claim could not be renewed (",
               renewed.ok() ? "another question took it after it lapsed"
                            : renewed.status().ToString(),
               ")");
  }
}

absl::Status Pipeline::ClaimSession(const std::string& practice_id,
                                    const std::string& session_id, const std::string& holder,
                                    CancellationToken& cancel) {
  absl::Duration wait = absl::Milliseconds(20);
  while (true) {
    VET_ASSIGN_OR_RETURN(bool claimed, deps_.sessions->TryClaim(practice_id, session_id, holder,
                                                                options_.session_claim_lease));
    if (claimed) return absl::OkStatus();
    // Another server's question on this session is still running.
    if (cancel.WaitFor(wait)) {
      return absl::CancelledError(
          "cancelled while waiting for the session's previous question (on another server)");
    }
    wait = std::min(wait * 2, absl::Milliseconds(500));
  }
}

absl::Status Pipeline::Ask(const Practice& practice, const AskRequest& request,
                           EventSink& sink, CancellationToken& cancel) {
  const Clock& clock = *deps_.clock;
  Emitter emit(sink, clock);
  VET_ASSIGN_OR_RETURN(absl::CivilDay as_of,
                       ValidateAskRequest(request, options_, clock.Now(), practice.time_zone));
  const std::string as_of_text = absl::FormatCivilTime(as_of);
  // Names this question in the budget ledger.
  const std::string question_id = RandomHex(16);

  // A question cancelled while it waited for a worker does no work at all.
  VET_RETURN_IF_ERROR(cancel.Check("before it started"));

  // 1. Session.
  // One question at a time per session: a follow-up sent while the previous
  // question still runs waits for it, and then sees its turn.
  session::SessionRecord session;
  session::SessionLocks::Lease session_lease;
  bool resumed = !request.session_id.empty();
  std::string session_id = request.session_id;
  if (!resumed) {
    VET_ASSIGN_OR_RETURN(session, deps_.sessions->Create(practice.id));
    session_id = session.id;
  }
  VET_ASSIGN_OR_RETURN(session_lease,
                       session_locks_.Acquire(practice.id + "/" + session_id, cancel));
  // The same across servers sharing the store: a claim in the store,
  // released when this question is done (after its turn is stored).
  VET_RETURN_IF_ERROR(ClaimSession(practice.id, session_id, question_id, cancel));
  struct ReleaseClaim {
    session::SessionStore* sessions;
    const std::string& id;
    const std::string& holder;
    ~ReleaseClaim() {
      absl::Status released = sessions->ReleaseClaim(id, holder);
      if (!released.ok()) LogWarning("could not release session claim: ", released.ToString());
    }
  } release_claim{deps_.sessions, session_id, question_id};
  if (resumed) {
    VET_ASSIGN_OR_RETURN(session, deps_.sessions->Get(practice.id, session_id));
  }
  emit.Emit(SessionStartedEvent{session.id, resumed,
                                static_cast<int>(session.turns.size()) + 1, as_of_text});

  session::TurnRecord turn;
  turn.question = request.question;
  turn.as_of_date = as_of_text;
  turn.asked_at = clock.Now();
  // Records the turn however the question ends; a failure to store it is
  // logged, not allowed to replace the question's own outcome.
  auto finish = [&](absl::Status status) {
    turn.status = status.code();
    if (turn.answer.empty() && !status.ok()) turn.answer = std::string(status.message());
    absl::Status stored = deps_.sessions->AppendTurn(practice.id, session.id, turn);
    if (!stored.ok()) LogWarning("could not store turn of session: ", stored.ToString());
    return status;
  };

  if (absl::Status c = cancel.Check("before the budget check"); !c.ok()) {
    return finish(c);
  }

  // One version of the data for the whole question, even if an import swaps
  // it meanwhile.
  auto data_error = [&](const absl::Status& s) {
    return finish(absl::Status(
        s.code(), absl::StrCat("practice '", practice.id, "' data: ", s.message())));
  };
  auto lease = data::DataLease::Acquire(practice.data_dir);
  if (!lease.ok()) return data_error(lease.status());
  const std::string& data_dir = lease->dir();
  auto dataset = deps_.datasets->Describe(data_dir);
  if (!dataset.ok()) return data_error(dataset.status());

  codegen::CodeRequest code_request;
  code_request.practice_id = practice.id;
  code_request.question = request.question;
  code_request.as_of = as_of;
  code_request.dataset = dataset->get();
  for (const session::TurnRecord& prior : session.turns) {
    if (prior.status != absl::StatusCode::kOk) continue;
    code_request.history.push_back({prior.question, prior.code, prior.summary, prior.plan});
  }

  // 2. Budget: reserve the worst case before anything is spent, every
  // attempt included.
  auto state = deps_.budget->GetState(practice);
  if (!state.ok()) return finish(state.status());
  codegen::CostEstimate estimate = deps_.generator->Estimate(code_request);
  BudgetCheckEvent check;
  if (state->soft_cap_reached && deps_.pricing != nullptr) {
    std::string cheaper = deps_.pricing->DowngradeAtSoftCap(estimate.model);
    if (!cheaper.empty()) {
      check.downgraded_from = estimate.model;
      code_request.model = cheaper;
      estimate = deps_.generator->Estimate(code_request);
    }
  }
  // The planner is deterministic: its code failing again would be the same
  // code, and a repair by a model was not reserved for.
  const bool planner_answers = estimate.micros == 0 && estimate.model == "planner";
  int max_attempts = deps_.generator->CanRepair() && !planner_answers
                         ? std::max(1, options_.max_attempts)
                         : 1;
  const int64_t sandbox_worst =
      budget::SandboxCostMicros(options_.execution_timeout, options_.sandbox_micros_per_second);
  int64_t worst = (estimate.micros + sandbox_worst) * max_attempts;
  auto reservation = deps_.budget->Reserve(practice, worst, estimate.model);
  bool free_answer = false;
  const int64_t refused_worst = worst;
  if (!reservation.ok() &&
      reservation.status().code() == absl::StatusCode::kResourceExhausted) {
    // The offline planner still answers what it understands, for nothing.
    codegen::CodeRequest free_request = code_request;
    free_request.free_only = true;
    free_request.model.clear();
    if (deps_.generator->CanAnswerFree(free_request)) {
      free_answer = true;
      code_request = std::move(free_request);
      check.downgraded_from.clear();
      estimate = deps_.generator->Estimate(code_request);
      max_attempts = 1;
      worst = 0;
      reservation = deps_.budget->Reserve(practice, 0, estimate.model);
    }
  }
  check.spent_micros = state->spent_micros;
  check.limit_micros = state->limit_micros;
  check.remaining_micros = state->remaining_micros;
  check.reserved_micros = state->reserved_micros;
  check.estimate_micros = worst;
  check.soft_cap_reached = state->soft_cap_reached;
  check.hard_cap_reached = state->hard_cap_reached;
  check.resets_at = state->resets_at;
  check.model = estimate.model;
  if (!reservation.ok()) {
    check.allowed = false;
    check.message = std::string(reservation.status().message());
    emit.Emit(check);
    return finish(reservation.status());
  }
  check.allowed = true;
  const std::string resets =
      absl::FormatTime("%Y-%m-%d %H:%M %Z", state->resets_at, practice.time_zone);
  if (free_answer) {
    check.message = absl::StrCat(
        state->hard_cap_reached ? "The budget is used up"
                                : "What is left of the budget cannot cover a model call",
        " (", budget::FormatDollars(state->spent_micros), " spent of ",
        budget::FormatDollars(state->limit_micros), ", ",
        budget::FormatDollars(state->reserved_micros), " held by questions in flight; up to ",
        budget::FormatDollars(refused_worst),
        " was needed): the offline planner answers this one at no cost. The budget resets at ",
        resets, ".");
  } else if (planner_answers && worst == 0) {
    check.message = "The offline planner answers at no cost.";
  } else {
    check.message = absl::StrCat("Reserved up to ", budget::FormatDollars(worst), " for ",
                                 estimate.model, sandbox_worst > 0 ? " and sandbox time" : "",
                                 ".");
    if (!check.downgraded_from.empty()) {
      check.message = absl::StrCat(
          "Past the soft cap (", budget::FormatDollars(state->spent_micros), " of ",
          budget::FormatDollars(state->limit_micros), " spent): ", estimate.model,
          " answers instead of ", check.downgraded_from, ". ", check.message);
    }
  }
  emit.Emit(check);

  budget::Spend spend;
  spend.model = estimate.model;
  spend.question_id = question_id;
  int64_t& spent = spend.micros;
  auto settle = [&](absl::Status status) {
    absl::Status settled = spent > 0 || status.ok()
                               ? deps_.budget->Commit(*reservation, spend)
                               : deps_.budget->Release(*reservation);
    if (!settled.ok()) LogError("budget settlement failed: ", settled.ToString());
    turn.cost_micros = spent;
    return finish(status);
  };
  // Sandbox time is charged unless the planner answers past the cap.
  auto charge_sandbox = [&](absl::Duration elapsed) {
    if (free_answer) return;
    spend.sandbox_millis += absl::ToInt64Milliseconds(elapsed);
    spent += budget::SandboxCostMicros(elapsed, options_.sandbox_micros_per_second);
  };

  // 3 and 4. Generate and execute, repairing when the generator can.
  StreamingOutput output(emit);
  int current_attempt = 1;
  // A model service that fails and is retried, and code as a model writes it.
  code_request.on_retry = [&emit, &current_attempt](const std::string& reason) {
    emit.Emit(RetryEvent{current_attempt, reason});
  };
  code_request.on_code_delta = [&emit, &current_attempt](absl::string_view piece) {
    emit.Emit(CodeDeltaEvent{current_attempt, std::string(piece)});
  };
  bool spend_reported = false;
  code_request.on_spend = [&spend, &spend_reported](const codegen::CallSpend& call) {
    spend_reported = true;
    spend.micros += call.micros;
    spend.prompt_tokens += call.prompt_tokens;
    spend.cached_prompt_tokens += call.cached_prompt_tokens;
    spend.completion_tokens += call.completion_tokens;
    if (!call.model.empty()) spend.model = call.model;
  };
  for (int attempt = 1;; ++attempt) {
    current_attempt = attempt;
    spend_reported = false;
    absl::Status cancelled = cancel.Check("before generating code");
    if (!cancelled.ok()) return settle(cancelled);
    if (attempt > 1) RenewSessionClaim(practice.id, session_id, question_id);
    code_request.attempt = attempt;
    auto generated = deps_.generator->Generate(code_request, cancel);
    if (!generated.ok()) return settle(generated.status());
    // A generator that reports its spend call by call (on_spend) has
    // counted it already, including calls whose reply it then refused.
    if (!spend_reported) {
      spent += generated->cost_micros;
      spend.prompt_tokens += generated->prompt_tokens;
      spend.cached_prompt_tokens += generated->cached_prompt_tokens;
      spend.completion_tokens += generated->completion_tokens;
    }
    turn.code = generated->code;
    turn.summary = generated->summary;
    turn.plan = generated->plan;
    emit.Emit(CodeGeneratedEvent{attempt, generated->code, generated->generator,
                                 generated->model, generated->prompt_tokens,
                                 generated->completion_tokens, generated->cost_micros,
                                 generated->summary});

    cancelled = cancel.Check("before running the code");
    if (!cancelled.ok()) return settle(cancelled);
    sandbox::ExecutionRequest exec;
    exec.practice_id = practice.id;
    exec.data_dir = data_dir;
    exec.code = generated->code;
    exec.timeout = options_.execution_timeout;
    auto executed = deps_.executor->Execute(exec, output, cancel);
    if (executed.ok()) {
      charge_sandbox(executed->elapsed);
    } else if (executed.status().code() == absl::StatusCode::kDeadlineExceeded) {
      charge_sandbox(options_.execution_timeout);
    }
    if (!executed.ok()) {
      return settle(absl::Status(executed.status().code(),
                                 absl::StrCat("sandbox: ", executed.status().message())));
    }
    for (sandbox::Chart& chart : executed->charts) {
      for (ArtifactEvent& part : ArtifactChunks(std::move(chart))) emit.Emit(std::move(part));
    }

    if (executed->error.has_value()) {
      std::string failure = DescribeFailure(*executed->error);
      if (attempt < max_attempts) {
        emit.Emit(RetryEvent{attempt + 1, absl::StrCat("the code raised ", failure)});
        code_request.failed_code = generated->code;
        code_request.failure = failure;
        continue;
      }
      // A program that raises is an answer to report, not a failed call.
      FinalAnswerEvent answer;
      answer.text = absl::StrCat("The analysis could not be completed: the code raised ",
                                 failure, ".");
      answer.total_cost_micros = spent;
      answer.code = generated->code;
      answer.attempts = attempt;
      turn.answer = answer.text;
      emit.Emit(std::move(answer));
      return settle(absl::OkStatus());
    }

    FinalAnswerEvent answer;
    answer.result = std::move(executed->result);
    answer.text = executed->answer.empty() ? DefaultAnswerText(answer.result)
                                           : executed->answer;
    answer.total_cost_micros = spent;
    answer.code = generated->code;
    answer.attempts = attempt;
    turn.answer = answer.text;
    turn.summary = absl::StrCat(generated->summary.empty() ? "" : generated->summary + "; ",
                                DescribeShape(answer.result));
    emit.Emit(std::move(answer));
    return settle(absl::OkStatus());
  }
}

}  // namespace vet::pipeline
