// BoundAskEvent. Core already keeps events small, so this runs its cutting
// only for an event that is over the bound; each step is tried in order of
// how little it takes away, and the size is measured again after it.
#include "server/event_bound.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "core/common/result.h"
#include "google/protobuf/io/coded_stream.h"

namespace vet::server {
namespace {

namespace v1 = ::vetanalytics::v1;
using ::google::protobuf::io::CodedOutputStream;

// Room left for everything but the one long text of an event: seq,
// timestamp, tags and short fields.
constexpr size_t kHeadroomBytes = 16 << 10;
// Names, models, units: short by nature.
constexpr size_t kMaxNameBytes = 256;

bool Fits(const v1::AskEvent& event, size_t max_bytes) { return event.ByteSizeLong() <= max_bytes; }

// Drops rows from the end of `table` until `event` fits, or no row is left.
void DropRowsFromTheEnd(v1::AskEvent& event, v1::Table& table, size_t max_bytes) {
  const size_t size = event.ByteSizeLong();
  if (size <= max_bytes) return;
  const size_t excess = size - max_bytes;
  // A row takes its tag, its length and itself; removing bytes can only
  // shorten the enclosing messages' lengths, so the sum is enough.
  size_t removed = 0;
  int keep = table.rows_size();
  while (keep > 0 && removed < excess) {
    const size_t row = table.rows(keep - 1).ByteSizeLong();
    removed += 1 + CodedOutputStream::VarintSize64(row) + row;
    --keep;
  }
  table.mutable_rows()->DeleteSubrange(keep, table.rows_size() - keep);
}

void BoundTable(v1::AskEvent& event, v1::Table& table, size_t max_bytes) {
  int64_t cut = 0;
  for (v1::Row& row : *table.mutable_rows()) {
    for (v1::Cell& cell : *row.mutable_cells()) {
      if (cell.has_text() &&
          CutText(*cell.mutable_text(), static_cast<size_t>(kMaxSentCellBytes))) {
        ++cut;
      }
    }
  }
  table.set_cut_cells(table.cut_cells() + cut);
  DropRowsFromTheEnd(event, table, max_bytes);
  // A thousand columns with long names: no row fits, nor the columns.
  if (!Fits(event, max_bytes)) table.clear_columns();
  table.set_truncated(table.truncated() || table.cut_cells() > 0 ||
                      table.rows_size() < table.total_rows());
  table.set_included_rows(table.rows_size());
}

void BoundFinalAnswer(v1::AskEvent& event, size_t max_bytes) {
  v1::FinalAnswer& answer = *event.mutable_final_answer();
  // The sentence is 20,000 characters at most from an honest sandbox
  // (80 KB); the code is what a model wrote; neither should crowd out the
  // result, which the table's own cutting handles below.
  CutText(*answer.mutable_text(), max_bytes / 8);
  CutText(*answer.mutable_code(), max_bytes / 4);
  if (!answer.has_result()) return;
  v1::Result& result = *answer.mutable_result();
  CutText(*result.mutable_unit(), kMaxNameBytes);
  if (result.has_text()) CutText(*result.mutable_text(), max_bytes / 2);
  if (result.has_table() && !Fits(event, max_bytes)) {
    BoundTable(event, *result.mutable_table(), max_bytes);
  }
  if (Fits(event, max_bytes)) return;
  // Only the shares above cannot pass the bound: a client must get its
  // answer, so the result goes rather than the event.
  answer.clear_result();
  answer.clear_code();
  answer.mutable_text()->append(" (The result was too large to send.)");
}

void CutLongTexts(v1::AskEvent& event, size_t max_bytes) {
  const size_t budget = max_bytes - kHeadroomBytes;
  switch (event.event_case()) {
    case v1::AskEvent::kExecutionOutput:
      CutText(*event.mutable_execution_output()->mutable_text(), budget);
      break;
    case v1::AskEvent::kCodeDelta:
      CutText(*event.mutable_code_delta()->mutable_text(), budget);
      break;
    case v1::AskEvent::kCodeGenerated: {
      v1::CodeGenerated& code = *event.mutable_code_generated();
      CutText(*code.mutable_summary(), kHeadroomBytes / 4);
      CutText(*code.mutable_generator(), kMaxNameBytes);
      CutText(*code.mutable_model(), kMaxNameBytes);
      CutText(*code.mutable_code(), budget);
      break;
    }
    case v1::AskEvent::kRetry:
      CutText(*event.mutable_retry()->mutable_reason(), budget);
      break;
    case v1::AskEvent::kBudgetCheck: {
      v1::BudgetCheck& check = *event.mutable_budget_check();
      CutText(*check.mutable_model(), kMaxNameBytes);
      CutText(*check.mutable_downgraded_from(), kMaxNameBytes);
      CutText(*check.mutable_message(), budget);
      break;
    }
    case v1::AskEvent::kFinalAnswer:
      BoundFinalAnswer(event, max_bytes);
      break;
    default:
      break;
  }
}

// What was left out, for people: the event's kind, its size, and for an
// artifact its name and which bytes.
void ReplaceWithNote(v1::AskEvent& event, size_t size, size_t max_bytes) {
  const auto* field = v1::AskEvent::GetDescriptor()->FindFieldByNumber(event.event_case());
  std::string what = field != nullptr ? field->name() : "unknown";
  if (event.has_artifact()) {
    std::string name = event.artifact().name();
    CutText(name, kMaxNameBytes);
    absl::StrAppend(
        &what, " ", name, " (bytes ", event.artifact().offset(), " to ",
        event.artifact().offset() + static_cast<int64_t>(event.artifact().data().size()), " of ",
        event.artifact().total_bytes(), ")");
  }
  const std::string note =
      absl::StrCat("note: the server left out an event (", what, ") of ", size,
                   " bytes: an event may take at most ", max_bytes, " bytes\n");
  event.clear_event();
  v1::ExecutionOutput& output = *event.mutable_execution_output();
  output.set_stream(v1::ExecutionOutput::STDERR);
  output.set_text(note);
}

}  // namespace

bool BoundAskEvent(v1::AskEvent& event, size_t max_bytes) {
  const size_t size = event.ByteSizeLong();
  if (size <= max_bytes) return false;
  CutLongTexts(event, max_bytes);
  if (!Fits(event, max_bytes)) ReplaceWithNote(event, size, max_bytes);
  return true;
}

}  // namespace vet::server
