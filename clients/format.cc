// Human and JSON formatting for vetctl. Everything the server sends passes
// through SanitizeForTerminal before it reaches a terminal.
#include "clients/format.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace vet::cli {
namespace {

namespace v1 = ::vetanalytics::v1;

constexpr char kNull[] = "—";
constexpr char kDot[] = " · ";

// "1234567" -> "1,234,567". `digits` holds digits only.
std::string GroupThousands(absl::string_view digits) {
  std::string out;
  const size_t n = digits.size();
  for (size_t i = 0; i < n; ++i) {
    if (i > 0 && (n - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string FormatUsd(double usd) {
  if (!std::isfinite(usd)) return FormatDecimal(usd, 2);
  const std::string cents = FormatDecimal(std::fabs(usd), 2);
  if (cents == "0.00") {
    if (usd > 0) return "<$0.01";
    if (usd < 0) return ">-$0.01";
    return "$0.00";
  }
  return absl::StrCat(usd < 0 ? "-$" : "$", cents);
}

// A number without a unit: whole numbers exactly, others with two decimals,
// and small fractions with enough digits to see them (0.0345, not 0.03).
std::string FormatScalar(double value) {
  if (!std::isfinite(value)) return FormatDecimal(value, 0);
  // 1e15: past this a double no longer holds every integer exactly.
  if (value == std::trunc(value) && std::fabs(value) < 1e15) {
    return FormatInteger(static_cast<int64_t>(value));
  }
  if (std::fabs(value) >= 1) return FormatDecimal(value, 2);
  return absl::StrFormat("%.4g", value);
}

// `text` (sanitized, single-line) cut to `width` columns with "…".
std::string Truncate(const std::string& text, int width) {
  if (width < 1 || DisplayWidth(text) <= static_cast<size_t>(width)) {
    return text;
  }
  size_t end = 0;
  int count = 0;
  for (; end < text.size(); ++end) {
    if ((static_cast<unsigned char>(text[end]) & 0xC0) != 0x80) {
      if (count == width - 1) break;
      ++count;
    }
  }
  return absl::StrCat(text.substr(0, end), "…");
}

std::string OneLine(absl::string_view text, int width) {
  return Truncate(SanitizeForTerminal(text, /*keep_newlines=*/false), width);
}

// `text` after `label` padded to `width`; later lines indented to match.
std::string Labeled(absl::string_view label, absl::string_view text,
                    size_t width) {
  std::string pad(width, ' ');
  std::string out = absl::StrCat(
      label, std::string(width - std::min(width, DisplayWidth(label)), ' '));
  bool first = true;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!first) absl::StrAppend(&out, "\n", line.empty() ? "" : pad);
    absl::StrAppend(&out, line);
    first = false;
  }
  return absl::StrCat(out, "\n");
}

std::string Percent(double fraction) {
  return absl::StrCat(FormatDecimal(fraction * 100, 0), "%");
}

}  // namespace

std::string Paint(bool color, Style style, absl::string_view text) {
  if (!color || text.empty()) return std::string(text);
  const char* code = "0";
  switch (style) {
    case Style::kBold:
      code = "1";
      break;
    case Style::kDim:
      code = "2";
      break;
    case Style::kRed:
      code = "31";
      break;
    case Style::kGreen:
      code = "32";
      break;
    case Style::kYellow:
      code = "33";
      break;
    case Style::kCyan:
      code = "36";
      break;
  }
  return absl::StrCat("\033[", code, "m", text, "\033[0m");
}

std::string FormatMoney(int64_t micros) {
  if (micros == 0) return "$0.00";
  const bool negative = micros < 0;
  // Unsigned, so that the magnitude of INT64_MIN fits.
  const uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(micros)
                                      : static_cast<uint64_t>(micros);
  const uint64_t cents = (magnitude + 5000) / 10000;  // Half away from zero.
  if (cents == 0) return negative ? ">-$0.01" : "<$0.01";
  return absl::StrCat(negative ? "-$" : "$",
                      GroupThousands(absl::StrCat(cents / 100)), ".",
                      absl::StrFormat("%02d", cents % 100));
}

std::string FormatInteger(int64_t value) {
  const std::string digits = absl::StrCat(value);
  if (value < 0) return absl::StrCat("-", GroupThousands(digits.substr(1)));
  return GroupThousands(digits);
}

std::string FormatDecimal(double value, int decimals) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "∞" : "-∞";
  std::string s = absl::StrFormat("%.*f", decimals, value);
  bool negative = !s.empty() && s[0] == '-';
  if (negative) s.erase(0, 1);
  // "-0.00" is zero.
  if (s.find_first_not_of("0.") == std::string::npos) negative = false;
  const size_t dot = s.find('.');
  const std::string whole = s.substr(0, dot);
  const std::string fraction = dot == std::string::npos ? "" : s.substr(dot);
  return absl::StrCat(negative ? "-" : "", GroupThousands(whole), fraction);
}

std::string FormatNumber(double value, absl::string_view unit) {
  const std::string lower = absl::AsciiStrToLower(unit);
  if (lower == "usd" || lower == "$") return FormatUsd(value);
  if (lower == "percent" || lower == "%") {
    return absl::StrCat(FormatDecimal(value, 1), "%");
  }
  std::string number = FormatScalar(value);
  if (lower.empty() || lower == "count") return number;
  return absl::StrCat(number, " ", OneLine(unit, 32));
}

std::string FormatBytes(uint64_t bytes) {
  if (bytes < 1024) return absl::StrCat(bytes, " B");
  const double kb = bytes / 1024.0;
  if (kb < 1024) return absl::StrFormat("%.1f KB", kb);
  const double mb = kb / 1024.0;
  if (mb < 1024) return absl::StrFormat("%.1f MB", mb);
  return absl::StrFormat("%.1f GB", mb / 1024.0);
}

size_t DisplayWidth(absl::string_view text) {
  size_t width = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == 0x1b && i + 1 < text.size() && text[i + 1] == '[') {
      // A CSI sequence ends with a byte in 0x40..0x7e.
      i += 2;
      while (i < text.size() && (text[i] < 0x40 || text[i] > 0x7e)) ++i;
      continue;
    }
    if ((c & 0xC0) != 0x80) ++width;
  }
  return width;
}

