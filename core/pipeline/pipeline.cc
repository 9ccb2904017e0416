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
#include "core/common/status_macros.h"
#include "core/data/practice_data.h"
#include "core/data/schema.h"

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

std::string Dollars(int64_t micros) {
  return absl::StrFormat("$%.2f", static_cast<double>(micros) / 1e6);
}

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

absl::Status Pipeline::Ask(const Practice& practice, const AskRequest& request,
                           EventSink& sink, CancellationToken& cancel) {
  const Clock& clock = *deps_.clock;
  Emitter emit(sink, clock);
  VET_ASSIGN_OR_RETURN(absl::CivilDay as_of,
                       ValidateAskRequest(request, options_, clock.Now(), practice.time_zone));
  const std::string as_of_text = absl::FormatCivilTime(as_of);

  // A question cancelled while it waited for a worker does no work at all.
  VET_RETURN_IF_ERROR(cancel.Check("before it started"));

  // 1. Session.
  session::SessionRecord session;
  bool resumed = !request.session_id.empty();
  if (resumed) {
    VET_ASSIGN_OR_RETURN(session, deps_.sessions->Get(practice.id, request.session_id));
  } else {
    VET_ASSIGN_OR_RETURN(session, deps_.sessions->Create(practice.id));
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
  const int max_attempts =
      deps_.generator->CanRepair() ? std::max(1, options_.max_attempts) : 1;
  codegen::CostEstimate estimate = deps_.generator->Estimate(code_request);
  estimate.micros *= max_attempts;
  auto state = deps_.budget->GetState(practice);
  if (!state.ok()) return finish(state.status());
  auto reservation = deps_.budget->Reserve(practice, estimate.micros, estimate.model);
  BudgetCheckEvent check;
  check.spent_micros = state->spent_micros;
  check.limit_micros = state->limit_micros;
  check.remaining_micros = state->remaining_micros;
  check.reserved_micros = state->reserved_micros;
  check.estimate_micros = estimate.micros;
  check.soft_cap_reached = state->soft_cap_reached;
  check.model = estimate.model;
  if (!reservation.ok()) {
    check.allowed = false;
    check.message = std::string(reservation.status().message());
    emit.Emit(check);
    return finish(reservation.status());
  }
  check.allowed = true;
  if (estimate.micros == 0) {
    check.message = state->hard_cap_reached
                        ? absl::StrCat("The budget is used up (", Dollars(state->spent_micros),
                                       " of ", Dollars(state->limit_micros),
                                       "); the offline planner answers at no cost.")
                        : "The offline planner answers at no cost.";
  } else {
    check.message = absl::StrCat("Reserved up to ", Dollars(estimate.micros), " for ",
                                 estimate.model, ".");
  }
  emit.Emit(check);

  int64_t spent = 0;
  auto settle = [&](absl::Status status) {
    budget::Spend spend;
    spend.model = estimate.model;
    spend.micros = spent;
    absl::Status settled = spent > 0 || status.ok()
                               ? deps_.budget->Commit(*reservation, spend)
                               : deps_.budget->Release(*reservation);
    if (!settled.ok()) LogError("budget settlement failed: ", settled.ToString());
    turn.cost_micros = spent;
    return finish(status);
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
  code_request.on_spend = [&spent, &spend_reported](int64_t micros) {
    spend_reported = true;
    spent += micros;
  };
  for (int attempt = 1;; ++attempt) {
    current_attempt = attempt;
    spend_reported = false;
    absl::Status cancelled = cancel.Check("before generating code");
    if (!cancelled.ok()) return settle(cancelled);
    code_request.attempt = attempt;
    auto generated = deps_.generator->Generate(code_request, cancel);
    if (!generated.ok()) return settle(generated.status());
    // A generator that reports its spend call by call (on_spend) has
    // counted it already, including calls whose reply it then refused.
    if (!spend_reported) spent += generated->cost_micros;
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
    if (!executed.ok()) {
      return settle(absl::Status(executed.status().code(),
                                 absl::StrCat("sandbox: ", executed.status().message())));
    }
    for (sandbox::Chart& chart : executed->charts) {
      emit.Emit(ArtifactEvent{chart.name, chart.mime_type, std::move(chart.data)});
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
