// Field-by-field conversion; the proto mirrors the core structs closely. An
// Ask event passes the size guard (event_bound.h) on its way out.
#include "server/convert.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/common/log.h"
#include "server/event_bound.h"

namespace vet::server {
namespace v1 = ::vetanalytics::v1;

void ToProto(absl::Time time, google::protobuf::Timestamp* out) {
  const int64_t nanos = absl::ToUnixNanos(time);
  int64_t seconds = nanos / 1'000'000'000;
  int64_t rem = nanos % 1'000'000'000;
  if (rem < 0) {
    rem += 1'000'000'000;
    --seconds;
  }
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(rem));
}

absl::StatusOr<absl::Time> FromProto(const google::protobuf::Timestamp& ts,
                                     absl::string_view field) {
  // The range google/protobuf/timestamp.proto allows.
  constexpr int64_t kMinSeconds = -62135596800;  // 0001-01-01T00:00:00Z
  constexpr int64_t kMaxSeconds = 253402300799;  // 9999-12-31T23:59:59Z
  if (ts.seconds() < kMinSeconds || ts.seconds() > kMaxSeconds || ts.nanos() < 0 ||
      ts.nanos() > 999'999'999) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " is not a valid timestamp (seconds ", ts.seconds(), ", nanos ", ts.nanos(),
        "): seconds must be within 0001-01-01..9999-12-31 and nanos "
        "within 0..999999999"));
  }
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

void ToProto(const audit::AuditEntry& e, v1::AuditEntry* out) {
  out->set_id(e.id);
  ToProto(e.at, out->mutable_time());
  out->set_practice_id(e.practice_id);
  out->set_key_id(e.key_id);
  out->set_rpc(e.rpc);
  out->set_session_id(e.session_id);
  out->set_question_id(e.question_id);
  out->set_generator(e.generator);
  out->set_model(e.model);
  out->set_prompt_tokens(e.prompt_tokens);
  out->set_completion_tokens(e.completion_tokens);
  out->set_cost_micros(e.cost_micros);
  out->set_status(absl::StatusCodeToString(e.status));
  out->set_duration_ms(absl::ToInt64Milliseconds(e.duration));
  out->set_question(e.question);
  out->set_question_sha256(e.question_sha256);
  out->set_suppressed_refusals(e.suppressed_refusals);
}