std::string SanitizeForTerminal(absl::string_view text, bool keep_newlines) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      out += keep_newlines ? '\n' : ' ';
    } else if (c == '\t') {
      out += keep_newlines ? '\t' : ' ';
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      // CRLF: the newline alone will do.
    } else if (c < 0x20) {
      out += '^';
      out += static_cast<char>(c + 64);
    } else if (c == 0x7f) {
      out += "^?";
    } else if (c == 0xC2 && i + 1 < text.size() &&
               static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
      // U+0080..U+009F: C1 controls, which some terminals obey.
      out += '?';
      ++i;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string Indent(absl::string_view text, absl::string_view prefix) {
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    lines.push_back(line.empty() ? "" : absl::StrCat(prefix, line));
  }
  return absl::StrJoin(lines, "\n");
}

std::string FormatTimestamp(const google::protobuf::Timestamp& ts,
                            absl::TimeZone tz) {
  if (ts.seconds() == 0 && ts.nanos() == 0) return kNull;
  const absl::Time t =
      absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
  return absl::FormatTime("%Y-%m-%d %H:%M %Z", t, tz);
}

std::string LayoutColumns(const std::vector<std::vector<std::string>>& rows,
                          const std::vector<bool>& right_align,
                          absl::string_view indent) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (row.size() > widths.size()) widths.resize(row.size(), 0);
    for (size_t c = 0; c < row.size(); ++c) {
      widths[c] = std::max(widths[c], DisplayWidth(row[c]));
    }
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line(indent);
    for (size_t c = 0; c < widths.size(); ++c) {
      const std::string empty;
      const std::string& cell = c < row.size() ? row[c] : empty;
      const std::string pad(widths[c] - DisplayWidth(cell), ' ');
      if (c > 0) line += "  ";
      const bool right = c < right_align.size() && right_align[c];
      absl::StrAppend(&line, right ? pad : "", cell, right ? "" : pad);
    }
    line.erase(line.find_last_not_of(' ') + 1);
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

