// DescribeDataset: one streaming pass over each table's CSV, keeping only
// counts and the range of date columns, so no value of any other column
// (personal or not) can end up in the description.
#include "core/data/dataset.h"

#include <sys/stat.h>

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "core/common/log.h"
#include "core/common/status_macros.h"
#include "core/data/csv.h"

namespace vet::data {
namespace {

bool IsDigits(absl::string_view s, size_t pos, size_t n) {
  for (size_t i = pos; i < pos + n; ++i) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

int TwoDigits(absl::string_view s, size_t pos) { return (s[pos] - '0') * 10 + (s[pos + 1] - '0'); }

// YYYY-MM-DD with a plausible month and day.
bool IsIsoDate(absl::string_view s) {
  if (s.size() < 10 || s[4] != '-' || s[7] != '-') return false;
  if (!IsDigits(s, 0, 4) || !IsDigits(s, 5, 2) || !IsDigits(s, 8, 2)) return false;
  int month = TwoDigits(s, 5);
  int day = TwoDigits(s, 8);
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

bool IsDate(absl::string_view s) { return s.size() == 10 && IsIsoDate(s); }

// YYYY-MM-DDTHH:MM or YYYY-MM-DDTHH:MM:SS; a space is tolerated for the T.
bool IsDateTime(absl::string_view s) {
  if (s.size() != 16 && s.size() != 19) return false;
  if (!IsIsoDate(s) || (s[10] != 'T' && s[10] != ' ')) return false;
  if (s[13] != ':' || !IsDigits(s, 11, 2) || !IsDigits(s, 14, 2)) return false;
  if (TwoDigits(s, 11) > 23 || TwoDigits(s, 14) > 59) return false;
  if (s.size() == 19) {
    if (s[16] != ':' || !IsDigits(s, 17, 2) || TwoDigits(s, 17) > 60) return false;
  }
  return true;
}

// Orders ISO dates and datetimes chronologically: byte order, except that
// the date-time separator ('T' or ' ') does not count.
bool ChronologicallyBefore(absl::string_view a, absl::string_view b) {
  if (a.size() > 10 && b.size() > 10) {
    int c = a.substr(0, 10).compare(b.substr(0, 10));
    if (c != 0) return c < 0;
    return a.substr(11) < b.substr(11);
  }
  return a < b;
}

// A schema column found in the file: where it is and what is tracked.
struct TrackedColumn {
  size_t field = 0;
  const ColumnSpec* spec = nullptr;
  ColumnDescription* out = nullptr;
};

absl::StatusOr<TableDescription> DescribeTable(const TableSpec& table, const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return absl::NotFoundError(absl::StrCat("practice has no data yet: ", path, " missing"));
  }
  VET_ASSIGN_OR_RETURN(std::unique_ptr<CsvReader> reader, CsvReader::Open(path));

  TableDescription desc;
  desc.name = table.name;
  desc.description = table.description;
  desc.columns.reserve(table.columns.size());
  for (const ColumnSpec& spec : table.columns) {
    ColumnDescription c;
    c.spec = spec;
    c.present = false;
    desc.columns.push_back(std::move(c));
  }

  VET_ASSIGN_OR_RETURN(bool has_header, reader->Next());
  if (!has_header) return reader->DataLossAt(1, "empty file: no header row");
  const int64_t header_line = reader->line();
  const std::vector<absl::string_view>& header = reader->fields();
  const size_t field_count = header.size();

  // Only date and datetime columns are looked at beyond the header.
  std::vector<TrackedColumn> dated;
  std::vector<std::string> unknown;
  for (size_t i = 0; i < header.size(); ++i) {
    absl::string_view name = absl::StripAsciiWhitespace(header[i]);
    const ColumnSpec* spec = table.FindColumn(name);
    if (spec == nullptr) {
      unknown.emplace_back(name);
      continue;
    }
    ColumnDescription& out = desc.columns[static_cast<size_t>(spec - table.columns.data())];
    if (out.present) {
      return reader->DataLossAt(header_line,
                                absl::StrCat("column '", spec->name, "' appears twice"));
    }
    out.present = true;
    if (spec->type == FieldType::kDate || spec->type == FieldType::kDateTime) {
      dated.push_back(TrackedColumn{i, spec, &out});
    }
  }
  for (const ColumnDescription& c : desc.columns) {
    if (!c.present && !c.spec.optional) {
      return reader->DataLossAt(header_line,
                                absl::StrCat("missing required column '", c.spec.name, "'"));
    }
  }
  if (!unknown.empty()) {
    LogWarning(path, ": ignoring ", unknown.size(),
               " column(s) not in the schema: ", absl::StrJoin(unknown, ", "));
  }

  int64_t rows = 0;
  while (true) {
    VET_ASSIGN_OR_RETURN(bool more, reader->Next());
    if (!more) break;
    const std::vector<absl::string_view>& fields = reader->fields();
    if (fields.size() != field_count) {
      return reader->DataLossAt(
          reader->line(), absl::StrCat("expected ", field_count, " fields, found ", fields.size()));
    }
    ++rows;
    for (const TrackedColumn& t : dated) {
      absl::string_view v = fields[t.field];
      if (v.empty()) continue;
      const bool is_date = t.spec->type == FieldType::kDate;
      if (is_date ? !IsDate(v) : !IsDateTime(v)) {
        return reader->DataLossAt(
            reader->line(),
            absl::StrCat("column '", t.spec->name, "' is not a ",
                         is_date ? "date (YYYY-MM-DD)" : "datetime (YYYY-MM-DDTHH:MM[:SS])"));
      }
      std::string& lo = t.out->min_value;
      std::string& hi = t.out->max_value;
      if (lo.empty() || ChronologicallyBefore(v, lo)) lo.assign(v.data(), v.size());
      if (hi.empty() || ChronologicallyBefore(hi, v)) hi.assign(v.data(), v.size());
    }
  }
  desc.row_count = rows;
  return desc;
}

}  // namespace

const TableDescription* DatasetDescription::FindTable(absl::string_view name) const {
  for (const TableDescription& t : tables) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

absl::StatusOr<DatasetDescription> DescribeDataset(const std::string& data_dir) {
  struct stat st;
  if (::stat(data_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::NotFoundError(absl::StrCat("practice has no data yet: ", data_dir, " missing"));
  }
  DatasetDescription dataset;
  for (const TableSpec& table : CanonicalSchema()) {
    VET_ASSIGN_OR_RETURN(TableDescription desc,
                         DescribeTable(table, absl::StrCat(data_dir, "/", table.name, ".csv")));
    dataset.tables.push_back(std::move(desc));
  }
  return dataset;
}

}  // namespace vet::data