namespace {

v1::Column::Type ColumnTypeToProto(ColumnType type) {
  switch (type) {
    case ColumnType::kNumber:
      return v1::Column::NUMBER;
    case ColumnType::kInteger:
      return v1::Column::INTEGER;
    case ColumnType::kText:
      return v1::Column::TEXT;
    case ColumnType::kDate:
      return v1::Column::DATE;
    case ColumnType::kDateTime:
      return v1::Column::DATETIME;
    case ColumnType::kBool:
      return v1::Column::BOOL;
    case ColumnType::kMonth:
      return v1::Column::MONTH;
  }
  return v1::Column::TYPE_UNSPECIFIED;
}

struct CellVisitor {
  v1::Cell* out;
  void operator()(absl::monostate) const {}
  void operator()(double v) const { out->set_number(v); }
  void operator()(int64_t v) const { out->set_integer(v); }
  void operator()(const std::string& v) const { out->set_text(v); }
  void operator()(bool v) const { out->set_bool_(v); }
};

struct EventVisitor {
  v1::AskEvent* out;
  void operator()(const pipeline::SessionStartedEvent& e) const {
    auto* m = out->mutable_session_started();
    m->set_session_id(e.session_id);
    m->set_resumed(e.resumed);
    m->set_turn(e.turn);
    m->set_as_of_date(e.as_of_date);
    m->set_question_id(e.question_id);
  }
  void operator()(const pipeline::BudgetCheckEvent& e) const {
    auto* m = out->mutable_budget_check();
    m->set_allowed(e.allowed);
    m->set_spent_micros(e.spent_micros);
    m->set_limit_micros(e.limit_micros);
    m->set_remaining_micros(e.remaining_micros);
    m->set_reserved_micros(e.reserved_micros);
    m->set_estimate_micros(e.estimate_micros);
    m->set_soft_cap_reached(e.soft_cap_reached);
    m->set_hard_cap_reached(e.hard_cap_reached);
    m->set_model(e.model);
    m->set_downgraded_from(e.downgraded_from);
    if (e.resets_at != absl::Time()) ToProto(e.resets_at, m->mutable_resets_at());
    m->set_waited_ms(absl::ToInt64Milliseconds(e.waited));
    m->set_message(e.message);
  }
  void operator()(const pipeline::CodeGeneratedEvent& e) const {
    auto* m = out->mutable_code_generated();
    m->set_attempt(e.attempt);
    m->set_code(e.code);
    m->set_generator(e.generator);
    m->set_model(e.model);
    m->set_prompt_tokens(e.prompt_tokens);
    m->set_completion_tokens(e.completion_tokens);
    m->set_cost_micros(e.cost_micros);
    m->set_summary(e.summary);
  }
  void operator()(const pipeline::ExecutionOutputEvent& e) const {
    auto* m = out->mutable_execution_output();
    m->set_stream(e.stream == sandbox::OutputStream::kStdout ? v1::ExecutionOutput::STDOUT
                                                             : v1::ExecutionOutput::STDERR);
    m->set_text(e.text);
  }
  void operator()(const pipeline::ArtifactEvent& e) const {
    auto* m = out->mutable_artifact();
    m->set_name(e.name);
    m->set_mime_type(e.mime_type);
    m->set_data(e.data);
    m->set_offset(e.offset);
    m->set_total_bytes(e.total_bytes);
  }
  void operator()(const pipeline::CodeDeltaEvent& e) const {
    auto* m = out->mutable_code_delta();
    m->set_attempt(e.attempt);
    m->set_text(e.text);
  }
  void operator()(const pipeline::RetryEvent& e) const {
    auto* m = out->mutable_retry();
    m->set_attempt(e.attempt);
    m->set_reason(e.reason);
  }
  void operator()(const pipeline::FinalAnswerEvent& e) const {
    auto* m = out->mutable_final_answer();
    m->set_text(e.text);
    ToProto(e.result, m->mutable_result());
    m->set_total_cost_micros(e.total_cost_micros);
    m->set_code(e.code);
    m->set_attempts(e.attempts);
    if (!e.explanation.empty()) ToProto(e.explanation, m->mutable_explanation());
  }
};

void ToProto(const ExplainedPeriod& period, v1::ExplainedPeriod* out) {
  out->set_start_date(period.start);
  out->set_end_date(period.end);
  out->set_text(period.text);
}

}  // namespace

void ToProto(const Explanation& e, v1::Explanation* out) {
  out->set_metric(e.metric);
  out->set_definition(e.definition);
  if (!e.period.empty()) ToProto(e.period, out->mutable_period());
  if (!e.compared.empty()) ToProto(e.compared, out->mutable_compared());
  for (const std::string& f : e.filters) out->add_filters(f);
  out->set_counted(e.counted);
  for (const std::string& x : e.excluded) out->add_excluded(x);
  for (const std::string& n : e.notes) out->add_notes(n);
  for (const std::string& w : e.warnings) out->add_warnings(w);
}

void ToProto(const ResultValue& result, v1::Result* out) {
  out->set_unit(result.unit);
  switch (result.kind) {
    case ResultValue::Kind::kNone:
      break;
    case ResultValue::Kind::kNumber:
      out->set_number(result.number);
      break;
    case ResultValue::Kind::kText:
      out->set_text(result.text);
      break;
    case ResultValue::Kind::kTable: {
      v1::Table* table = out->mutable_table();
      for (const ResultColumn& c : result.table.columns) {
        v1::Column* col = table->add_columns();
        col->set_name(c.name);
        col->set_type(ColumnTypeToProto(c.type));
        col->set_unit(c.unit);
      }
      for (const auto& row : result.table.rows) {
        v1::Row* r = table->add_rows();
        for (const Cell& cell : row) absl::visit(CellVisitor{r->add_cells()}, cell);
      }
      table->set_total_rows(result.table.total_rows);
      table->set_truncated(result.table.truncated());
      table->set_included_rows(table->rows_size());
      table->set_cut_cells(result.table.cut_cells);
      table->set_csv_artifact(result.table.csv_artifact);
      table->set_csv_rows(result.table.csv_rows);
      break;
    }
  }
}