std::string FormatTable(const v1::Table& table, const FormatOptions& options) {
  const int columns = table.columns_size();
  if (columns == 0) return "(a table without columns)\n";
  const int shown =
      std::min(table.rows_size(), std::max(0, options.max_table_rows));

  // Alignment and decimals per column, from the column type and the values.
  std::vector<bool> right(columns, false);
  std::vector<int> decimals(columns, 0);
  for (int c = 0; c < columns; ++c) {
    bool any_value = false;
    bool all_numeric = true;
    bool all_whole = true;
    double max_abs = 0;
    for (int r = 0; r < shown; ++r) {
      const v1::Row& row = table.rows(r);
      if (c >= row.cells_size()) continue;
      const v1::Cell& cell = row.cells(c);
      switch (cell.value_case()) {
        case v1::Cell::kNumber:
          any_value = true;
          if (std::isfinite(cell.number())) {
            all_whole = all_whole && cell.number() == std::trunc(cell.number());
            max_abs = std::max(max_abs, std::fabs(cell.number()));
          }
          break;
        case v1::Cell::kInteger:
          any_value = true;
          break;
        case v1::Cell::VALUE_NOT_SET:
          break;
        default:
          any_value = true;
          all_numeric = false;
      }
    }
    const v1::Column::Type type = table.columns(c).type();
    right[c] =
        type == v1::Column::NUMBER || type == v1::Column::INTEGER ||
        (type == v1::Column::TYPE_UNSPECIFIED && any_value && all_numeric);
    // Small fractions (ratios) keep four decimals, so 0.0345 is not 0.03.
    decimals[c] = all_whole ? 0 : (max_abs < 1 ? 4 : 2);
  }

  std::vector<std::vector<std::string>> rows;
  rows.reserve(shown + 2);
  std::vector<std::string> header;
  header.reserve(columns);
  for (int c = 0; c < columns; ++c) {
    header.push_back(OneLine(table.columns(c).name(), options.max_cell_width));
  }
  rows.push_back(header);
  for (int r = 0; r < shown; ++r) {
    const v1::Row& row = table.rows(r);
    std::vector<std::string> cells;
    for (int c = 0; c < columns; ++c) {
      if (c >= row.cells_size()) {
        cells.push_back(kNull);
        continue;
      }
      const v1::Cell& cell = row.cells(c);
      switch (cell.value_case()) {
        case v1::Cell::kNumber:
          cells.push_back(FormatDecimal(cell.number(), decimals[c]));
          break;
        case v1::Cell::kInteger:
          cells.push_back(FormatInteger(cell.integer()));
          break;
        case v1::Cell::kText:
          cells.push_back(OneLine(cell.text(), options.max_cell_width));
          break;
        case v1::Cell::kBool:
          cells.push_back(cell.bool_() ? "yes" : "no");
          break;
        case v1::Cell::VALUE_NOT_SET:
          cells.push_back(kNull);
          break;
      }
    }
    rows.push_back(std::move(cells));
  }
  // The rule under the header is as wide as each column.
  std::vector<std::string> rule(columns);
  for (int c = 0; c < columns; ++c) {
    size_t width = 0;
    for (const auto& row : rows) width = std::max(width, DisplayWidth(row[c]));
    rule[c] = std::string(width, '-');
  }
  rows.insert(rows.begin() + 1, rule);
  if (options.color) {
    for (std::string& name : rows[0])
      name = Paint(/*color=*/true, Style::kBold, name);
    for (size_t r = 2; r < rows.size(); ++r) {
      for (std::string& cell : rows[r]) {
        if (cell == kNull) cell = Paint(/*color=*/true, Style::kDim, cell);
      }
    }
  }
  std::string out = LayoutColumns(rows, right, "");

  const int64_t total =
      std::max<int64_t>(table.total_rows(), table.rows_size());
  const int64_t more = total - shown;
  if (more > 0) {
    absl::StrAppend(&out,
                    Paint(options.color, Style::kDim,
                          absl::StrCat("... ", FormatInteger(more),
                                       more == 1 ? " more row" : " more rows")),
                    "\n");
  }
  return out;
}

