// The import of a practice's five CSV exports: reads each file streaming,
// checks it against the canonical schema (DATA_SCHEMA.md) and builds typed,
// dictionary-encoded columns, or refuses the import with a list of problems
// that name table, line, column and value so a practice manager can fix the
// export. An optional JSON column mapping renames export columns and gives
// date formats for exports that do not write ISO dates.
#ifndef VET_CORE_DATA_IMPORT_VALIDATOR_H_
#define VET_CORE_DATA_IMPORT_VALIDATOR_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "core/data/typed_table.h"

namespace vet::data {

// How one practice's exports differ from the canonical schema.
struct ColumnMapping {
  // Per table: export column name -> canonical column name. Export names are
  // matched case-insensitively after trimming, like canonical names.
  std::map<std::string, std::map<std::string, std::string>> columns;
  // Per table and canonical date/datetime column: an absl::ParseTime format
  // such as "%d/%m/%Y" or "%m/%d/%Y %H:%M", used instead of ISO 8601.
  std::map<std::string, std::map<std::string, std::string>> formats;
};

// Parses a mapping file:
//   {"tables": {"clients": {"columns": {"Client ID": "client_id"},
//                           "formats": {"created_on": "%d/%m/%Y"}}}}
// Every key is optional. Returns kInvalidArgument naming the JSON path that
// is wrong ("$.tables.clients.columns.Client ID: ...") for malformed JSON, a
// value of the wrong type, an unknown key, table or canonical column, a
// canonical column named twice, or a format on a column that is not a date
// or datetime.
absl::StatusOr<ColumnMapping> ParseColumnMapping(absl::string_view json);

struct ImportOptions {
  // The practice's current day. Required: dates and datetimes after it (with
  // one day of slack for time zones) are problems, except the starts_at and
  // booked_at of scheduled appointments.
  absl::CivilDay as_of;
  // At most this many problems are kept and listed in the error message; the
  // rest are only counted. Each kept problem is under 1 KiB (values are
  // shortened, messages never quote a whole field).
  int max_problems = 20;
  // Columns a file may have beyond its table's schema columns (ignored with
  // a warning). A record, header included, with more fields than that is
  // refused at the first field too many (CsvReader::Options::max_fields):
  // the rest of the record and of the file are not read.
  int max_extra_columns = 64;
  // The memory the import may hold, as accounted (see "Memory" below); past
  // it the import stops where it is and is refused. The default fits a
  // 1 GiB upload shaped like the demo exports, which account 1.3 GiB for
  // 745 MiB of CSV (docs/BENCHMARKS.md, "Import memory").
  int64_t max_memory_bytes = int64_t{2} << 30;
};

// One reason to refuse an import. `line` is the 1-based physical line of the
// file (1 is the header; 0 when the problem is about the whole file);
// `column` is the canonical column name, or empty. `value` is the offending
// value, truncated to 60 characters with bytes that are not printable UTF-8
// escaped as \xNN, and withheld for personal-data columns.
struct ImportProblem {
  std::string table;
  int64_t line = 0;
  std::string column;
  std::string value;
  std::string message;
};

struct ImportResult {
  // The five tables in schema order (CanonicalSchema()).
  std::vector<TypedTable> tables;
  // Table name -> number of data rows.
  std::map<std::string, int64_t> rows;
  // Things that do not stop the import: ignored extra columns, empty tables,
  // refund lines.
  std::vector<std::string> warnings;
};

struct ImportOutcome {
  // Complete only when total_problems == 0.
  ImportResult result;
  // The first ImportOptions::max_problems problems, in the order found
  // (tables in schema order, lines in file order).
  std::vector<ImportProblem> problems;
  int64_t total_problems = 0;
  // The memory account ran out: the import stopped at the line its last
  // problem names, and the tables after it were not read.
  bool memory_limit_reached = false;
  // The most the account held at once, in bytes.
  int64_t peak_memory_bytes = 0;
};

// Validates and loads the tables. `files` maps each of the five table names
// to the path of its CSV file; a table without a file, an unreadable file and
// a name that is not a table are problems. Never fails otherwise: every
// defect in the data is a problem in the outcome. Blocking I/O; thread-safe.
//
// Memory: whatever the shape of the files (one endless record, a record of
// commas, millions of tiny or malformed rows, long quoted fields with line
// breaks, millions of distinct strings, millions of problems), the import
// holds no more than ImportOptions::max_memory_bytes of what grows with the
// input, plus under 1 MiB of fixed state and a transient copy of one field.
// Charged against that limit before it is allocated:
//   - the CSV reader of the table being read, at its worst case (csv.h:
//     64 KiB + 2 x 16 MiB), whatever the file holds;
//   - every column's storage, at capacity: per row, 9 bytes in an int,
//     date, datetime or decimal column and 5 in the others; columns grow by
//     half, so at most a third of it is unused, and the block a growing
//     vector leaves is counted while it is still held;
//   - each distinct string of an id, ref or text column twice (the
//     dictionary and its index: 32 bytes each, plus the characters past 15),
//     and the index's slots (41 bytes, at most 8/7 x 2 per string);
//   - per id, the 4 bytes that find its row; per ref column, a copy of the
//     referenced table's ids; in invoice_lines, 9 bytes (in the 8/7 x 2
//     slots of a hash set) per line to find duplicate line numbers;
// A record with the wrong number of fields is not stored: only its id, so
// that rows referring to it add no problems, and not even that once
// max_problems problems are listed (the count may then include rows that
// refer to it). The problem list keeps
// ImportOptions::max_problems problems; the others are only counted. Fields
// per record are capped (max_extra_columns), so an empty field costs
// nothing past the cap. So an import that passes holds
// about rows x (columns' row bytes) + its strings, as accounted in
// ImportOutcome::peak_memory_bytes; one that would need more is refused
// (ValidateImport: kResourceExhausted) at the line where it ran out.
ImportOutcome ValidateImportDetailed(const std::map<std::string, std::string>& files,
                                     const ColumnMapping& mapping, const ImportOptions& options);

// As ValidateImportDetailed(), but any problem makes it return
// kInvalidArgument whose message lists at most max_problems problems, one a
// line ("<table> line <n>, column <c>, value \"<v>\": <what>"), then
// "... and N more problems" when some were left out; kResourceExhausted,
// with the same list, when the import needs more memory than
// ImportOptions::max_memory_bytes.
absl::StatusOr<ImportResult> ValidateImport(const std::map<std::string, std::string>& files,
                                            const ColumnMapping& mapping,
                                            const ImportOptions& options);

// The message ValidateImport() builds from an outcome with problems.
std::string FormatImportProblems(const ImportOutcome& outcome);

}  // namespace vet::data

#endif  // VET_CORE_DATA_IMPORT_VALIDATOR_H_