void ToProto(const pipeline::AskEvent& event, v1::AskEvent* out) {
  out->set_seq(event.seq);
  ToProto(event.timestamp, out->mutable_timestamp());
  absl::visit(EventVisitor{out}, event.payload);
  if (BoundAskEvent(*out)) {
    // Core keeps events small (artifact_chunks.h, FitForSending): this is
    // a broken promise somewhere, worth a line in the log.
    LogWarning("ask: event ", event.seq, " was larger than ", kMaxAskEventBytes,
               " bytes; the server cut it or replaced it with a note");
  }
}

void ToProto(const budget::BudgetState& s, v1::Budget* out) {
  out->set_practice_id(s.practice_id);
  out->set_limit_micros(s.limit_micros);
  out->set_spent_micros(s.spent_micros);
  out->set_reserved_micros(s.reserved_micros);
  out->set_remaining_micros(s.remaining_micros);
  out->set_soft_cap(s.soft_cap);
  out->set_hard_cap(s.hard_cap);
  out->set_soft_cap_reached(s.soft_cap_reached);
  out->set_hard_cap_reached(s.hard_cap_reached);
  out->set_period(s.period);
  ToProto(s.period_start, out->mutable_period_start());
  ToProto(s.resets_at, out->mutable_resets_at());
  for (const auto& [model, micros] : s.spent_by_model_micros) {
    (*out->mutable_spent_by_model_micros())[model] = micros;
  }
}

void ToProto(const data::DatasetDescription& d, v1::DatasetDescription* out) {
  out->set_schema_version(d.schema_version);
  for (const data::TableDescription& t : d.tables) {
    v1::TableDescription* table = out->add_tables();
    table->set_name(t.name);
    table->set_description(t.description);
    table->set_row_count(t.row_count);
    for (const data::ColumnDescription& c : t.columns) {
      v1::ColumnDescription* col = table->add_columns();
      col->set_name(c.spec.name);
      col->set_type(std::string(data::FieldTypeName(c.spec.type)));
      col->set_description(c.spec.description);
      col->set_personal(c.spec.personal);
      col->set_optional(c.spec.optional);
      col->set_references(c.spec.references);
      for (const std::string& v : c.spec.allowed_values) col->add_allowed_values(v);
      col->set_min_value(c.min_value);
      col->set_max_value(c.max_value);
    }
  }
}

void ToProto(const session::SessionRecord& record, bool summary_only, v1::Session* out) {
  out->set_session_id(record.id);
  out->set_practice_id(record.practice_id);
  ToProto(record.created_at, out->mutable_created_at());
  ToProto(record.last_active_at, out->mutable_last_active_at());
  out->set_ended(record.ended);
  int64_t total = 0;
  for (const session::TurnRecord& t : record.turns) {
    total += t.cost_micros;
    if (summary_only) continue;
    v1::Turn* turn = out->add_turns();
    turn->set_number(t.number);
    turn->set_question(t.question);
    turn->set_as_of_date(t.as_of_date);
    turn->set_code(t.code);
    turn->set_answer(t.answer);
    turn->set_status(absl::StatusCodeToString(t.status));
    turn->set_cost_micros(t.cost_micros);
    ToProto(t.asked_at, turn->mutable_asked_at());
    turn->set_summary(t.summary);
  }
  out->set_total_cost_micros(total);
  out->set_turn_count(static_cast<int>(record.turns.size()));
  if (!record.turns.empty()) {
    const std::string& first = record.turns.front().question;
    // At most 200 characters, cut at a character boundary.
    size_t end = 0;
    for (int chars = 0; end < first.size() && chars < 200; ++chars) {
      ++end;
      while (end < first.size() && (static_cast<unsigned char>(first[end]) & 0xC0) == 0x80) ++end;
    }
    out->set_first_question(first.substr(0, end));
  }
}

}  // namespace vet::server