std::string FormatResult(const v1::Result& result,
                         const FormatOptions& options) {
  switch (result.value_case()) {
    case v1::Result::kNumber:
      return absl::StrCat(Paint(options.color, Style::kBold,
                                FormatNumber(result.number(), result.unit())),
                          "\n");
    case v1::Result::kText: {
      std::string text = SanitizeForTerminal(result.text(), true);
      if (text.empty() || text.back() != '\n') text += '\n';
      return text;
    }
    case v1::Result::kTable:
      return FormatTable(result.table(), options);
    case v1::Result::VALUE_NOT_SET:
      break;
  }
  return "";
}

std::string FormatBudget(const v1::Budget& budget,
                         const FormatOptions& options) {
  const bool color = options.color;
  std::string period =
      budget.period() == "day"     ? "today"
      : budget.period() == "month" ? "this month"
      : budget.period().empty()
          ? "this period"
          : absl::StrCat("this ", OneLine(budget.period(), 16));
  std::vector<std::string> dates;
  if (budget.has_period_start()) {
    dates.push_back(absl::StrCat(
        "since ", FormatTimestamp(budget.period_start(), options.time_zone)));
  }
  if (budget.has_resets_at()) {
    dates.push_back(absl::StrCat(
        "resets ", FormatTimestamp(budget.resets_at(), options.time_zone)));
  }
  std::string out =
      absl::StrCat(Paint(color, Style::kBold, "budget"), " of ",
                   OneLine(budget.practice_id(), 64), ", ", period);
  if (!dates.empty()) {
    absl::StrAppend(&out,
                    Paint(color, Style::kDim,
                          absl::StrCat(" (", absl::StrJoin(dates, ", "), ")")));
  }
  absl::StrAppend(&out, "\n");

  const int64_t limit = budget.limit_micros();
  auto share = [limit](int64_t micros) {
    return limit > 0 ? Percent(static_cast<double>(micros) / limit)
                     : std::string();
  };
  auto cap_micros = [limit](double cap) {
    return static_cast<int64_t>(std::llround(static_cast<double>(limit) * cap));
  };
  std::vector<std::vector<std::string>> rows = {
      {"limit", FormatMoney(limit)},
      {"spent", FormatMoney(budget.spent_micros()),
       share(budget.spent_micros())},
      {"reserved", FormatMoney(budget.reserved_micros())},
      {"remaining", FormatMoney(budget.remaining_micros())},
      {"soft cap", FormatMoney(cap_micros(budget.soft_cap())),
       Percent(budget.soft_cap()),
       budget.soft_cap_reached() ? Paint(color, Style::kYellow, "reached")
                                 : ""},
      {"hard cap", FormatMoney(cap_micros(budget.hard_cap())),
       Percent(budget.hard_cap()),
       budget.hard_cap_reached() ? Paint(color, Style::kRed, "reached") : ""},
  };
  absl::StrAppend(&out, LayoutColumns(rows, {false, true, true, false}, "  "));

  if (!budget.spent_by_model_micros().empty()) {
    // Map order is unspecified: largest spend first, then by name.
    std::vector<std::pair<std::string, int64_t>> by_model(
        budget.spent_by_model_micros().begin(),
        budget.spent_by_model_micros().end());
    std::sort(
        by_model.begin(), by_model.end(), [](const auto& a, const auto& b) {
          return a.second != b.second ? a.second > b.second : a.first < b.first;
        });
    std::vector<std::vector<std::string>> model_rows;
    model_rows.reserve(by_model.size());
    for (const auto& [model, micros] : by_model) {
      model_rows.push_back({OneLine(model, 48), FormatMoney(micros)});
    }
    absl::StrAppend(&out, "  spent by model\n",
                    LayoutColumns(model_rows, {false, true}, "    "));
  }
  return out;
}

