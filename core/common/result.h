// The structured result of a question, in plain C++: a number, a text, or a
// table of named, typed columns. The sandbox produces it, the pipeline puts it
// in the FinalAnswer, the session store keeps a summary of it.
#ifndef VET_CORE_COMMON_RESULT_H_
#define VET_CORE_COMMON_RESULT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/types/variant.h"

namespace vet {

// kMonth: a month, written "YYYY-MM".
enum class ColumnType { kNumber, kInteger, kText, kDate, kDateTime, kBool, kMonth };

struct ResultColumn {
  std::string name;
  ColumnType type = ColumnType::kText;
  // The column's own unit: "USD", "percent", "count", "days", "month"...;
  // may be empty.
  std::string unit;
};

// monostate is null. Dates and datetimes are ISO strings.
using Cell = absl::variant<absl::monostate, double, int64_t, std::string, bool>;

struct ResultTable {
  std::vector<ResultColumn> columns;
  std::vector<std::vector<Cell>> rows;
  // Rows the code produced; larger than rows.size() when capped.
  int64_t total_rows = 0;
  // Text cells cut short (they end with "…"), by the sandbox or FitTable.
  int64_t cut_cells = 0;
  // When `rows` is not the whole table: the artifact that holds it as CSV
  // ("result.csv") and how many rows that CSV holds (total_rows unless the
  // CSV's own caps cut it). Empty and 0 when there is none.
  std::string csv_artifact;
  int64_t csv_rows = 0;

  // True when `rows` is not the whole table: rows left out or cells cut.
  bool truncated() const { return total_rows > static_cast<int64_t>(rows.size()) || cut_cells > 0; }
};

struct ResultValue {
  enum class Kind { kNone, kNumber, kText, kTable };
  Kind kind = Kind::kNone;
  double number = 0;
  std::string text;
  ResultTable table;
  // "USD", "percent", "count", ... ; may be empty.
  std::string unit;
};

// How an answer was computed, as the code that computed it states it (the
// planner always does; a model's code may), with what the pipeline adds
// (warnings about the as-of date). Carries no row values.
struct ExplainedPeriod {
  std::string start;  // "YYYY-MM-DD"
  std::string end;
  std::string text;  // "last month (2026-09-01 to 2026-09-30)"
  bool empty() const { return start.empty() && end.empty() && text.empty(); }
};

struct Explanation {
  std::string metric;      // "Revenue"
  std::string definition;  // "sum of invoice_lines.amount by invoiced_on"
  ExplainedPeriod period;
  ExplainedPeriod compared;           // the period compared with, if any
  std::vector<std::string> filters;   // "species feline or canine"
  std::string counted;                // "1,234 invoices"
  std::vector<std::string> excluded;  // "3 invoice lines without a vet"
  std::vector<std::string> notes;     // other definitions' figures, caveats
  std::vector<std::string> warnings;  // "the as-of date is after the data's last day"
  bool empty() const {
    return metric.empty() && definition.empty() && period.empty() && compared.empty() &&
           filters.empty() && counted.empty() && excluded.empty() && notes.empty() &&
           warnings.empty();
  }
};

// A text cell longer than this is cut before it is sent, even when the table
// fits: 4 bytes for each of the sandbox runner's 10,000 characters
// (MAX_CELL_CHARS), so a cell the runner cut already is not cut again, and
// one it did not cut (a document no honest runner wrote) cannot fill an
// answer alone.
inline constexpr int64_t kMaxSentCellBytes = 40000;

// The bytes `row` takes in a message, encoded as protobuf encodes
// vetanalytics.v1.Table.rows (its field tag and length included). Computed
// here so that core can keep a table within one message without the
// generated code; server/convert_test checks it against ByteSizeLong().
int64_t EncodedRowBytes(const std::vector<Cell>& row);

// Shortens `text` to at most `max_bytes` bytes, cut at a UTF-8 character
// boundary and ending with "…" (which counts towards max_bytes; max_bytes
// must be at least 3). Returns whether it cut.
bool CutText(std::string& text, size_t max_bytes);

// Makes `table` fit in `max_row_bytes` of encoded rows (EncodedRowBytes):
// first every text cell longer than `max_cell_bytes` is cut (CutText,
// counted in cut_cells), then rows are dropped from the end until the rest
// fits. total_rows is left as it is, so truncated() says what happened.
void FitTable(ResultTable& table, int64_t max_row_bytes, int64_t max_cell_bytes);

// One line describing the shape, e.g. "table 3x2 (month, revenue)" or
// "number". Carries no values.
std::string DescribeShape(const ResultValue& value);

}  // namespace vet

#endif  // VET_CORE_COMMON_RESULT_H_
