// Human formatting for vetctl: money, numbers, result tables, and the
// Budget, DatasetDescription, Session and ListSessionsResponse messages; plus
// the one-line JSON form of any message and of an error. Pure functions of
// their arguments: no I/O, no clock, no global state; thread-compatible.
//
// Money: integer micro-dollars are shown in dollars and cents, rounded half
// away from zero ("$1,234.56"). A non-zero amount that rounds to no cents is
// shown as "<$0.01" rather than "$0.00", so that "it cost something" stays
// visible; zero is "$0.00".
#ifndef VET_CLIENTS_FORMAT_H_
#define VET_CLIENTS_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "vetanalytics/v1/analytics.pb.h"

namespace vet::cli {

struct FormatOptions {
  // ANSI colors and bold; only for a terminal.
  bool color = false;
  // For timestamps.
  absl::TimeZone time_zone = absl::UTCTimeZone();
  // Table rows shown; the rest are counted in "... N more rows".
  int max_table_rows = 50;
  // Longer text cells are cut with "…".
  int max_cell_width = 48;
};

enum class Style { kBold, kDim, kRed, kGreen, kYellow, kCyan };

// `text` wrapped in the ANSI sequence for `style` when `color`, else as is.
std::string Paint(bool color, Style style, absl::string_view text);

// Micro-dollars as "$1,234.56", "<$0.01", "$0.00" or "-$3.00".
std::string FormatMoney(int64_t micros);
// 1234567 -> "1,234,567".
std::string FormatInteger(int64_t value);
// 1234.567, 2 -> "1,234.57". NaN and infinities as "NaN", "∞", "-∞".
std::string FormatDecimal(double value, int decimals);
// A result number with its unit: "USD" -> "$1,234.56"; "percent" (the value
// is already in percent: 12.3 means 12.3%) -> "12.3%"; "count" or no unit ->
// "1,234" (or up to 4 significant digits below 1); another unit is appended:
// "3.25 days".
std::string FormatNumber(double value, absl::string_view unit);
// 1536 -> "1.5 KB".
std::string FormatBytes(uint64_t bytes);

// Terminal columns taken by UTF-8 `text`: one per code point, ANSI CSI
// sequences excluded (wide East Asian characters are counted as one).
size_t DisplayWidth(absl::string_view text);
// Server-provided text made safe for a terminal: control characters other
// than tab (and newline, when `keep_newlines`) become "^X" (newlines become
// spaces otherwise), so neither a model nor generated code can move the
// cursor or recolor the screen; C1 controls become "?".
std::string SanitizeForTerminal(absl::string_view text, bool keep_newlines);
// Every line of `text` prefixed with `prefix` (empty lines stay empty).
std::string Indent(absl::string_view text, absl::string_view prefix);

// "2026-09-30 14:05 BST"; "—" for an unset timestamp.
std::string FormatTimestamp(const google::protobuf::Timestamp& ts,
                            absl::TimeZone tz);

// Rows of cells laid out in columns two spaces apart, right-aligned where
// `right_align[i]`, each line prefixed with `indent`, no trailing spaces.
// Cells may hold ANSI sequences. Ends with a newline unless empty.
std::string LayoutColumns(const std::vector<std::vector<std::string>>& rows,
                          const std::vector<bool>& right_align,
                          absl::string_view indent);

// A result table: a header, a rule, at most options.max_table_rows rows, then
// "... N more rows" counting both undisplayed and server-capped rows
// (Table.total_rows). NUMBER and INTEGER columns are right-aligned with
// thousands separators (NUMBER columns share one number of decimals: none
// when every value is whole); null cells show "—"; BOOL "yes"/"no".
std::string FormatTable(const vetanalytics::v1::Table& table,
                        const FormatOptions& options);
// A Result: the number with its unit, the text, or the table; "" if unset.
std::string FormatResult(const vetanalytics::v1::Result& result,
                         const FormatOptions& options);

std::string FormatBudget(const vetanalytics::v1::Budget& budget,
                         const FormatOptions& options);
std::string FormatDataset(const vetanalytics::v1::DatasetDescription& dataset,
                          const FormatOptions& options);
std::string FormatSession(const vetanalytics::v1::Session& session,
                          const FormatOptions& options);
std::string FormatSessionList(
    const vetanalytics::v1::ListSessionsResponse& response,
    const FormatOptions& options);
// One row per audit entry, newest first as the server sends them: time,
// call, status (with refusals not recorded one by one), key id, session,
// generator or model, tokens, cost, duration, and the question's text or
// the start of its SHA-256; then, if there is a next page, the vetctl
// command that shows it (with `since`, as given, when not empty).
std::string FormatAuditList(const vetanalytics::v1::ListAuditResponse& response,
                            const FormatOptions& options,
                            absl::string_view since = "");
// The dataset version ("unchanged" when the practice already had exactly
// this data), the rows per table aligned, then the warnings.
std::string FormatImportReport(const vetanalytics::v1::ImportReport& report,
                               const FormatOptions& options);

// `message` in the proto3 JSON mapping with default options (lowerCamelCase
// names, int64 as strings, bytes as base64) on one line, plus "\n". Cannot
// fail for vetanalytics.v1 messages (they hold no Any); if conversion fails
// anyway the line is {"error": "..."}.
std::string JsonLine(const google::protobuf::Message& message);
// `text` as a JSON string literal, quotes included.
std::string JsonQuote(absl::string_view text);

// An error for stderr, newline included: "vetctl: CODE: message", or with
// `json` {"code": "CODE", "message": "message"}. A multi-line message (an
// import's validation problems, one per line) keeps its lines, indented.
std::string FormatError(absl::string_view code, absl::string_view message,
                        bool json, bool color);
// A usage error for stderr: "vetctl: message" and a pointer to `vetctl
// help`, or with `json` {"code": "USAGE", "message": "message"}.
std::string FormatUsageError(absl::string_view message, bool json, bool color);

}  // namespace vet::cli

#endif  // VET_CLIENTS_FORMAT_H_