std::string FormatDataset(const v1::DatasetDescription& dataset,
                          const FormatOptions& options) {
  const bool color = options.color;
  std::string out = absl::StrCat(Paint(color, Style::kBold, "dataset"), " of ",
                                 OneLine(dataset.practice_id(), 64));
  // Worded as import words it, so the two can be compared; a folder the
  // practices file names has none.
  if (!dataset.dataset_version().empty()) {
    absl::StrAppend(&out, ", version ", OneLine(dataset.dataset_version(), 80));
  }
  if (!dataset.schema_version().empty()) {
    absl::StrAppend(&out, kDot, "schema ",
                    OneLine(dataset.schema_version(), 32));
  }
  if (!dataset.time_zone().empty()) {
    absl::StrAppend(&out, kDot, "time zone ", OneLine(dataset.time_zone(), 64));
  }
  absl::StrAppend(&out, "\n");
  for (const v1::TableDescription& table : dataset.tables()) {
    absl::StrAppend(&out, "\n",
                    Paint(color, Style::kBold, OneLine(table.name(), 64)), "  ",
                    FormatInteger(table.row_count()),
                    table.row_count() == 1 ? " row" : " rows", "\n");
    if (!table.description().empty()) {
      absl::StrAppend(
          &out, "  ",
          Paint(color, Style::kDim, OneLine(table.description(), 200)), "\n");
    }
    std::vector<std::vector<std::string>> rows;
    for (const v1::ColumnDescription& column : table.columns()) {
      std::vector<std::string> notes;
      if (!column.references().empty()) {
        notes.push_back(absl::StrCat("→ ", OneLine(column.references(), 64)));
      }
      if (!column.min_value().empty() || !column.max_value().empty()) {
        notes.push_back(absl::StrCat(OneLine(column.min_value(), 32), " .. ",
                                     OneLine(column.max_value(), 32)));
      }
      if (column.allowed_values_size() > 0) {
        std::vector<std::string> values;
        for (const std::string& value : column.allowed_values()) {
          values.push_back(OneLine(value, 32));
        }
        notes.push_back(Truncate(
            absl::StrCat("one of ", absl::StrJoin(values, ", ")), 100));
      }
      if (column.personal())
        notes.push_back(Paint(color, Style::kYellow, "personal"));
      if (column.optional()) notes.push_back("optional");
      if (!column.description().empty()) {
        notes.push_back(
            Paint(color, Style::kDim, OneLine(column.description(), 120)));
      }
      rows.push_back({OneLine(column.name(), 48), OneLine(column.type(), 16),
                      absl::StrJoin(notes, kDot)});
    }
    absl::StrAppend(&out, LayoutColumns(rows, {}, "  "));
  }
  return out;
}

