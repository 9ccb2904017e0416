// Composes the pandas program for a QueryPlan from the semantic layer's
// parts: a select() of the period's rows with the filters, a measure() of the
// metric from its components, a breakdown or comparison, an `answer` sentence
// computed from the values, and a chart. The program uses only pandas, numpy
// and matplotlib, reads the DataFrames named after the tables (clients,
// patients, staff, appointments, invoice_lines) and sets `result`, `unit` and
// `answer` (sandbox/executor.h).
#ifndef VET_CORE_CODEGEN_PANDAS_WRITER_H_
#define VET_CORE_CODEGEN_PANDAS_WRITER_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "core/codegen/question_parser.h"

namespace vet::codegen {

// `plan` must be one ParseQuestion or DeserializePlan produced (ids known,
// periods set for dated metrics, the as-of day for metrics that use it);
// anything else is a programming error.
std::string WritePandas(const QueryPlan& plan);

// One line, no values: "revenue by month, 2026-07-01..2026-09-30".
std::string SummarizePlan(const QueryPlan& plan);

// "table.column" names the program reads, to check against a dataset.
std::vector<std::string> ColumnsRead(const QueryPlan& plan);

// `s` as a double-quoted Python string literal, safe for any bytes.
std::string PyStr(absl::string_view s);

}  // namespace vet::codegen

#endif  // VET_CORE_CODEGEN_PANDAS_WRITER_H_