std::string FormatSession(const v1::Session& session,
                          const FormatOptions& options) {
  const bool color = options.color;
  std::string out =
      absl::StrCat(Paint(color, Style::kBold, "session"), " ",
                   OneLine(session.session_id(), 128), kDot, "practice ",
                   OneLine(session.practice_id(), 64), kDot,
                   session.ended() ? Paint(color, Style::kDim, "ended")
                                   : Paint(color, Style::kGreen, "active"),
                   "\n");
  std::vector<std::vector<std::string>> rows = {
      {"created", FormatTimestamp(session.created_at(), options.time_zone)},
      {"last active",
       FormatTimestamp(session.last_active_at(), options.time_zone)},
      {"turns",
       FormatInteger(std::max(session.turn_count(), session.turns_size()))},
      {"total cost", FormatMoney(session.total_cost_micros())},
  };
  absl::StrAppend(&out, LayoutColumns(rows, {}, "  "));

  for (const v1::Turn& turn : session.turns()) {
    std::vector<std::string> heading = {
        Paint(color, Style::kBold, absl::StrCat("turn ", turn.number())),
        FormatTimestamp(turn.asked_at(), options.time_zone),
        turn.status() == "OK"
            ? Paint(color, Style::kGreen, "OK")
            : Paint(color, Style::kRed, OneLine(turn.status(), 32)),
        FormatMoney(turn.cost_micros())};
    if (!turn.as_of_date().empty()) {
      heading.push_back(absl::StrCat("as of ", OneLine(turn.as_of_date(), 16)));
    }
    absl::StrAppend(&out, "\n", absl::StrJoin(heading, kDot), "\n");
    absl::StrAppend(
        &out, Labeled("  Q", SanitizeForTerminal(turn.question(), true), 5));
    if (!turn.answer().empty()) {
      absl::StrAppend(
          &out, Labeled("  A", SanitizeForTerminal(turn.answer(), true), 5));
    }
    if (!turn.summary().empty()) {
      absl::StrAppend(&out, "     ",
                      Paint(color, Style::kDim, OneLine(turn.summary(), 200)),
                      "\n");
    }
    if (!turn.code().empty()) {
      std::string code = SanitizeForTerminal(turn.code(), true);
      if (code.back() != '\n') code += '\n';
      absl::StrAppend(&out, "  code\n", Indent(code, "      "));
    }
  }
  return out;
}

std::string FormatSessionList(const v1::ListSessionsResponse& response,
                              const FormatOptions& options) {
  const bool color = options.color;
  std::string out;
  if (response.sessions().empty()) {
    out = "no sessions\n";
  } else {
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> header = {
        "SESSION", "LAST ACTIVE", "TURNS", "COST", "STATE", "FIRST QUESTION"};
    for (std::string& name : header) name = Paint(color, Style::kBold, name);
    rows.push_back(std::move(header));
    for (const v1::Session& session : response.sessions()) {
      rows.push_back({
          OneLine(session.session_id(), 64),
          FormatTimestamp(session.last_active_at(), options.time_zone),
          FormatInteger(std::max(session.turn_count(), session.turns_size())),
          FormatMoney(session.total_cost_micros()),
          session.ended() ? "ended" : "active",
          !session.first_question().empty()
              ? OneLine(session.first_question(), 48)
              : (session.turns().empty()
                     ? ""
                     : OneLine(session.turns(0).question(), 48)),
      });
    }
    out = LayoutColumns(rows, {false, false, true, true, false, false}, "");
  }
  if (!response.next_page_token().empty()) {
    absl::StrAppend(
        &out,
        Paint(color, Style::kDim,
              absl::StrCat("more: vetctl sessions --page_token=",
                           OneLine(response.next_page_token(), 256))),
        "\n");
  }
  return out;
}

std::string FormatAuditList(const v1::ListAuditResponse& response,
                            const FormatOptions& options,
                            absl::string_view since) {
  const bool color = options.color;
  std::string out;
  if (response.entries().empty()) {
    out = "no audit entries\n";
  } else {
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> header = {"TIME",    "CALL",    "STATUS", "KEY",
                                       "SESSION", "BY",      "TOKENS", "COST",
                                       "TOOK",    "QUESTION"};
    for (std::string& name : header) name = Paint(color, Style::kBold, name);
    rows.push_back(std::move(header));
    for (const v1::AuditEntry& e : response.entries()) {
      std::string status = OneLine(e.status(), 32);
      if (e.suppressed_refusals() > 0) {
        absl::StrAppend(&status, " (+", FormatInteger(e.suppressed_refusals()),
                        " refused)");
      }
      const int64_t tokens = e.prompt_tokens() + e.completion_tokens();
      std::string by = OneLine(e.generator() == "planner" || e.model().empty()
                                   ? e.generator()
                                   : e.model(),
                               32);
      std::string question;
      if (!e.question().empty()) {
        question = OneLine(e.question(), 48);
      } else if (!e.question_sha256().empty()) {
        question =
            Paint(color, Style::kDim,
                  absl::StrCat("sha256:",
                               OneLine(e.question_sha256(), 64).substr(0, 12)));
      }
      rows.push_back({
          FormatTimestamp(e.time(), options.time_zone),
          OneLine(e.rpc(), 32),
          status,
          e.key_id().empty() ? "-" : OneLine(e.key_id(), 16),
          // The start of a session id is enough to tell sessions apart.
          OneLine(e.session_id(), 64).substr(0, 8),
          by,
          tokens > 0 ? FormatInteger(tokens) : "",
          e.rpc() == "Ask" ? FormatMoney(e.cost_micros()) : "",
          absl::StrCat(FormatInteger(e.duration_ms()), " ms"),
          question,
      });
    }
    out = LayoutColumns(
        rows,
        {false, false, false, false, false, false, true, true, true, false},
        "");
  }
  if (!response.next_page_token().empty()) {
    absl::StrAppend(
        &out,
        Paint(color, Style::kDim,
              absl::StrCat(
                  "more: vetctl audit ",
                  since.empty()
                      ? ""
                      : absl::StrCat("--since=", OneLine(since, 64), " "),
                  "--page_token=", OneLine(response.next_page_token(), 256))),
        "\n");
  }
  return out;
}

std::string JsonQuote(absl::string_view text) {
  std::string out = "\"";
  for (const char ch : text) {
    const unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          absl::StrAppend(&out, absl::StrFormat("\\u%04x", c));
        } else {
          out += ch;
        }
    }
  }
  out += '"';
  return out;
}

std::string JsonLine(const google::protobuf::Message& message) {
  std::string json;
  // Default options: the standard proto3 JSON mapping, on one line.
  const auto status = google::protobuf::util::MessageToJsonString(
      message, &json, google::protobuf::util::JsonPrintOptions());
  if (!status.ok()) {
    return absl::StrCat("{\"error\":", JsonQuote(status.ToString()), "}\n");
  }
  return absl::StrCat(json, "\n");
}

std::string FormatImportReport(const v1::ImportReport& report,
                               const FormatOptions& options) {
  const bool color = options.color;
  std::string out =
      absl::StrCat(Paint(color, Style::kBold, "imported"), " ",
                   OneLine(report.practice_id(), 64), ", version ",
                   OneLine(report.dataset_version(), 80));
  if (report.unchanged()) {
    absl::StrAppend(&out, " ", Paint(color, Style::kDim, "(unchanged)"));
  }
  absl::StrAppend(&out, "\n");
  std::vector<std::vector<std::string>> rows;
  for (const v1::TableRows& table : report.tables()) {
    rows.push_back({OneLine(table.table(), 48), FormatInteger(table.rows()),
                    table.rows() == 1 ? "row" : "rows"});
  }
  absl::StrAppend(&out, LayoutColumns(rows, {false, true, false}, "  "));
  for (const std::string& warning : report.warnings()) {
    absl::StrAppend(&out, Paint(color, Style::kYellow, "⚠"), " ",
                    OneLine(warning, 200), "\n");
  }
  return out;
}

std::string FormatError(absl::string_view code, absl::string_view message,
                        bool json, bool color) {
  if (json) {
    return absl::StrCat("{\"code\":", JsonQuote(code),
                        ",\"message\":", JsonQuote(message), "}\n");
  }
  std::string text = SanitizeForTerminal(
      absl::StripTrailingAsciiWhitespace(message), /*keep_newlines=*/true);
  if (size_t newline = text.find('\n'); newline != std::string::npos) {
    text = absl::StrCat(text.substr(0, newline + 1),
                        Indent(text.substr(newline + 1), "  "));
  }
  return absl::StrCat(
      Paint(color, Style::kRed, absl::StrCat("vetctl: ", code, ":")), " ", text,
      "\n");
}

std::string FormatUsageError(absl::string_view message, bool json, bool color) {
  if (json) return FormatError("USAGE", message, /*json=*/true, color);
  return absl::StrCat(Paint(color, Style::kRed, "vetctl:"), " ",
                      SanitizeForTerminal(message, /*keep_newlines=*/false),
                      "\nRun 'vetctl help' for usage.\n");
}

}  // namespace vet::cli
